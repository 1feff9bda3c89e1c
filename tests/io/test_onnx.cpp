// ONNX export: every layer kind, and a dense and a CNN model, exported, checked by the ONNX checker
// (Debian's python3-onnx) and run through onnxruntime (tests/onnx, see scripts/install-deps.sh),
// whose outputs must match Neurona's on the same inputs to 1e-5 (relative, absolute below 1).
// Without those tools the tool tests are skipped with the install hint.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "io_test_util.hpp"
#include "neurona/app/config.hpp"
#include "neurona/core/random.hpp"
#include "neurona/data/npy.hpp"
#include "neurona/io/files.hpp"
#include "neurona/io/onnx.hpp"
#include "neurona/nn/image_layers.hpp"
#include "neurona/nn/layers.hpp"
#include "neurona/nn/registry.hpp"
#include "neurona/nn/zoo.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

namespace fs = std::filesystem;

struct LayerSpec {
  std::string row;
  std::map<std::string, std::string> options;
};
struct Case {
  std::string name;
  std::vector<int64_t> sample;  // input shape without the batch
  std::vector<LayerSpec> layers;
  std::shared_ptr<nn::Sequential> net = nullptr;  // a model built elsewhere (a config's), instead of layers
};

// Built from the rows of nn::layers() with their initialisation, then random normalisation
// parameters, running statistics and PReLU slopes (which start as constants).
std::shared_ptr<nn::Sequential> build(const Case& c, Generator& gen) {
  if (c.net) return c.net;
  auto net = std::make_shared<nn::Sequential>();
  std::vector<int64_t> shape = c.sample;
  for (const auto& l : c.layers) {
    const auto& e = nn::layers().get(l.row);
    auto m = e.make(e.options_from(l.options), nn::LayerInput{shape});
    net->add(m);
    std::vector<int64_t> batch = {2};
    batch.insert(batch.end(), shape.begin(), shape.end());
    nn::EvalGuard eval(*m);
    const Tensor out = m->forward(Tensor::zeros(Shape(batch)));
    shape.clear();
    for (int64_t i = 1; i < out.dim(); ++i) shape.push_back(out.size(i));
  }
  for (auto& [name, t] : net->named_parameters()) {
    const auto& layer = (*net)[std::stoul(name.substr(0, name.find('.')))];
    if (layer->kind().find("norm") == std::string::npos && layer->kind() != "prelu") continue;
    Tensor r = Tensor::uniform(t.shape(), -1.f, 1.f, &gen);
    std::copy(r.data(), r.data() + r.numel(), t.data());
  }
  for (auto& [name, t] : net->named_buffers()) {
    if (name.find("num_batches") != std::string::npos) continue;
    const bool var = name.find("var") != std::string::npos;
    Tensor r = Tensor::uniform(t.shape(), var ? 0.5f : -1.f, var ? 2.f : 1.f, &gen);
    std::copy(r.data(), r.data() + r.numel(), t.data());
  }
  return net;
}

