// The `neurona` command end to end: every example config trains (few epochs) and summarises,
// config errors read as documented, weights round-trip through predict/evaluate, and the
// weights file is a plain safetensors file that PyTorch loads with strict names.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <vector>

#include "test_util.hpp"

namespace {

using neurona::testing::ExampleRun;
using neurona::testing::fresh_dir;
using neurona::testing::run_cli;

ExampleRun cli(const std::string& args) {
  ExampleRun r;
  if (!run_cli(args, r)) r.status = -2;
  return r;
}

#define REQUIRE_CLI(r)                                    \
  do {                                                    \
    ASSERT_NE((r).status, -2) << "neurona was not built"; \
  } while (0)

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The number after `key=` on the first line starting with `prefix`.
double value_in(const std::string& out, const std::string& prefix, const std::string& key) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const auto at = line.find(" " + key + "=");
    if (at == std::string::npos) continue;
    return std::stod(line.substr(at + key.size() + 2));
  }
  ADD_FAILURE() << "no '" << key << "' on a line starting with '" << prefix << "' in:\n" << out;
  return NAN;
}

const std::vector<std::string> kExamples = {"wine",
                                            "fashion_mnist",
                                            "optimizer_sgd",
                                            "optimizer_adam",
                                            "binary_classification",
                                            "dropout",
                                            "batchnorm",
                                            "dropout_batchnorm",
                                            "underfitting",
                                            "overfitting",
                                            "random_restarts",
                                            "fashion_mnist_cnn",
                                            "fashion_mnist_cnn_augment"};

bool needs_fashion_mnist(const std::string& name) { return name.rfind("fashion_mnist", 0) == 0; }

// Quick settings per example: two epochs, and a slice of Fashion-MNIST.
std::string quick(const std::string& name, const std::filesystem::path& runs) {
  std::string s = " --quiet --set fit.epochs=2 --set logging.dir=" + runs.string();
  if (name == "fashion_mnist") s += " --set data.limit=2000";
  // The CNNs: 1,000 images (900 train, in 15 batches of 64), scored on 1,000 test images.
  if (name == "fashion_mnist_cnn" || name == "fashion_mnist_cnn_augment") s += " --set data.limit=1000";
  if (name == "random_restarts") s += " --set restarts.count=2";
  return s;
}

TEST(Cli, EveryExampleTrainsAndPrintsItsMetrics) {
  const auto runs = fresh_dir("examples");
  for (const auto& name : kExamples) {
    if (needs_fashion_mnist(name) && neurona::data::fashion_mnist_default_dir().empty()) continue;
    SCOPED_TRACE(name);
    const ExampleRun r = cli("train examples/" + name + ".yaml" + quick(name, runs));
    REQUIRE_CLI(r);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("epochs run: 2 of 2"), std::string::npos) << r.output;
    const double loss = value_in(r.output, "final:", "loss");
    EXPECT_TRUE(std::isfinite(loss)) << r.output;
    EXPECT_NE(r.output.find("run directory: " + runs.string()), std::string::npos) << r.output;
    if (needs_fashion_mnist(name) || name == "binary_classification") {
      const double acc = value_in(r.output, "final:", "val_accuracy");
      EXPECT_GT(acc, 0.3) << r.output;
    }
    if (needs_fashion_mnist(name)) {
      EXPECT_NE(r.output.find("test: "), std::string::npos) << r.output;
    }
    if (name == "random_restarts") {
      EXPECT_NE(r.output.find("restart 2 (seed 1)"), std::string::npos) << r.output;
      EXPECT_NE(r.output.find("<- kept"), std::string::npos) << r.output;
    }
  }
  // The run directory has what the loggers wrote.
  const auto wine = runs / "wine" / "version_0";
  EXPECT_TRUE(std::filesystem::exists(wine / "config.yaml"));
  EXPECT_TRUE(std::filesystem::exists(wine / "model.safetensors"));
  bool events = false;
  for (const auto& e : std::filesystem::directory_iterator(wine))
    events |= e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  EXPECT_TRUE(events) << "no TensorBoard event file in " << wine;
  std::filesystem::remove_all(runs);
}

TEST(Cli, EveryExampleConfigSummarises) {
  for (const auto& name : kExamples) {
    if (needs_fashion_mnist(name) && neurona::data::fashion_mnist_default_dir().empty()) continue;
    SCOPED_TRACE(name);
    const ExampleRun r = cli("summary examples/" + name + ".yaml");
    REQUIRE_CLI(r);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("Total params"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(" (Linear)"), std::string::npos) << r.output;
  }
  const ExampleRun w = cli("summary examples/wine.yaml");
  REQUIRE_CLI(w);
  // 11*512+512 + 2*(512*512+512) + 512+1 parameters.
  EXPECT_NE(w.output.find("Total params: 531,969"), std::string::npos) << w.output;
  EXPECT_NE(w.output.find("early_stopping"), std::string::npos) << w.output;
}

