// The model zoo against torchvision 0.14 (tests/nn/zoo_torchvision.py writes its state_dicts,
// inputs, outputs, gradients, layer shapes, parameter counts and initial statistics): strict
// loading of the state_dicts as safetensors, the key order, eval and train outputs, gradients and
// running statistics, summaries of nested models; and named Sequential children, the registry,
// option checks and clone().
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "neurona/io/safetensors.hpp"
#include "neurona/nn/init.hpp"
#include "neurona/nn/zoo.hpp"
#include "test_util.hpp"

namespace {

using namespace neurona;
using namespace neurona::testing;
using nlohmann::json;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A weights file as a state_dict, I64 entries marked as counts.
nn::StateDict read_state(const std::filesystem::path& p) {
  nn::StateDict sd;
  for (const auto& nt : io::load_safetensors(p).tensors) {
    sd.insert(nt.name, nt.tensor);
    if (nt.integer) sd.mark_integer(nt.name);
  }
  return sd;
}

// The difference on the reference's scale: max |a − b| / max |b| (absolute for a zero b).
double relative_difference(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return INFINITY;
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    worst = std::max(worst, std::abs(double(a.data()[i]) - b.data()[i]));
    scale = std::max(scale, std::abs(double(b.data()[i])));
  }
  return worst / (scale > 0 ? scale : 1);
}

// The files of zoo_torchvision.py, written once for the suite into a temporary directory.
class ZooTorchvision : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fresh_dir("zoo_torchvision");
    const std::string script = std::string(NEURONA_SOURCE_DIR) + "/tests/nn/zoo_torchvision.py";
    rc_ = std::system(("/usr/bin/python3 '" + script + "' '" + dir_.string() + "' > '" +
                       (dir_ / "log.txt").string() + "' 2>&1")
                          .c_str());
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  void SetUp() override {
    // scripts/install-deps.sh installs python3-torch and python3-torchvision: a failure, not a skip.
    ASSERT_EQ(rc_, 0) << "/usr/bin/python3 zoo_torchvision.py failed (needs python3-torch and "
                         "python3-torchvision):\n"
                      << slurp(dir_ / "log.txt");
  }
  static json read_json(const std::string& name) { return json::parse(slurp(dir_ / name)); }

  // Loads case `name`'s torchvision state_dict into `net` strictly, then compares the outputs
  // in eval and train mode, the buffers after the train-mode forward, and the gradients of
  // sum(train output · weights) with BatchNorm set as the script sets it (away from the ReLUs'
  // kinks), each within 1e-4 of the reference's largest magnitude.
  static void check_case(const std::string& name, nn::Sequential& net) {
    const nn::StateDict want = read_state(dir_ / (name + ".weights.safetensors"));
    const nn::StateDict mine = net.state_dict();
    ASSERT_EQ(mine.keys(), want.keys());  // the same keys in the same order
    for (const auto& [k, v] : want) {
      EXPECT_EQ(mine.at(k).shape(), v.shape()) << k;
      EXPECT_EQ(mine.is_integer(k), want.is_integer(k)) << k;  // num_batches_tracked is I64
    }
    net.load_state_dict(want, true);

    const io::SafetensorsContent ref = io::load_safetensors(dir_ / (name + ".io.safetensors"));
    const Tensor x = ref.at("input");
    std::map<std::string, double> worst;  // by kind: eval, train, after (buffers), grad
    auto compare = [&](const std::string& what, const Tensor& got, const Tensor& expected) {
      const double d = relative_difference(got, expected);
      EXPECT_LE(d, 1e-4) << name << " " << what;
      double& w = worst[what.substr(0, what.find('.'))];
      w = std::max(w, d);
    };
    {
      NoGradGuard no_grad;
      net.eval();
      compare("eval", net(x), ref.at("eval"));
      net.train();
      compare("train", net(x), ref.at("train"));
    }
    for (const auto& [k, b] : net.named_buffers()) compare("after." + k, b, ref.at("after." + k));

    const float bn_weight = std::stof(ref.metadata.at("bn_weight")),
                bn_bias = std::stof(ref.metadata.at("bn_bias"));
    for (auto& [path, m] : net.named_modules())
      if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(m.get())) {
        nn::init::constant_(bn->weight, bn_weight);
        nn::init::constant_(bn->bias, bn_bias);
      }
    Tensor xg = x.clone();
    xg.requires_grad_(true);
    net(xg).backward(ref.at("grad.output"));
    compare("grad.input", xg.grad(), ref.at("grad.input"));
    int grads = 0;
    for (const auto& [k, p] : net.named_parameters())
      for (const auto& nt : ref.tensors)
        if (nt.name == "grad." + k) compare(nt.name, p.grad(), nt.tensor), ++grads;
    EXPECT_EQ(grads, 2) << "the first convolution's and the last linear layer's weights";
    std::printf(
        "%s, largest difference from torchvision: eval %.2g, train %.2g, running statistics %.2g, "
        "gradients %.2g\n",
        name.c_str(), worst["eval"], worst["train"], worst["after"], worst["grad"]);
  }

  static inline std::filesystem::path dir_;
  static inline int rc_ = -1;
};