std::vector<Case> layer_cases() {
  const std::vector<int64_t> img = {4, 7, 6};
  std::vector<Case> v = {
      {"dense", {5}, {{"dense", {{"units", "3"}}}}},
      {"dense_nobias", {5}, {{"dense", {{"units", "3"}, {"use_bias", "false"}}}}},
      {"batchnorm", {5}, {{"batchnorm", {}}}},
      {"batchnorm_noaffine", {5}, {{"batchnorm", {{"affine", "false"}}}}},
      {"batch_normalization", {5}, {{"batch_normalization", {}}}},
      {"layernorm", {5}, {{"layernorm", {}}}},
      {"layernorm_noaffine", {5}, {{"layernorm", {{"elementwise_affine", "false"}}}}},
      {"dropout", {5}, {{"dropout", {{"p", "0.3"}}}, {"gaussian_noise", {{"stddev", "0.5"}}}}},
      {"relu", {5}, {{"relu", {}}}},
      {"relu6", {5}, {{"relu6", {}}}},
      {"sigmoid", {5}, {{"sigmoid", {}}}},
      {"tanh", {5}, {{"tanh", {}}}},
      {"selu", {5}, {{"selu", {}}}},
      {"gelu", {5}, {{"gelu", {}}}},
      {"identity", {5}, {{"identity", {}}}},
      {"leaky_relu", {5}, {{"leaky_relu", {{"negative_slope", "0.2"}}}}},
      {"prelu", {5}, {{"prelu", {}}}},
      {"prelu_channels", img, {{"prelu", {{"num_parameters", "4"}}}}},
      {"elu", {5}, {{"elu", {{"alpha", "0.7"}}}}},
      {"softplus", {5}, {{"softplus", {}}}},
      {"softplus_beta", {5}, {{"softplus", {{"beta", "2"}, {"threshold", "1"}}}}},
      {"softmax", {5}, {{"softmax", {}}}},
      {"log_softmax", {5}, {{"log_softmax", {}}}},
      {"softmax_channels", img, {{"softmax", {{"dim", "1"}}}}},
      {"log_softmax_channels", img, {{"log_softmax", {{"dim", "1"}}}}},
      {"activation_row", {5}, {{"activation", {{"activation", "elu"}}}}},
      {"conv2d", img, {{"conv2d", {{"out_channels", "3"}, {"kernel_size", "3"}}}}},
      {"conv2d_same_stride2",
       img,
       {{"conv2d", {{"out_channels", "3"}, {"kernel_size", "3"}, {"stride", "2"}, {"padding", "same"}}}}},
      {"conv2d_dilation_pad",
       img,
       {{"conv2d", {{"out_channels", "2"}, {"kernel_size", "3,2"}, {"dilation", "2"}, {"padding", "1,2"}}}}},
      {"conv2d_groups_nobias",
       img,
       {{"conv2d", {{"out_channels", "6"}, {"kernel_size", "3"}, {"groups", "2"}, {"bias", "false"}}}}},
      {"max_pool2d", img, {{"max_pool2d", {{"kernel_size", "2"}}}}},
      {"max_pool2d_pad", img, {{"max_pool2d", {{"kernel_size", "3"}, {"stride", "2"}, {"padding", "1"}}}}},
      {"max_pool2d_same", img, {{"max_pool2d", {{"kernel_size", "2"}, {"padding", "same"}}}}},
      {"max_pool2d_dilation",
       img,
       {{"max_pool2d", {{"kernel_size", "2"}, {"dilation", "2"}, {"stride", "1"}}}}},
      {"max_pool2d_ceil", img, {{"max_pool2d", {{"kernel_size", "2"}, {"ceil_mode", "true"}}}}},
      {"avg_pool2d", img, {{"avg_pool2d", {{"kernel_size", "2"}}}}},
      {"avg_pool2d_pad", img, {{"avg_pool2d", {{"kernel_size", "3"}, {"stride", "2"}, {"padding", "1"}}}}},
      {"avg_pool2d_pad_exclude",
       img,
       {{"avg_pool2d",
         {{"kernel_size", "3"}, {"stride", "2"}, {"padding", "1"}, {"count_include_pad", "false"}}}}},
      {"avg_pool2d_same", img, {{"avg_pool2d", {{"kernel_size", "2"}, {"padding", "same"}}}}},
      {"avg_pool2d_ceil", img, {{"avg_pool2d", {{"kernel_size", "2"}, {"ceil_mode", "true"}}}}},
      {"adaptive_avg_pool2d", img, {{"adaptive_avg_pool2d", {}}}},
      {"adaptive_avg_pool2d_bins", {4, 6, 6}, {{"adaptive_avg_pool2d", {{"output_size", "3,2"}}}}},
      {"global_average_pooling2d", img, {{"global_average_pooling2d", {}}}},
      {"global_max_pooling2d", img, {{"global_max_pooling2d", {}}}},
      {"batchnorm2d", img, {{"batchnorm2d", {}}}},
      {"batch_normalization_images", img, {{"batch_normalization", {}}}},
      {"dropout2d", img, {{"dropout2d", {}}}},
      {"zero_pad2d", img, {{"zero_pad2d", {{"padding", "1,2,0,3"}}}}},
      {"flatten", img, {{"flatten", {}}}},
      {"flatten_start2", img, {{"flatten", {{"start_dim", "2"}}}}},
  };
  // Every activation word fused into dense and conv2d.
  for (const std::string& a : nn::activation_names()) {
    v.push_back({"dense_" + a, {5}, {{"dense", {{"units", "4"}, {"activation", a}}}}});
    v.push_back(
        {"conv2d_" + a, img, {{"conv2d", {{"out_channels", "2"}, {"kernel_size", "3"}, {"activation", a}}}}});
  }
  return v;
}