// examples/transfer_learning: the shipped weights are pretrain.yaml's model (classes 0-4), and on
// the 500-image task (classes 5-9) feature extraction and fine-tuning from them beat the same CNN
// trained from scratch on the 5,000 test images, as run.sh shows.
TEST(Cli, TransferLearningExampleBeatsTrainingFromScratch) {
  const std::string dir = "examples/transfer_learning/";
  const ExampleRun pre = cli("evaluate " + dir + "pretrain.yaml --weights " + dir + "pretrained.safetensors");
  REQUIRE_CLI(pre);
  ASSERT_EQ(pre.status, 0) << pre.output;
  EXPECT_GT(value_in(pre.output, "test:", "accuracy"), 0.88) << pre.output;
  std::map<std::string, double> accuracy;
  for (const char* way : {"scratch", "feature_extraction", "fine_tuning", "backbone_finetuning"}) {
    const ExampleRun r = cli("train " + dir + way + ".yaml");
    ASSERT_EQ(r.status, 0) << r.output;
    accuracy[way] = value_in(r.output, "test:", "accuracy");
    if (std::string(way) != "scratch") {
      EXPECT_NE(r.output.find("model.init: " + dir + "pretrained.safetensors"), std::string::npos)
          << r.output;
    }
  }
  EXPECT_GT(accuracy["scratch"], 0.8);
  for (const char* way : {"feature_extraction", "fine_tuning", "backbone_finetuning"})
    EXPECT_GT(accuracy[way], accuracy["scratch"] + 0.01) << way;
}

// examples/image_folder.yaml as its header says: scripts/make_image_folder.py writes Fashion-MNIST
// PNGs in class folders, and the config trains on them (data.images), here on 40 per class.
TEST(Cli, ImageFolderExampleTrainsOnScriptMadePngs) {
  ASSERT_FALSE(neurona::data::fashion_mnist_default_dir().empty())
      << "dataset-fashion-mnist is not installed (bash scripts/install-deps.sh installs it)";
  const auto dir = fresh_dir("image_folder_example");
  const std::string script = std::string(NEURONA_SOURCE_DIR) + "/scripts/make_image_folder.py";
  ASSERT_EQ(std::system(("/usr/bin/python3 '" + script + "' '" + dir.string() +
                         "' --limit 40 --split train > /dev/null")
                            .c_str()),
            0);
  const std::string images = " --set data.images.dir=" + (dir / "train").string();
  const ExampleRun s = cli("summary examples/image_folder.yaml" + images);
  REQUIRE_CLI(s);
  ASSERT_EQ(s.status, 0) << s.output;
  // 400 images, stratified: 280 train, 80 validation, 40 test; grayscale PNGs as [1, 28, 28].
  EXPECT_NE(s.output.find("280 training samples, 80 validation, 40 test, input [1,28,28]"), std::string::npos)
      << s.output;
  const ExampleRun r = cli("train examples/image_folder.yaml --quiet --set fit.epochs=3 --set logging.dir=" +
                           (dir / "runs").string() + images);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("epochs run: 3 of 3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("test: accuracy="), std::string::npos) << r.output;
  // 15 steps of SGD already beat chance (0.1) on the held-out images.
  EXPECT_GT(value_in(r.output, "final:", "val_accuracy"), 0.25) << r.output;
  // Without the folder the error names it and says what it should hold.
  const ExampleRun missing =
      cli("train examples/image_folder.yaml --quiet --set data.images.dir=" + (dir / "nowhere").string());
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("nowhere"), std::string::npos) << missing.output;
  std::filesystem::remove_all(dir);
}

TEST(Cli, TypoNamesTheKeyAndSuggests) {
  const auto dir = fresh_dir("typo");
  const std::string wine = slurp(std::string(NEURONA_SOURCE_DIR) + "/examples/wine.yaml");
  std::string bad = wine;
  bad.replace(bad.find("{dense: 512, activation: relu}"), 30, "{dense: 512, activaton: relu}");
  write(dir / "bad.yaml", bad);
  const ExampleRun r = cli("summary " + (dir / "bad.yaml").string());
  REQUIRE_CLI(r);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output,
            "neurona: error: model.layers[0]: unknown key 'activaton' (did you mean 'activation'?)\n");

  const ExampleRun v = cli("summary examples/wine.yaml --set compile.loss=maee");
  EXPECT_EQ(v.status, 1);
  EXPECT_EQ(v.output, "neurona: error: compile.loss: unknown loss 'maee' (did you mean 'mae'?)\n");

  const ExampleRun k = cli("summary examples/wine.yaml --set fit.epoch=3");
  EXPECT_EQ(k.status, 1);
  EXPECT_EQ(k.output, "neurona: error: fit: unknown key 'epoch' (did you mean 'epochs'?)\n");

  write(dir / "broken.yaml", "name: x\ndata: {csv: a.csv\nmodel: []\n");
  const ExampleRun y = cli("summary " + (dir / "broken.yaml").string());
  EXPECT_EQ(y.status, 1);
  EXPECT_NE(y.output.find("broken.yaml:3:"), std::string::npos) << y.output;
  EXPECT_NE(y.output.find("bad YAML"), std::string::npos) << y.output;

  // JSON is YAML: the same model as a JSON file.
  write(
      dir / "tiny.json",
      R"({"data": {"synthetic": {"kind": "xor", "n": 40}}, "model": {"layers": [{"dense": 4, "activation": "tanh"},)"
      R"( {"dense": 1, "activation": "sigmoid"}]}, "compile": {"optimizer": "sgd", "loss": "bce"}})");
  const ExampleRun j = cli("summary " + (dir / "tiny.json").string());
  EXPECT_EQ(j.status, 0) << j.output;
  EXPECT_NE(j.output.find("Total params: 17"), std::string::npos) << j.output;
  std::filesystem::remove_all(dir);
}