TEST_F(ZooTorchvision, Resnet18LoadsStrictlyAndMatchesEvalTrainAndGradients) {
  check_case("resnet18", *nn::resnet18({.num_classes = 10}));
}

TEST_F(ZooTorchvision, Resnet34LoadsStrictlyAndMatchesEvalTrainAndGradients) {
  check_case("resnet34", *nn::resnet34({.num_classes = 10}));
}

TEST_F(ZooTorchvision, MobilenetV2LoadsStrictlyAndMatchesEvalTrainAndGradients) {
  check_case("mobilenet_v2", *nn::mobilenet_v2({.num_classes = 10, .dropout = 0}));
}

TEST_F(ZooTorchvision, Resnet18OnGreyImages) {
  check_case("resnet18_gray", *nn::resnet18({.num_classes = 10, .in_channels = 1}));
}

TEST_F(ZooTorchvision, MobilenetV2WidthMultiplierOnGreyImages) {
  // width_mult 0.35: the stem's 11.2 channels round to 16, as torchvision's _make_divisible does.
  check_case("mobilenet_v2_w035_gray",
             *nn::mobilenet_v2({.num_classes = 10, .in_channels = 1, .dropout = 0, .width_mult = 0.35}));
}

TEST_F(ZooTorchvision, ParameterCountsAreTorchvisions) {
  const json counts = read_json("params.json");
  EXPECT_EQ(counts.at("resnet18").get<int64_t>(), 11689512);
  EXPECT_EQ(counts.at("mobilenet_v2").get<int64_t>(), 3504872);
  EXPECT_EQ(nn::resnet18()->num_parameters(), counts.at("resnet18").get<int64_t>());
  EXPECT_EQ(nn::resnet34()->num_parameters(), counts.at("resnet34").get<int64_t>());
  EXPECT_EQ(nn::mobilenet_v2()->num_parameters(), counts.at("mobilenet_v2").get<int64_t>());
}

// A fresh model's tensors have the mean and spread of torchvision's freshly made ones: kaiming
// normal with fan_out for the convolutions (fan_in would make the stem's 4.6 times wider),
// Linear's default for ResNet's fc, N(0, 0.01) for MobileNetV2's, BatchNorm 1 and 0.
TEST_F(ZooTorchvision, InitialisationHasTorchvisionsStatistics) {
  const json init = read_json("init.json");
  Generator gen(7);
  const std::pair<std::string, std::shared_ptr<nn::Sequential>> models[] = {
      {"resnet18", nn::resnet18({}, &gen)}, {"mobilenet_v2", nn::mobilenet_v2({}, &gen)}};
  for (const auto& [arch, net] : models) {
    const json& want = init.at(arch);
    const nn::StateDict sd = net->state_dict();
    ASSERT_EQ(sd.size(), want.size()) << arch;
    for (const auto& [k, t] : sd) {
      const double mean_w = want.at(k)[0], std_w = want.at(k)[1];
      const double n = double(t.numel());
      double mean = 0, sq = 0;
      for (int64_t i = 0; i < t.numel(); ++i) mean += t.data()[i];
      mean /= n;
      for (int64_t i = 0; i < t.numel(); ++i) sq += (t.data()[i] - mean) * (t.data()[i] - mean);
      const double sd_got = std::sqrt(sq / n);
      if (std_w == 0) {  // constants: BatchNorm, running statistics, zero biases
        EXPECT_EQ(sd_got, 0) << arch << " " << k;
        EXPECT_NEAR(mean, mean_w, 1e-12) << arch << " " << k;
        continue;
      }
      // Six standard errors of two independent samples (the std's relative error is ≈ 1/√(2n)).
      EXPECT_NEAR(sd_got / std_w, 1.0, 6 * std::sqrt(2.0 / (2 * n))) << arch << " " << k;
      EXPECT_NEAR(mean, mean_w, 6 * std_w * std::sqrt(2.0 / n)) << arch << " " << k;
    }
  }
}