// The two example models: a dense classifier and a small CNN (fashion_mnist_cnn's layers).
std::vector<Case> model_cases() {
  return {{"model_dense",
           {13},
           {{"dense", {{"units", "32"}, {"activation", "relu"}}},
            {"batchnorm", {}},
            {"dropout", {{"p", "0.2"}}},
            {"dense", {{"units", "16"}, {"activation", "tanh"}}},
            {"dense", {{"units", "3"}, {"activation", "softmax"}}}}},
          {"model_cnn",
           {1, 28, 28},
           {{"conv2d", {{"filters", "8"}, {"kernel_size", "3"}, {"padding", "same"}, {"activation", "relu"}}},
            {"batch_normalization", {}},
            {"max_pooling2d", {{"pool_size", "2"}}},
            {"conv2d", {{"filters", "16"}, {"kernel_size", "3"}, {"activation", "relu"}}},
            {"max_pooling2d", {{"pool_size", "2"}}},
            {"dropout2d", {{"p", "0.25"}}},
            {"flatten", {}},
            {"dense", {{"units", "32"}, {"activation", "relu"}}},
            {"dropout", {{"p", "0.5"}}},
            {"dense", {{"units", "10"}}}}}};
}

void write_floats(const fs::path& p, const Tensor& t) {
  io::write_file_atomic(p,
                        std::string_view(reinterpret_cast<const char*>(t.data()), t.numel() * sizeof(float)));
}

fs::path onnx_dir() { return fs::path(NEURONA_SOURCE_DIR) / "tests" / "onnx"; }
bool have_onnxruntime() {
  return fs::exists(onnx_dir() / "node_modules" / "onnxruntime-node" / "package.json");
}
bool have_checker() { return std::system("/usr/bin/python3 -c 'import onnx' > /dev/null 2>&1") == 0; }

// Runs `cmd`, returning its exit status and output.
int run(const std::string& cmd, std::string& out) {
  out.clear();
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return pclose(p);
}

// Exports every case at `opset`, checks the files (opset ≤ 17: the checker of ONNX 1.12 knows
// no newer) and compares onnxruntime's outputs with Neurona's.
void check_cases(const std::vector<Case>& cases, int64_t opset, bool preprocess = false) {
  if (!have_onnxruntime())
    GTEST_SKIP() << "onnxruntime-node is not installed in tests/onnx (scripts/install-deps.sh)";
  ScratchDir dir;
  Generator gen(7);
  std::ostringstream manifest;
  std::string files;
  int exported = 0;
  for (const Case& c : cases) {
    if (opset < 17 && c.name.rfind("layernorm", 0) == 0) continue;  // LayerNormalization is opset 17
    auto net = build(c, gen);
    std::vector<int64_t> batch = {3};
    batch.insert(batch.end(), c.sample.begin(), c.sample.end());
    const Tensor x = Tensor::normal(Shape(batch), 0.f, 2.f, &gen);
    io::OnnxExportOptions o;
    o.opset = opset;
    Tensor y;
    {
      nn::EvalGuard eval(*net);
      y = net->forward(x);
    }
    if (preprocess) {  // the scaler and softmax predict would apply
      const int64_t f = c.sample[0];
      for (int64_t j = 0; j < f; ++j) {
        o.input_center.push_back(0.1f * static_cast<float>(j) - 0.3f);
        o.input_scale.push_back(1.f / (1.f + 0.2f * static_cast<float>(j)));
      }
      o.input_offset = 0.25f;
      o.output_activation = "softmax";
      Tensor scaled = Tensor::empty(x.shape());
      for (int64_t i = 0; i < x.size(0); ++i)
        for (int64_t j = 0; j < f; ++j)
          scaled.data()[i * f + j] =
              (x.data()[i * f + j] - o.input_center[j]) * o.input_scale[j] + o.input_offset;
      nn::EvalGuard eval(*net);
      y = nn::F::softmax(net->forward(scaled), 1);
    }
    const std::string base = c.name + "_op" + std::to_string(opset);
    io::export_onnx(*net, c.sample, dir / (base + ".onnx"), o);
    write_floats(dir / (base + ".in"), x);
    write_floats(dir / (base + ".out"), y);
    std::string dims;
    for (int64_t d : batch) {
      if (!dims.empty()) dims += ',';
      dims += std::to_string(d);
    }
    manifest << base << " " << (dir / (base + ".onnx")).string() << " " << (dir / (base + ".in")).string()
             << " " << (dir / (base + ".out")).string() << " " << dims << "\n";
    files += " " + (dir / (base + ".onnx")).string();
    ++exported;
  }
  io::write_file_atomic(dir / "manifest.txt", manifest.str());
  std::string out;
  const int rc = run("node " + (onnx_dir() / "run.js").string() + " " + (dir / "manifest.txt").string(), out);
  EXPECT_EQ(rc, 0) << out;
  int lines = 0;
  for (char ch : out) lines += ch == '\n';
  EXPECT_EQ(lines, exported) << out;
  if (opset <= 17) {
    if (!have_checker()) {
      ADD_FAILURE() << "/usr/bin/python3 has no onnx module (apt install python3-onnx)";
      return;
    }
    EXPECT_EQ(run("/usr/bin/python3 " + (onnx_dir() / "check.py").string() + files, out), 0) << out;
  }
}