TEST(Cli, LayerTooLargeForMemoryIsAnErrorNamingTheLayer) {
  const auto dir = fresh_dir("huge");
  write(dir / "huge.yaml",
        "data: {synthetic: {kind: xor, n: 40}}\n"
        "model: {layers: [{dense: 4, activation: tanh}, {dense: 400000000000}]}\n"
        "compile: {optimizer: sgd, loss: mse}\n");
  // Under AddressSanitizer a huge allocation is the sanitizer's report unless it is told to fail
  // as the plain allocator does (null, then std::bad_alloc), which the child inherits.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string saved = asan ? asan : "";
  ::setenv("ASAN_OPTIONS", (saved + ":allocator_may_return_null=1").c_str(), 1);
  ExampleRun r = cli("summary " + (dir / "huge.yaml").string());
  ::setenv("ASAN_OPTIONS", saved.c_str(), 1);
  // (less the sanitizer's own warning line, "==<pid>==WARNING: AddressSanitizer failed to allocate")
  if (r.output.rfind("==", 0) == 0) r.output.erase(0, r.output.find('\n') + 1);
  REQUIRE_CLI(r);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(r.output,
            "neurona: error: model.layers[1]: dense is too large: its parameters cannot be allocated\n");
  std::filesystem::remove_all(dir);
}

TEST(Cli, SetOverridesAnyKey) {
  const ExampleRun r =
      cli("summary examples/wine.yaml --set compile.optimizer.adam.lr=0.01 --set model.layers[0].dense=64");
  REQUIRE_CLI(r);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("optimizer: adam (lr=0.01)"), std::string::npos) << r.output;
  // 11*64+64 + 64*512+512 + 512*512+512 + 512+1
  EXPECT_NE(r.output.find("Total params: 297,217"), std::string::npos) << r.output;
}

TEST(Cli, UsageErrorsAndHelp) {
  const ExampleRun h = cli("train --help");
  REQUIRE_CLI(h);
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.output.find("--save-weights FILE"), std::string::npos);
  const ExampleRun v = cli("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.output.rfind("neurona ", 0), 0u);
  const ExampleRun u = cli("trian examples/wine.yaml");
  EXPECT_EQ(u.status, 1);
  EXPECT_NE(u.output.find("neurona: error: unknown command 'trian' (did you mean 'train'?)"),
            std::string::npos)
      << u.output;
  const ExampleRun m = cli("predict examples/wine.yaml --input x.csv --output y.csv");
  EXPECT_EQ(m.status, 1);
  EXPECT_NE(m.output.find("neurona: error: predict: missing --weights FILE"), std::string::npos) << m.output;
  const ExampleRun f = cli("train no/such.yaml");
  EXPECT_EQ(f.status, 1);
  EXPECT_NE(f.output.find("no/such.yaml"), std::string::npos) << f.output;
}

// A small independent safetensors reader: 8-byte little-endian header length, JSON header, data.
struct RawTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};
struct RawFile {
  std::map<std::string, RawTensor> tensors;
  std::map<std::string, std::string> metadata;
};
RawFile read_raw_safetensors(const std::filesystem::path& path) {
  const std::string bytes = slurp(path);
  RawFile f;
  EXPECT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  const size_t base = 8 + n;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      for (const auto& [k, s] : v.items()) f.metadata[k] = s.get<std::string>();
      continue;
    }
    // Counts are I64 as PyTorch writes them; everything else F32.
    const bool count = name.size() >= 19 && name.compare(name.size() - 19, 19, "num_batches_tracked") == 0;
    EXPECT_EQ(v.at("dtype"), count ? "I64" : "F32") << name;
    RawTensor t;
    t.shape = v.at("shape").get<std::vector<int64_t>>();
    const auto off = v.at("data_offsets").get<std::vector<size_t>>();
    if (count) {
      for (size_t at = off[0]; at < off[1]; at += 8) {
        int64_t c = 0;
        std::memcpy(&c, bytes.data() + base + at, 8);  // little-endian host
        t.values.push_back(static_cast<float>(c));
      }
      f.tensors[name] = t;
      continue;
    }
    t.values.resize((off[1] - off[0]) / 4);
    for (size_t i = 0; i < t.values.size(); ++i) {
      uint32_t u = 0;
      for (int b = 3; b >= 0; --b)
        u = (u << 8) | static_cast<unsigned char>(bytes[base + off[0] + 4 * i + static_cast<size_t>(b)]);
      std::memcpy(&t.values[i], &u, 4);
    }
    f.tensors[name] = t;
  }
  return f;
}