// nn::summarize on a nested model: one row per torchvision leaf module, with its path, class,
// output shape and parameters; the flatten (and MobileNetV2's pooling, a function call in
// torchvision) are Neurona's extra rows without parameters.
TEST_F(ZooTorchvision, SummaryRowsAreTorchvisionsLeafModules) {
  const std::pair<std::string, std::shared_ptr<nn::Sequential>> models[] = {
      {"resnet18", nn::resnet18({.num_classes = 10})},
      {"mobilenet_v2", nn::mobilenet_v2({.num_classes = 10})}};
  for (const auto& [name, net] : models) {
    const json layers = read_json(name + ".layers.json");
    const nn::ModelSummary s = nn::summarize(*net, Shape{3, 64, 64});
    size_t row = 0;
    int64_t params = 0;
    for (const json& l : layers) {
      const std::string path = l[0], type = l[1];
      while (row < s.rows.size() && s.rows[row].name.rfind(path + " (", 0) != 0) {
        const std::string extra = s.rows[row].name;
        EXPECT_TRUE(extra.rfind("flatten (Flatten)", 0) == 0 || extra.rfind("avgpool (", 0) == 0)
            << name << ": row " << extra << " is not one of torchvision's";
        ++row;
      }
      ASSERT_LT(row, s.rows.size()) << name << ": no row for " << path;
      const nn::SummaryRow& r = s.rows[row++];
      EXPECT_EQ(r.name, path + " (" + type + ")");
      std::vector<int64_t> shape = l[2];
      shape[0] = 2;  // summarize runs a batch of 2
      EXPECT_EQ(r.output_shape, Shape(shape)) << r.name;
      EXPECT_EQ(r.params, l[3].get<int64_t>()) << r.name;
      params += r.params;
    }
    EXPECT_EQ(params, s.total);
    EXPECT_EQ(s.total, net->num_parameters());
    const std::string last = layers.back()[0];
    EXPECT_NE(s.table.find("│ " + last + " ("), std::string::npos) << s.table;
  }
  // Frozen blocks are counted as such, row by row.
  auto net = nn::resnet18({.num_classes = 10});
  (*net->at<nn::Sequential>(4))[0]->requires_grad(false);  // layer1.0
  const nn::ModelSummary s = nn::summarize(*net, Shape{3, 64, 64});
  EXPECT_EQ(s.non_trainable, 2 * (36864 + 128));
  for (const auto& r : s.rows)
    EXPECT_EQ(r.name.find(" frozen") != std::string::npos, r.name.rfind("layer1.0.", 0) == 0 && r.params > 0)
        << r.name;
}

// --- without torchvision --------------------------------------------------------------------------

TEST(Sequential, NamedChildrenKeepNamesAndPositions) {
  nn::Sequential seq;
  seq.add("fc1", std::make_shared<nn::Linear>(3, 4)).add(std::make_shared<nn::ReLU>());
  seq.add("head", std::make_shared<nn::Linear>(4, 2));
  ASSERT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq.named_children()[1].first, "1");  // an unnamed child is named by its position
  EXPECT_EQ(seq[2]->type_name(), "Linear");
  EXPECT_EQ(seq.at<nn::Linear>(0)->options().out_features, 4);
  EXPECT_EQ(seq.state_dict().keys(),
            (std::vector<std::string>{"fc1.weight", "fc1.bias", "head.weight", "head.bias"}));
  EXPECT_ERROR_CONTAINS(seq.add("fc1", std::make_shared<nn::ReLU>()), "'fc1' is already registered");
  EXPECT_ERROR_CONTAINS(seq.add("1", std::make_shared<nn::ReLU>()), "'1' is already registered");
  EXPECT_EQ(seq.size(), 3u);

  const auto copy = std::static_pointer_cast<nn::Sequential>(seq.clone());
  EXPECT_EQ(copy->state_dict().keys(), seq.state_dict().keys());
  const Tensor x = Tensor::normal({5, 3});
  EXPECT_EQ((*copy)(x).to_vector(), seq(x).to_vector());
}

TEST(Zoo, UnknownArchitectureNamesTheNearestOrTheList) {
  EXPECT_ERROR_CONTAINS(nn::architectures().get("resnet19"),
                        "unknown architecture 'resnet19' (did you mean 'resnet18'?)");
  EXPECT_ERROR_CONTAINS(nn::architectures().get("mobilenetv3"), "did you mean 'mobilenet_v2'?");
  EXPECT_ERROR_CONTAINS(nn::architectures().get("vgg"),
                        "(valid: resnet18, resnet34, mobilenet_v2, fashion_mnist_cnn)");
  EXPECT_EQ(nn::architectures().get("ResNet18").name, "resnet18");  // any case
}