// Residual (identity and projection shortcuts) and concat blocks, nested, from a config; the zoo's
// ResNet-18 and MobileNetV2 (BasicBlock with and without downsample, inverted residuals).
std::vector<Case> block_cases() {
  const app::Config c = app::parse_config(R"(
data: {csv: unused.csv, target: y}
model:
  layers:
    - {conv2d: 4, kernel_size: 3, padding: 1, activation: relu}
    - residual: [{conv2d: 4, kernel_size: 3, padding: 1, activation: relu}, {conv2d: 4, kernel_size: 3, padding: 1}]
      activation: relu
    - residual: [{conv2d: 6, kernel_size: 3, stride: 2, padding: 1}, batchnorm2d]
      shortcut: projection
    - concat: [{conv2d: 2, kernel_size: 1}, {sequential: [{conv2d: 3, kernel_size: 3, padding: 1}, tanh]},
               {max_pool2d: {kernel_size: 3, stride: 1, padding: 1}}]
    - global_average_pooling2d
    - {dense: 3}
compile: {optimizer: sgd, loss: cross_entropy}
)",
                                          "blocks.yaml");
  nn::ZooOptions small;
  small.num_classes = 5;
  small.width_mult = 0.35;
  Generator gen(11);
  std::vector<Case> cases = {{"model_blocks", {3, 8, 8}, {}, app::build_model(c, Shape{3, 8, 8})},
                             {"resnet18", {3, 32, 32}, {}, nn::resnet18(small, &gen)},
                             {"mobilenet_v2", {3, 32, 32}, {}, nn::mobilenet_v2(small, &gen)}};
  // BatchNorm layers with their own statistics and affine values, so none is the identity.
  for (Case& k : cases)
    for (auto& [path, m] : k.net->named_modules()) {
      if (!dynamic_cast<nn::BatchNorm1d*>(m.get())) continue;
      for (const auto& [name, tensor] : m->state_dict()) {
        if (name == "num_batches_tracked") continue;
        Tensor t = tensor;  // shares the layer's storage
        const bool var = name == "running_var";
        Tensor r = Tensor::uniform(t.shape(), var ? 0.5f : -0.5f, var ? 2.f : 1.5f, &gen);
        std::copy(r.data(), r.data() + r.numel(), t.data());
      }
    }
  return cases;
}

class OnnxOpset : public ::testing::TestWithParam<int64_t> {};

TEST_P(OnnxOpset, EveryLayerKindMatchesOnnxruntime) { check_cases(layer_cases(), GetParam()); }
TEST_P(OnnxOpset, ExampleModelsMatchOnnxruntime) { check_cases(model_cases(), GetParam()); }
TEST_P(OnnxOpset, ResidualAndConcatBlocksMatchOnnxruntime) { check_cases(block_cases(), GetParam()); }
INSTANTIATE_TEST_SUITE_P(Opsets, OnnxOpset, ::testing::Values(11, 13, 17, 18, 20, 21));

TEST(Onnx, PreprocessingAndSoftmaxGiveWhatPredictGives) {
  check_cases({{"preprocess_dense",
                {4},
                {{"dense", {{"units", "6"}, {"activation", "relu"}}}, {"dense", {{"units", "3"}}}}}},
              17, true);
}