// A wine model with every kind of saved tensor: dense (fused and unfused activation), dropout,
// both batch norms. Features standard-scaled, target min-max scaled.
const char* kMixedModel = R"(name: mixed
seed: 3
data:
  csv: data/winequality-red.csv
  target: quality
  split: {val: 0.2}
  scale: {features: standard, target: minmax}
model:
  layers:
    - {dense: 32, activation: relu}
    - {dropout: 0.3}
    - {batchnorm: {}}
    - {dense: 16, activation: gelu}
    - batch_normalization
    - {dense: 8, activation: tanh}
    - {dense: 1}
compile:
  optimizer: {adam: {lr: 0.01}}
  loss: mse
  metrics: [mae]
fit: {batch_size: 64, epochs: 3}
)";

TEST(Cli, WeightsArePyTorchStateDictAndPredictMatchesEvaluate) {
  const auto dir = fresh_dir("weights");
  write(dir / "mixed.yaml", kMixedModel);
  const std::string cfg = (dir / "mixed.yaml").string(), w = (dir / "w.safetensors").string();
  const ExampleRun t = cli("train " + cfg + " --quiet --save-weights " + w);
  REQUIRE_CLI(t);
  ASSERT_EQ(t.status, 0) << t.output;

  const RawFile f = read_raw_safetensors(w);
  const std::map<std::string, std::vector<int64_t>> expected = {{"0.weight", {32, 11}},
                                                                {"0.bias", {32}},
                                                                {"2.weight", {32}},
                                                                {"2.bias", {32}},
                                                                {"2.running_mean", {32}},
                                                                {"2.running_var", {32}},
                                                                {"2.num_batches_tracked", {}},
                                                                {"3.weight", {16, 32}},
                                                                {"3.bias", {16}},
                                                                {"4.weight", {16}},
                                                                {"4.bias", {16}},
                                                                {"4.running_mean", {16}},
                                                                {"4.running_var", {16}},
                                                                {"4.num_batches_tracked", {}},
                                                                {"5.weight", {8, 16}},
                                                                {"5.bias", {8}},
                                                                {"6.weight", {1, 8}},
                                                                {"6.bias", {1}}};
  ASSERT_EQ(f.tensors.size(), expected.size());
  for (const auto& [name, shape] : expected) {
    ASSERT_TRUE(f.tensors.count(name)) << name;
    EXPECT_EQ(f.tensors.at(name).shape, shape) << name;
  }
  // 3 epochs of ceil(1280 / 64) = 20 batches.
  EXPECT_EQ(f.tensors.at("2.num_batches_tracked").values[0], 60.f);
  EXPECT_TRUE(f.metadata.count("neurona.x_scaler"));
  EXPECT_TRUE(f.metadata.count("neurona.y_scaler"));
  EXPECT_TRUE(f.metadata.count("neurona.csv_schema"));

  // predict on the training CSV reproduces evaluate's metric (target in its own units: no target scaling).
  const std::string unscaled = " --set data.scale.target=none";
  const std::string w2 = (dir / "w2.safetensors").string(), out = (dir / "out.csv").string();
  ASSERT_EQ(cli("train " + cfg + unscaled + " --quiet --save-weights " + w2).status, 0);
  const ExampleRun e =
      cli("evaluate " + cfg + unscaled + " --weights " + w2 + " --csv data/winequality-red.csv");
  ASSERT_EQ(e.status, 0) << e.output;
  const double mae = value_in(e.output, "data/winequality-red.csv:", "mae");
  const double mse = value_in(e.output, "data/winequality-red.csv:", "loss");
  const ExampleRun p = cli("predict " + cfg + unscaled + " --weights " + w2 +
                           " --input data/winequality-red.csv --output " + out);
  ASSERT_EQ(p.status, 0) << p.output;
  const auto wine = neurona::data::read_csv(std::string(NEURONA_SOURCE_DIR) + "/data/winequality-red.csv",
                                            {.target = {"quality"}});
  const auto pred = neurona::data::read_csv(out, {.target = {"quality"}, .delimiter = ','});
  ASSERT_EQ(pred.y.numel(), wine.y.numel());
  double abs_sum = 0, sq_sum = 0;
  for (int64_t i = 0; i < wine.y.numel(); ++i) {
    const double d = double(pred.y.data()[i]) - double(wine.y.data()[i]);
    abs_sum += std::abs(d), sq_sum += d * d;
  }
  EXPECT_NEAR(abs_sum / double(wine.y.numel()), mae, 1e-4 * std::max(1.0, mae));
  EXPECT_NEAR(sq_sum / double(wine.y.numel()), mse, 1e-4 * std::max(1.0, mse));

  // --init-weights refuses weights of another model, naming the tensors.
  const ExampleRun bad = cli("train " + cfg + " --quiet --set model.layers[0].dense=8 --init-weights " + w);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("0.weight"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("neurona: error: "), std::string::npos) << bad.output;
  const ExampleRun extra = cli(
      "train " + cfg + " --quiet --set 'model.layers[6]={dense: 1, use_bias: false}' --init-weights " + w);
  EXPECT_EQ(extra.status, 1);
  EXPECT_NE(extra.output.find("6.bias"), std::string::npos) << extra.output;
  const ExampleRun good = cli("train " + cfg + " --quiet --set fit.epochs=1 --init-weights " + w);
  EXPECT_EQ(good.status, 0) << good.output;

  // PyTorch loads the same file with strict names and predicts the same numbers.
  // scripts/install-deps.sh installs python3-torch, so a missing one is a failure, not a skip.
  ASSERT_EQ(std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1"), 0)
      << "python3-torch is not installed (bash scripts/install-deps.sh installs it)";
  const std::string tout = (dir / "neurona_pred.csv").string();
  ASSERT_EQ(cli("predict " + cfg + " --weights " + w + " --input - --output " + tout +
                " < data/winequality-red.csv")
                .status,
            0);
  const std::string script = std::string(NEURONA_SOURCE_DIR) + "/tests/app/torch_compare.py";
  const std::string report = (dir / "torch.txt").string();
  const int rc =
      std::system(("/usr/bin/python3 '" + script + "' '" + w + "' '" + std::string(NEURONA_SOURCE_DIR) +
                   "/data/winequality-red.csv' '" + tout + "' > '" + report + "' 2>&1")
                      .c_str());
  const std::string text = slurp(report);
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("max abs diff"), std::string::npos) << text;
  std::printf("%s", text.c_str());
  std::filesystem::remove_all(dir);
}