TEST(Zoo, BadOptionsAreErrorsNamingTheKey) {
  EXPECT_ERROR_CONTAINS(nn::resnet18({.num_classes = 0}), "resnet18: num_classes must be at least 1, got 0");
  EXPECT_ERROR_CONTAINS(nn::resnet34({.in_channels = 0}), "resnet34: in_channels must be at least 1");
  EXPECT_ERROR_CONTAINS(nn::mobilenet_v2({.width_mult = 0}), "mobilenet_v2: width_mult must be > 0");
  EXPECT_ERROR_CONTAINS(nn::mobilenet_v2({.width_mult = -1}), "width_mult must be > 0");
  EXPECT_ERROR_CONTAINS(nn::mobilenet_v2({.dropout = 1}), "mobilenet_v2: dropout must be in [0, 1), got 1");
  EXPECT_ERROR_CONTAINS(nn::mobilenet_v2({.dropout = -0.1}), "dropout must be in [0, 1)");
  EXPECT_ERROR_CONTAINS(nn::mobilenet_v2({.dropout = NAN}), "dropout must be in [0, 1)");
  EXPECT_ERROR_CONTAINS(nn::fashion_mnist_cnn({.image_size = 3}),
                        "fashion_mnist_cnn: image_size must be at least 4");
  // Through the registry: the same checks, and keys the architecture does not read.
  const auto& r18 = nn::architectures().get("resnet18");
  EXPECT_ERROR_CONTAINS(r18.make(r18.options_from({{"num_classes", "-3"}})),
                        "num_classes must be at least 1, got -3");
  EXPECT_ERROR_CONTAINS(r18.make(r18.options_from({{"width_mult", "0.5"}})),
                        "resnet18 has no option 'width_mult'");
  EXPECT_ERROR_CONTAINS(r18.make(r18.options_from({{"num_clases", "10"}})), "(did you mean 'num_classes'?)");
  EXPECT_ERROR_CONTAINS(r18.make(r18.options_from({{"num_classes", "ten"}})),
                        "num_classes: expected a whole number");
}

TEST(Zoo, RegistryRowsBuildTheModelsWithTheirOptions) {
  EXPECT_EQ(nn::architectures().names(),
            (std::vector<std::string>{"resnet18", "resnet34", "mobilenet_v2", "fashion_mnist_cnn"}));
  for (const auto& e : nn::architectures().entries()) EXPECT_FALSE(e.summary.empty()) << e.name;
  const auto& mb = nn::architectures().get("mobilenet_v2");
  EXPECT_EQ(mb.option_names(),
            (std::vector<std::string>{"num_classes", "in_channels", "dropout", "width_mult"}));
  EXPECT_EQ(mb.option("num_classes")->default_value, "1000");
  EXPECT_EQ(mb.option("dropout")->default_value, "0.2");
  EXPECT_EQ(mb.option("width_mult")->default_value, "1");
  const auto& cnn = nn::architectures().get("fashion_mnist_cnn");
  EXPECT_EQ(cnn.option("num_classes")->default_value, "10");
  EXPECT_EQ(cnn.option("in_channels")->default_value, "1");
  EXPECT_EQ(cnn.option("image_size")->default_value, "28");

  auto shapes = [](const nn::Module& m) {
    std::vector<std::string> v;
    for (const auto& [k, t] : m.state_dict()) v.push_back(k + " " + t.shape().str());
    return v;
  };
  const auto built =
      mb.make(mb.options_from({{"num_classes", "7"}, {"in_channels", "1"}, {"width_mult", "0.5"}}));
  EXPECT_EQ(shapes(*built),
            shapes(*nn::mobilenet_v2({.num_classes = 7, .in_channels = 1, .width_mult = 0.5})));
  EXPECT_FLOAT_EQ(built->at<nn::Sequential>(3)->at<nn::Dropout>(0)->options().p, 0.2f);
  const auto& r34 = nn::architectures().get("resnet34");
  EXPECT_EQ(shapes(*r34.make(r34.options_from({{"num_classes", "10"}}))),
            shapes(*nn::resnet34({.num_classes = 10})));
  EXPECT_EQ(shapes(*cnn.make(cnn.options_from({}))), shapes(*nn::fashion_mnist_cnn()));
}