TEST(Onnx, InitializersKeepStateDictNamesAndBatchIsSymbolic) {
  Generator gen(1);
  auto net = build(model_cases()[0], gen);
  const std::string bytes = io::onnx_model_bytes(*net, {13});
  for (const auto& [name, t] : net->named_parameters())
    EXPECT_NE(bytes.find(name), std::string::npos) << name;
  EXPECT_NE(bytes.find("1.running_mean"), std::string::npos);
  EXPECT_EQ(bytes.find("num_batches_tracked"), std::string::npos);
  EXPECT_NE(bytes.find("batch"), std::string::npos);
  // ModelProto starts with ir_version = 8 (field 1, varint) for the default opset 17.
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], '\x08');
  EXPECT_EQ(bytes[1], '\x08');
  EXPECT_EQ(io::onnx_ir_version(17), 8);
  EXPECT_EQ(io::onnx_ir_version(20), 9);
  EXPECT_EQ(io::onnx_ir_version(21), 10);
}

// The numbers of a ';' or ',' separated line, the last `drop` fields left out.
std::vector<float> fields(const std::string& line, size_t drop) {
  std::vector<float> v;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, line.find(';') != std::string::npos ? ';' : ',')) v.push_back(std::stof(f));
  v.resize(v.size() - drop);
  return v;
}

// A trained CSV classifier: logging.onnx writes model.onnx in the run directory, and
// `neurona export --with-preprocessing` gives on the raw features what `neurona predict` writes.
TEST(Onnx, ExportWithPreprocessingGivesWhatPredictGives) {
  if (!have_onnxruntime()) GTEST_SKIP() << "onnxruntime-node is not installed in tests/onnx";
  ScratchDir dir;
  const std::string cfg = (dir / "m.yaml").string(), w = (dir / "w.safetensors").string();
  std::ostringstream yaml;
  yaml << "name: wine\nseed: 0\ndata:\n  csv: " << NEURONA_SOURCE_DIR << "/data/winequality-red.csv\n"
       << "  target: quality\n  task: multiclass\n  scale: standard\n"
       << "model:\n  layers:\n    - {dense: 16, activation: relu}\n    - {batchnorm: {}}\n    - {dense: 9}\n"
       << "compile: {optimizer: adam, loss: cross_entropy}\nfit: {batch_size: 64, epochs: 2}\n"
       << "logging: {dir: " << (dir / "runs").string() << ", onnx: true, tensorboard: false}\n";
  io::write_file_atomic(dir / "m.yaml", yaml.str());
  ExampleRun r;
  ASSERT_TRUE(run_cli("train " + cfg + " --quiet --save-weights " + w, r)) << "neurona was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "runs" / "wine" / "version_0" / "model.onnx")) << r.output;
  std::ifstream csv(std::string(NEURONA_SOURCE_DIR) + "/data/winequality-red.csv");
  std::string line, rows;
  std::vector<float> x;
  for (int i = 0; i < 6 && std::getline(csv, line); ++i) {
    rows += line + "\n";
    if (i > 0) {
      const auto v = fields(line, 1);
      x.insert(x.end(), v.begin(), v.end());
    }
  }
  io::write_file_atomic(dir / "in.csv", rows);
  const std::string onnx = (dir / "m.onnx").string();
  ASSERT_TRUE(
      run_cli("export " + cfg + " --weights " + w + " --output " + onnx + " --with-preprocessing", r));
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(run_cli("predict " + cfg + " --weights " + w + " --input " + (dir / "in.csv").string() +
                          " --output " + (dir / "out.csv").string(),
                      r));
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream pred(dir / "out.csv");
  std::vector<float> y;
  std::getline(pred, line);  // p_0,…,class
  while (std::getline(pred, line)) {
    const auto v = fields(line, 1);
    y.insert(y.end(), v.begin(), v.end());
  }
  ASSERT_EQ(y.size(), 5u * 9u);
  write_floats(dir / "x.bin", Tensor::from(x, Shape{5, 11}));
  write_floats(dir / "y.bin", Tensor::from(y, Shape{5, 9}));
  io::write_file_atomic(dir / "manifest.txt", "predict " + onnx + " " + (dir / "x.bin").string() + " " +
                                                  (dir / "y.bin").string() + " 5,11\n");
  std::string out;
  EXPECT_EQ(run("node " + (onnx_dir() / "run.js").string() + " " + (dir / "manifest.txt").string(), out), 0)
      << out;
}