// A trained model needs only its config, its weights file (schema and scalers inside) and the new
// rows: predict and evaluate --csv give the same output once the training CSV is gone.
TEST(Cli, PredictAndEvaluateNeedNotTheTrainingCsv) {
  const auto dir = fresh_dir("no_training_csv");
  std::filesystem::copy_file(std::string(NEURONA_SOURCE_DIR) + "/data/winequality-red.csv",
                             dir / "train.csv");
  std::string config = kMixedModel;
  config.replace(config.find("data/winequality-red.csv"), std::strlen("data/winequality-red.csv"),
                 (dir / "train.csv").string());
  write(dir / "model.yaml", config);
  const std::string cfg = (dir / "model.yaml").string(), w = (dir / "w.safetensors").string();
  const ExampleRun t = cli("train " + cfg + " --quiet --save-weights " + w);
  REQUIRE_CLI(t);
  ASSERT_EQ(t.status, 0) << t.output;
  const std::string rows = "data/winequality-red.csv";
  auto predict = [&](const std::string& out) {
    const ExampleRun r = cli("predict " + cfg + " --weights " + w + " --input " + rows + " --output " + out);
    EXPECT_EQ(r.status, 0) << r.output;
    return slurp(out);
  };
  const std::string before = predict((dir / "before.csv").string());
  const ExampleRun eval_before = cli("evaluate " + cfg + " --weights " + w + " --csv " + rows);
  ASSERT_EQ(eval_before.status, 0) << eval_before.output;
  ASSERT_GT(before.size(), 1000u);

  std::filesystem::remove(dir / "train.csv");
  EXPECT_EQ(predict((dir / "after.csv").string()), before);
  const ExampleRun eval_after = cli("evaluate " + cfg + " --weights " + w + " --csv " + rows);
  EXPECT_EQ(eval_after.status, 0) << eval_after.output;
  EXPECT_EQ(eval_after.output, eval_before.output);
  // Evaluating on the config's own splits still needs them, and says which file is missing.
  const ExampleRun own = cli("evaluate " + cfg + " --weights " + w);
  EXPECT_EQ(own.status, 1);
  EXPECT_NE(own.output.find("train.csv"), std::string::npos) << own.output;
  std::filesystem::remove_all(dir);
}

}  // namespace