// fashion_mnist_cnn is the layers examples/fashion_mnist_cnn.yaml writes, built by nn::layers()'s
// rows as configs are: the same keys and shapes, and the same outputs from the same tensors.
TEST(Zoo, FashionMnistCnnIsTheConfigsLayers) {
  const std::vector<std::pair<std::string, std::map<std::string, std::string>>> layers = {
      {"conv2d", {{"out_channels", "32"}, {"kernel_size", "3"}, {"padding", "same"}, {"activation", "relu"}}},
      {"max_pool2d", {{"kernel_size", "2"}}},
      {"conv2d", {{"out_channels", "64"}, {"kernel_size", "3"}, {"padding", "same"}, {"activation", "relu"}}},
      {"max_pool2d", {{"kernel_size", "2"}}},
      {"flatten", {}},
      {"dense", {{"units", "128"}, {"activation", "relu"}}},
      {"dense", {{"units", "10"}}}};
  nn::Sequential config;
  std::vector<int64_t> sample = {1, 28, 28};
  for (const auto& [kind, options] : layers) {
    const auto& e = nn::layers().get(kind);
    auto m = e.make(e.options_from(options), nn::LayerInput{sample});
    config.add(m);
    std::vector<int64_t> batch = {1};
    batch.insert(batch.end(), sample.begin(), sample.end());
    const Shape out = m->forward(Tensor::zeros(Shape(batch))).shape();
    sample.assign(out.dims().begin() + 1, out.dims().end());
  }
  auto zoo = nn::fashion_mnist_cnn();
  ASSERT_EQ(zoo->size(), config.size());
  for (size_t i = 0; i < zoo->size(); ++i) {
    EXPECT_EQ((*zoo)[i]->type_name(), config[i]->type_name()) << i;
    EXPECT_EQ((*zoo)[i]->option_values(), config[i]->option_values()) << i;
  }
  config.load_state_dict(zoo->state_dict(), true);
  const Tensor x = Tensor::normal({3, 1, 28, 28});
  EXPECT_EQ((*zoo)(x).shape(), (Shape{3, 10}));
  EXPECT_EQ((*zoo)(x).to_vector(), config(x).to_vector());
  EXPECT_EQ(nn::fashion_mnist_cnn({.num_classes = 5, .in_channels = 3, .image_size = 32})->num_parameters(),
            3 * 9 * 32 + 32 + 32 * 9 * 64 + 64 + 64 * 8 * 8 * 128 + 128 + 128 * 5 + 5);
}

// "path type" of every module, depth first.
std::vector<std::string> tree(nn::Module& m) {
  std::vector<std::string> v;
  for (const auto& [n, child] : m.named_modules()) v.push_back(n + " " + child->type_name());
  return v;
}

// clone() copies a whole zoo model: the same tree and block types, equal outputs in eval and train
// mode, and tensors of its own.
TEST(Zoo, CloneGivesEqualOutputsAndOwnTensors) {
  const std::shared_ptr<nn::Sequential> models[] = {
      nn::resnet18({.num_classes = 10}), nn::mobilenet_v2({.num_classes = 10, .dropout = 0}),
      nn::fashion_mnist_cnn({.in_channels = 3, .image_size = 32})};
  const Tensor x = Tensor::normal({2, 3, 32, 32});
  for (const auto& net : models) {
    const auto copy = nn::clone(net);
    const std::vector<std::string> types = tree(*net);
    EXPECT_EQ(tree(*copy), types);
    for (bool train : {false, true}) {
      net->train(train);
      copy->train(train);
      EXPECT_EQ((*copy)(x).to_vector(), (*net)(x).to_vector()) << types[1] << " train " << train;
    }
    // Train mode updated both models' running statistics alike; the copy's tensors are its own.
    EXPECT_EQ(copy->state_dict().keys(), net->state_dict().keys());
    Tensor w = copy->parameters().front();
    w.data()[0] += 1.f;
    EXPECT_NE(net->parameters().front().data()[0], w.data()[0]);
  }
  const std::vector<std::string> r18 = tree(*models[0]), mb = tree(*models[1]);
  EXPECT_NE(std::find(r18.begin(), r18.end(), "layer2.0 BasicBlock"), r18.end());
  EXPECT_NE(std::find(mb.begin(), mb.end(), "features.2 InvertedResidual"), mb.end());
  EXPECT_NE(std::find(mb.begin(), mb.end(), "features.2.conv.0 Conv2dNormActivation"), mb.end());
}

}  // namespace