struct UserModule : nn::Module {
  std::string type_name() const override { return "MyBlock"; }
};

TEST(Onnx, UnsupportedModulesAndOptionsAreErrorsNamingThem) {
  nn::Sequential net;
  net.add(std::make_shared<nn::Linear>(3, 2));
  net.add(std::make_shared<UserModule>());
  EXPECT_ERROR_CONTAINS(io::onnx_model_bytes(net, {3}), "MyBlock at '1'");
  nn::Linear l(3, 2);
  io::OnnxExportOptions o;
  o.opset = 22;
  EXPECT_ERROR_CONTAINS(io::onnx_model_bytes(l, {3}, o), "opset 22");
  nn::AdaptiveAvgPool2d a(nn::AdaptiveAvgPool2dOptions{{3, 3}});
  EXPECT_ERROR_CONTAINS(io::onnx_model_bytes(a, {2, 5, 6}), "does not divide");
  nn::LayerNorm ln(std::vector<int64_t>{3});
  o.opset = 13;
  EXPECT_ERROR_CONTAINS(io::onnx_model_bytes(ln, {3}, o), "needs opset 17");
}

// --- import ---------------------------------------------------------------------------------

// The tensors of a state_dict but num_batches_tracked (which ONNX does not carry).
std::vector<std::pair<std::string, Tensor>> onnx_state(const nn::Module& m) {
  auto v = m.named_parameters();
  for (auto& b : m.named_buffers())
    if (b.first.find("num_batches_tracked") == std::string::npos) v.push_back(b);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return v;
}

// Export, import: the same layers' outputs and the same state_dict, bit for bit.
void round_trip(const std::vector<Case>& cases, int64_t opset) {
  Generator gen(11);
  for (const Case& c : cases) {
    if (opset < 17 && c.name.rfind("layernorm", 0) == 0) continue;
    SCOPED_TRACE(c.name + " opset " + std::to_string(opset));
    auto net = build(c, gen);
    io::OnnxExportOptions o;
    o.opset = opset;
    const std::string bytes = io::onnx_model_bytes(*net, c.sample, o);
    io::OnnxModel m = io::import_onnx_bytes(bytes);
    EXPECT_EQ(m.input_shape, c.sample);
    EXPECT_EQ(m.opset, opset);
    std::vector<int64_t> batch = {3};
    batch.insert(batch.end(), c.sample.begin(), c.sample.end());
    const Tensor x = Tensor::normal(Shape(batch), 0.f, 2.f, &gen);
    nn::EvalGuard e1(*net), e2(*m.net);
    const Tensor want = net->forward(x), got = m.net->forward(x);
    ASSERT_EQ(got.shape(), want.shape());
    for (int64_t k = 0; k < want.numel(); ++k)
      ASSERT_NEAR(got.data()[k], want.data()[k], 1e-6f * std::max(1.f, std::abs(want.data()[k]))) << k;
    const auto a = onnx_state(*net), b = onnx_state(*m.net);
    ASSERT_EQ(a.size(), b.size()) << m.net->str();
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k].first, b[k].first);
      ASSERT_EQ(a[k].second.shape(), b[k].second.shape()) << a[k].first;
      EXPECT_EQ(std::memcmp(a[k].second.data(), b[k].second.data(), a[k].second.numel() * sizeof(float)), 0)
          << a[k].first;
    }
  }
}

class OnnxImportOpset : public ::testing::TestWithParam<int64_t> {};
TEST_P(OnnxImportOpset, EveryLayerKindRoundTripsBitForBit) { round_trip(layer_cases(), GetParam()); }
TEST_P(OnnxImportOpset, ExampleModelsRoundTripBitForBit) { round_trip(model_cases(), GetParam()); }
INSTANTIATE_TEST_SUITE_P(Opsets, OnnxImportOpset, ::testing::Values(11, 13, 17, 20, 21));