namespace {

// Seed 004's MyDenseLayer trained by its hand-written loop: the loss falls and the pass/fail rule
// (linear in the two features) is learned.
TEST(Examples, MyDenseLayerLearnsByHandWrittenGradientDescent) {
  ExampleRun r;
  ASSERT_TRUE(neurona::testing::run_example("my_dense_layer", "300", r)) << "the example was not built";
  ASSERT_EQ(r.status, 0) << r.output;
  const auto first = r.output.find("step    0  loss "), last = r.output.find("step  300  loss ");
  ASSERT_NE(first, std::string::npos) << r.output;
  ASSERT_NE(last, std::string::npos) << r.output;
  EXPECT_LT(std::stod(r.output.substr(last + 16)), 0.5 * std::stod(r.output.substr(first + 16))) << r.output;
  const auto acc = r.output.find("training accuracy: ");
  ASSERT_NE(acc, std::string::npos) << r.output;
  EXPECT_GT(std::stod(r.output.substr(acc + 19)), 0.9) << r.output;
}

}  // namespace

TEST(Cli, Bf16MixedPrecisionTrainsTheWineModel) {
  // Lightning's precision flag: bf16 matmuls with fp32 weights; on a CPU without AVX-512 BF16 it
  // says so and trains in fp32. Either way the run completes with a finite loss.
  const auto runs = fresh_dir("bf16");
  const ExampleRun r = cli("train examples/wine.yaml --set fit.precision=bf16-mixed" + quick("wine", runs));
  REQUIRE_CLI(r);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("epochs run: 2 of 2"), std::string::npos) << r.output;
  // The first layer (11 inputs) is too small for the bf16 kernel: the run says it stays fp32, once.
  const bool said =
      r.output.find("bf16-mixed: matmuls too small for the bf16 kernel run in fp32") != std::string::npos ||
      r.output.find("continuing in fp32") != std::string::npos;
  EXPECT_TRUE(said) << r.output;
  const ExampleRun bad = cli("train examples/wine.yaml --set fit.precision=bf17");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("fit.precision"), std::string::npos) << bad.output;
}

// The closing lines say whose weights were saved: with EarlyStopping(restore_best_weights) the
// epoch it restored (its min_delta can put that before the raw minimum, which is printed apart),
// without it the last epoch. The value printed is what `evaluate` measures on the saved weights.
TEST(Cli, ClosingLineNamesTheEpochWhoseWeightsWereSaved) {
  const auto runs = fresh_dir("saved_epoch");
  const auto weights = runs / "w.safetensors";
  const ExampleRun r =
      cli("train examples/wine.yaml --quiet --set fit.epochs=12 --set logging.dir=" + runs.string() +
          " --set 'callbacks=[{early_stopping: {min_delta: 0.01, patience: 50, "
          "restore_best_weights: true}}]' --save-weights " +
          weights.string());
  REQUIRE_CLI(r);
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_NE(r.output.find("(EarlyStopping restored its best epoch)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("lowest val_loss: "), std::string::npos) << r.output;
  const double saved = value_in(r.output, "weights saved:", "val_loss");
  const ExampleRun e = cli("evaluate examples/wine.yaml --weights " + weights.string());
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_NEAR(value_in(e.output, "val:", "loss"), saved, 1e-5) << r.output << e.output;

  const ExampleRun last =
      cli("train examples/wine.yaml --quiet --set fit.epochs=3 --set 'callbacks=[]' "
          "--set logging.dir=" +
          runs.string());
  ASSERT_EQ(last.status, 0) << last.output;
  EXPECT_NE(last.output.find("weights saved: epoch 3 (the last)"), std::string::npos) << last.output;
  EXPECT_DOUBLE_EQ(value_in(last.output, "weights saved:", "val_loss"),
                   value_in(last.output, "final:", "val_loss"));
}

// compile.schedule.frequency: with `frequency: 2` the schedule steps every second epoch, so
// StepLR(step_size=1, gamma=0.5) gives lr_e = 0.01 * 0.5^floor((e + 1) / 2) after epoch e.
TEST(Cli, ScheduleFrequencyStepsEveryNEpochs) {
  const auto dir = fresh_dir("cli_frequency");
  write(dir / "f.yaml", R"(name: freq
seed: 0
data: {csv: data/winequality-red.csv, target: quality, split: {val: 0.3}, scale: {features: minmax, target: minmax}}
model: {layers: [{dense: 8, activation: relu}, {dense: 1}]}
compile:
  optimizer: {adam: {lr: 0.01}}
  loss: mae
  schedule: {step: {step_size: 1, gamma: 0.5}, interval: epoch, frequency: 2}
fit: {batch_size: 256, epochs: 5}
)");
  const ExampleRun r =
      cli("train " + (dir / "f.yaml").string() + " --quiet --set logging.dir=" + (dir / "runs").string());
  REQUIRE_CLI(r);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto history = nlohmann::json::parse(slurp(dir / "runs" / "freq" / "version_0" / "history.json"));
  const auto& lr = history.at("lr");
  ASSERT_EQ(lr.size(), 5u) << history.dump();
  for (int e = 0; e < 5; ++e)
    EXPECT_NEAR(lr[e].get<double>(), 0.01 * std::pow(0.5, (e + 1) / 2), 1e-9) << "epoch " << e;
  std::filesystem::remove_all(dir);
}

// A CLI run logs like Keras and Lightning: verbose 2 prints "Epoch i/N" before each epoch's line;
// metrics.csv's `step` is always the global step (epoch rows carry `epoch`); the MLflow run holds
// the history, weights and config as artifacts.
TEST(Cli, LoggedRunMatchesKerasLightningAndMlflowLayouts) {
  const auto dir = fresh_dir("cli_logged");
  // 1119 training rows at batch 256: 5 steps per epoch.
  write(dir / "l.yaml", R"(name: logged
seed: 0
data: {csv: data/winequality-red.csv, target: quality, split: {val: 0.3}, scale: {features: minmax, target: minmax}}
model: {layers: [{dense: 8, activation: relu}, {dense: 1}]}
compile: {optimizer: adam, loss: mae}
fit: {batch_size: 256, epochs: 3, verbose: 2}
logging: {mlflow: true, csv: true, log_every_n_steps: 2}
)");
  const ExampleRun r =
      cli("train " + (dir / "l.yaml").string() + " --set logging.dir=" + (dir / "runs").string());
  REQUIRE_CLI(r);
  ASSERT_EQ(r.status, 0) << r.output;
  for (int e = 1; e <= 3; ++e) {
    const auto at = r.output.find("Epoch " + std::to_string(e) + "/3\n");
    ASSERT_NE(at, std::string::npos) << r.output;
    EXPECT_EQ(r.output.compare(at + 10, 4, "5/5 "), 0) << r.output;  // the epoch's line follows its header
  }
  // metrics.csv: step rows at steps 2, 4, ...; epoch rows at the global step 5, 10, 15.
  std::istringstream csv(slurp(dir / "runs" / "logged" / "version_0" / "metrics.csv"));
  std::string header, line;
  std::getline(csv, header);
  std::vector<std::string> cols;
  for (std::stringstream h(header); std::getline(h, line, ',');) cols.push_back(line);
  const auto col = [&](const std::string& name) {
    return std::find(cols.begin(), cols.end(), name) - cols.begin();
  };
  ASSERT_EQ(cols.at(0), "step");
  ASSERT_LT(col("epoch"), static_cast<long>(cols.size())) << header;
  ASSERT_LT(col("val_loss"), static_cast<long>(cols.size())) << header;
  std::vector<std::pair<int, int>> epoch_rows;  // (step, epoch)
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    f.resize(cols.size());
    if (!f[col("epoch")].empty()) epoch_rows.push_back({std::stoi(f[0]), std::stoi(f[col("epoch")])});
  }
  EXPECT_EQ(epoch_rows, (std::vector<std::pair<int, int>>{{5, 0}, {10, 1}, {15, 2}}));
  // mlruns/<experiment>/<run>/artifacts/
  std::filesystem::path run;
  for (const auto& exp : std::filesystem::directory_iterator(dir / "runs" / "mlruns")) {
    if (!exp.is_directory() || exp.path().filename() == "0" || exp.path().filename() == ".trash") continue;
    for (const auto& d : std::filesystem::directory_iterator(exp.path()))
      if (d.is_directory()) run = d.path();
  }
  ASSERT_FALSE(run.empty());
  for (const char* file : {"history.json", "history.csv", "model.safetensors", "config.yaml"})
    EXPECT_TRUE(std::filesystem::exists(run / "artifacts" / file)) << file;
  std::filesystem::remove_all(dir);
}

namespace {

// Three classes named in the CSV (red, green, blue: class ids 0, 1, 2 in order of appearance), 50
// rows each, two features around a centre per class with normal noise: separable for the most
// part, with some overlap.
std::string three_class_csv() {
  std::mt19937 gen(7);
  std::normal_distribution<double> noise(0.0, 0.8);
  const char* names[] = {"red", "green", "blue"};
  const double centre[3][2] = {{0, 0}, {3, 0}, {1.5, 2.6}};
  std::ostringstream csv;
  csv << "f1,f2,colour\n";
  for (int i = 0; i < 150; ++i) {
    const int k = i % 3;
    csv << centre[k][0] + noise(gen) << "," << centre[k][1] + noise(gen) << "," << names[k] << "\n";
  }
  return csv.str();
}

// evaluate --confusion-matrix's table for `split`: the class names of its header and its counts.
struct ConfusionTable {
  std::vector<std::string> columns, rows;
  std::vector<std::vector<int64_t>> counts;
};
ConfusionTable confusion_table(const std::string& out, const std::string& split) {
  ConfusionTable t;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line) && line.rfind(split + " confusion matrix", 0) != 0) {
  }
  if (!std::getline(in, line)) return t;
  std::istringstream header(line);
  std::string word;
  for (const char* corner : {"true", "\\", "predicted"}) {
    header >> word;
    EXPECT_EQ(word, corner) << line;
  }
  while (header >> word) t.columns.push_back(word);
  for (size_t i = 0; i < t.columns.size() && std::getline(in, line); ++i) {
    std::istringstream row(line);
    row >> word;
    t.rows.push_back(word);
    t.counts.emplace_back();
    for (int64_t v; row >> v;) t.counts.back().push_back(v);
  }
  return t;
}

}  // namespace