// model: {from: model.onnx}: summary, evaluate and predict run on the imported network and its
// weights, and `neurona train` fine-tunes it (the loss falls, the saved weights load back).
TEST(OnnxImport, ConfigModelFromTrainsEvaluatesAndPredicts) {
  ScratchDir dir;
  Generator gen(3);
  nn::Sequential net;
  net.add(std::make_shared<nn::Linear>(11, 16, true, nn::Activation::ReLU, &gen));
  net.add(std::make_shared<nn::Linear>(16, 9, true, nn::Activation::Identity, &gen));
  const std::string onnx = (dir / "wine.onnx").string();
  io::export_onnx(net, {11}, onnx);
  const std::string cfg = (dir / "m.yaml").string(), w = (dir / "w.safetensors").string();
  std::ostringstream yaml;
  yaml << "name: wine\nseed: 0\ndata:\n  csv: " << NEURONA_SOURCE_DIR << "/data/winequality-red.csv\n"
       << "  target: quality\n  task: multiclass\n  scale: standard\n"
       << "model: {from: " << onnx << "}\n"
       << "compile: {optimizer: {adam: {lr: 0.01}}, loss: cross_entropy}\nfit: {batch_size: 64, epochs: 3}\n";
  io::write_file_atomic(cfg, yaml.str());
  ExampleRun r;
  ASSERT_TRUE(run_cli("summary " + cfg, r)) << "neurona was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Linear"), std::string::npos) << r.output;
  ASSERT_TRUE(run_cli("evaluate " + cfg, r));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto loss_of = [](const std::string& out) {
    const auto at = out.find("loss");
    return at == std::string::npos ? -1.0 : std::stod(out.substr(out.find_first_of("0123456789", at)));
  };
  const double before = loss_of(r.output.substr(r.output.find("train:")));
  ASSERT_GT(before, 0) << r.output;
  ASSERT_TRUE(run_cli("train " + cfg + " --quiet --save-weights " + w, r));
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(run_cli("evaluate " + cfg + " --weights " + w, r));
  ASSERT_EQ(r.status, 0) << r.output;
  const double after = loss_of(r.output.substr(r.output.find("train:")));
  EXPECT_LT(after, 0.8 * before) << r.output;
  std::ifstream csv(std::string(NEURONA_SOURCE_DIR) + "/data/winequality-red.csv");
  std::string line, rows;
  for (int i = 0; i < 4 && std::getline(csv, line); ++i) rows += line + "\n";
  io::write_file_atomic(dir / "in.csv", rows);
  ASSERT_TRUE(run_cli("predict " + cfg + " --input " + (dir / "in.csv").string() + " --output -", r));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("p_"), std::string::npos) << r.output;
  // A model whose input does not match the data is an error naming both shapes.
  io::export_onnx(net.at<nn::Linear>(1) ? *net[1] : net, {16}, onnx);
  ASSERT_TRUE(run_cli("summary " + cfg, r));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("takes samples of shape [16]"), std::string::npos) << r.output;
}

// Models exported by torch.onnx.export (tests/fixtures/onnx/make_torch_onnx_fixtures.py): the
// import gives PyTorch's outputs to 1e-5 and its state_dict names.
void check_torch_fixture(const std::string& name, const std::vector<std::string>& state_names) {
  const fs::path dir = fs::path(NEURONA_SOURCE_DIR) / "tests" / "fixtures" / "onnx";
  io::OnnxModel m = io::import_onnx(dir / (name + ".onnx"));
  EXPECT_EQ(m.opset, 14);
  EXPECT_EQ(m.producer_name, "pytorch");
  const Tensor x = data::read_npy((dir / (name + "_in.npy")).string());
  const Tensor want = data::read_npy((dir / (name + "_out.npy")).string());
  nn::EvalGuard eval(*m.net);
  const Tensor got = m.net->forward(x);
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t k = 0; k < want.numel(); ++k)
    EXPECT_NEAR(got.data()[k], want.data()[k], 1e-5f * std::max(1.f, std::abs(want.data()[k]))) << k;
  std::vector<std::string> names;
  for (const auto& [n, t] : onnx_state(*m.net)) names.push_back(n);
  std::vector<std::string> sorted = state_names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(names, sorted);
}

TEST(OnnxImport, PyTorchMlpGivesPyTorchsOutputs) {
  check_torch_fixture("torch_mlp", {"0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias",
                                    "5.running_mean", "5.running_var", "6.weight", "6.bias"});
}

TEST(OnnxImport, PyTorchCnnGivesPyTorchsOutputs) {
  check_torch_fixture(
      "torch_cnn", {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "4.weight",
                    "4.bias", "8.weight", "8.bias", "10.weight", "10.bias"});
}

}  // namespace
}  // namespace neurona::testing