// Precision, recall, f1 and auc on a multiclass model are macro averages (they used to abort with
// "confusion_matrix: scores [32,3] do not match 32 targets and 2 classes"), and evaluate
// --confusion-matrix prints the table with the class names predict writes, agreeing with the
// metrics evaluate prints beside it.
TEST(Cli, MulticlassMetricsAreMacroAndEvaluatePrintsTheConfusionMatrix) {
  const auto dir = fresh_dir("multiclass_metrics");
  write(dir / "colours.csv", three_class_csv());
  write(dir / "c.yaml", R"(name: colours
seed: 1
data:
  csv: )" + (dir / "colours.csv").string() +
                            R"(
  target: colour
  categorical: [colour]
  split: {val: 0.2}
  scale: {features: standard}
model:
  layers:
    - {dense: 16, activation: relu}
    - {dense: 3}
compile:
  optimizer: {adam: {lr: 0.02}}
  loss: cross_entropy
  metrics: [accuracy, precision, recall, f1, auc]
fit: {batch_size: 32, epochs: 15}
)");
  const std::string cfg = (dir / "c.yaml").string(), w = (dir / "w.safetensors").string();
  const ExampleRun t = cli("train " + cfg + " --quiet --save-weights " + w);
  REQUIRE_CLI(t);
  ASSERT_EQ(t.status, 0) << t.output;
  for (const char* m : {"val_precision", "val_recall", "val_f1", "val_auc"}) {
    const double v = value_in(t.output, "final:", m);
    EXPECT_GT(v, 0.5) << m << "\n" << t.output;  // mostly separable classes, after 15 epochs
    EXPECT_LE(v, 1.0) << m;
  }

  const ExampleRun e = cli("evaluate " + cfg + " --weights " + w + " --confusion-matrix");
  ASSERT_EQ(e.status, 0) << e.output;
  // ceil(0.2 * 150) = 30 validation rows, 120 training rows.
  for (const auto& [split, rows] :
       std::vector<std::pair<std::string, int64_t>>{{"train", 120}, {"val", 30}}) {
    const ConfusionTable c = confusion_table(e.output, split);
    const std::vector<std::string> names = {"red", "green", "blue"};
    ASSERT_EQ(c.columns, names) << e.output;
    ASSERT_EQ(c.rows, names) << e.output;
    int64_t total = 0, trace = 0;
    std::vector<double> predicted(3, 0), actual(3, 0);
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_EQ(c.counts[i].size(), 3u) << e.output;
      for (size_t j = 0; j < 3; ++j) {
        total += c.counts[i][j];
        actual[i] += double(c.counts[i][j]);
        predicted[j] += double(c.counts[i][j]);
      }
      trace += c.counts[i][i];
    }
    EXPECT_EQ(total, rows) << split << "\n" << e.output;
    // The table and the metrics on the line above it are the same predictions (printed to 6 digits).
    EXPECT_NEAR(double(trace) / double(total), value_in(e.output, split + ":", "accuracy"), 1e-5) << e.output;
    double precision = 0, recall = 0, f1 = 0;
    for (size_t k = 0; k < 3; ++k) {
      const double tp = double(c.counts[k][k]);
      precision += predicted[k] ? tp / predicted[k] : 0;
      recall += actual[k] ? tp / actual[k] : 0;
      f1 += 2 * tp / (predicted[k] + actual[k]);  // every class is in the targets
    }
    EXPECT_NEAR(precision / 3, value_in(e.output, split + ":", "precision"), 1e-5) << e.output;
    EXPECT_NEAR(recall / 3, value_in(e.output, split + ":", "recall"), 1e-5) << e.output;
    EXPECT_NEAR(f1 / 3, value_in(e.output, split + ":", "f1"), 1e-5) << e.output;
  }
  // The same names as predict's p_<class> columns.
  const ExampleRun p = cli("predict " + cfg + " --weights " + w + " --input " +
                           (dir / "colours.csv").string() + " --output -");
  ASSERT_EQ(p.status, 0) << p.output;
  EXPECT_EQ(p.output.substr(0, p.output.find('\n')), "p_red,p_green,p_blue,class");
  // On another CSV file too.
  const ExampleRun csv = cli("evaluate " + cfg + " --weights " + w + " --csv " +
                             (dir / "colours.csv").string() + " --confusion-matrix");
  ASSERT_EQ(csv.status, 0) << csv.output;
  const ConfusionTable all = confusion_table(csv.output, (dir / "colours.csv").string());
  ASSERT_EQ(all.counts.size(), 3u) << csv.output;
  int64_t total = 0;
  for (const auto& row : all.counts)
    for (int64_t v : row) total += v;
  EXPECT_EQ(total, 150) << csv.output;
  std::filesystem::remove_all(dir);
}
