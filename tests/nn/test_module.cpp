// Module machinery: names, state_dict, freezing, copies, a user-defined module, summary().
#include "nn/fixture_util.hpp"

using namespace neurona;
using namespace neurona::testing;

namespace {

// A user module: two Linear layers and a residual connection, y = fc2(relu(fc1(x))) + x.
struct Residual : nn::Cloneable<Residual> {
  explicit Residual(int64_t d) : d(d) { reset(); }
  void reset() override {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(d, d, true, nn::Activation::ReLU));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(d, d));
  }
  Tensor forward(const Tensor& x) override { return (*fc2)((*fc1)(x)) + x; }
  std::string type_name() const override { return "Residual"; }
  int64_t d;
  std::shared_ptr<nn::Linear> fc1, fc2;
};

struct Net : nn::Cloneable<Net> {
  Net() { reset(); }
  void reset() override {
    encoder = register_module("encoder", std::make_shared<Residual>(2));
    head = register_module("head", std::make_shared<nn::Linear>(2, 1));
  }
  Tensor forward(const Tensor& x) override { return (*head)((*encoder)(x)); }
  std::shared_ptr<Residual> encoder;
  std::shared_ptr<nn::Linear> head;
};

void sgd_step(nn::Module& m, float lr) {
  NoGradGuard ng;
  for (auto& p : m.parameters()) {
    if (!p.grad().defined()) continue;
    float* w = p.data();
    const float* g = p.grad().data();
    for (int64_t i = 0; i < p.numel(); ++i) w[i] -= lr * g[i];
  }
}

}  // namespace

TEST(Module, CustomResidualModuleTrainsAndHasNestedNames) {
  manual_seed(42);
  auto net = std::make_shared<Net>();
  std::vector<std::string> expect{"encoder.fc1.weight", "encoder.fc1.bias", "encoder.fc2.weight",
                                  "encoder.fc2.bias",   "head.weight",      "head.bias"};
  EXPECT_EQ(net->state_dict().keys(), expect);
  EXPECT_EQ(net->num_parameters(), 4 + 2 + 4 + 2 + 2 + 1);
  // Residual forward = fc2(relu(fc1 x)) + x, checked by hand on one sample.
  Tensor x1 = Tensor::from({0.5f, -1.f}, {1, 2});
  Tensor h = nn::F::relu(matmul(x1, net->encoder->fc1->weight.t()) + net->encoder->fc1->bias);
  Tensor r = matmul(h, net->encoder->fc2->weight.t()) + net->encoder->fc2->bias + x1;
  expect_values((*net->encoder)(x1), r.to_vector());

  // Learn y = x0 - 2 x1 on four points with plain SGD; the loss must drop.
  Tensor x = Tensor::from({1, 0, 0, 1, 1, 1, -1, 0.5f}, {4, 2});
  Tensor y = Tensor::from({1, -2, -1, -2}, {4, 1});
  float first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    net->zero_grad();
    Tensor loss = nn::F::mse_loss((*net)(x), y);
    loss.backward();
    sgd_step(*net, 0.05f);
    if (step == 0) first = loss.item();
    last = loss.item();
  }
  EXPECT_LT(last, 0.1f * first);
  EXPECT_LT(last, 0.05f);
}

TEST(Module, SequentialNamesIndexAndStr) {
  nn::Sequential seq{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::ReLU>()};
  seq.add(std::make_shared<nn::Linear>(4, 2));
  EXPECT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq.state_dict().keys(), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(seq.at<nn::Linear>(2)->options().out_features, 2);
  EXPECT_ERROR_CONTAINS(seq.at<nn::Linear>(1), "layer 1 is a ReLU");
  EXPECT_ERROR_CONTAINS(seq[7], "index 7 is out of range for 3 layers");
  EXPECT_NE(seq.str().find("(2): Linear(in_features=4, out_features=2, bias=true)"), std::string::npos)
      << seq.str();
  EXPECT_ERROR_CONTAINS(seq(Tensor::zeros({2, 5})), "Sequential layer 0 (Linear)");
  EXPECT_EQ(seq(Tensor::zeros({5, 3})).shape(), (Shape{5, 2}));
}

TEST(Module, StateDictRoundTripAndErrors) {
  manual_seed(1);
  nn::Sequential a{std::make_shared<nn::Linear>(3, 2), std::make_shared<nn::BatchNorm1d>(2)};
  manual_seed(2);
  nn::Sequential b{std::make_shared<nn::Linear>(3, 2), std::make_shared<nn::BatchNorm1d>(2)};
  a(Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3}));  // moves a's running stats
  b.load_state_dict(a.state_dict());
  for (const auto& [k, v] : a.state_dict()) expect_values(b.state_dict().at(k), v.to_vector(), 0.f);
  EXPECT_EQ(a.state_dict().keys(),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                      "1.running_var", "1.num_batches_tracked"}));

  nn::StateDict missing;
  for (const auto& [k, v] : a.state_dict())
    if (k != "0.bias") missing.insert(k, v);
  EXPECT_ERROR_CONTAINS(b.load_state_dict(missing), "missing keys: 0.bias");
  b.load_state_dict(missing, false);  // non-strict ignores it

  nn::StateDict extra = a.state_dict();
  extra.insert("2.weight", Tensor::zeros({1}));
  EXPECT_ERROR_CONTAINS(b.load_state_dict(extra), "unexpected keys: 2.weight");

  nn::StateDict wrong = a.state_dict();
  wrong.insert("0.weight", Tensor::zeros({3, 2}));
  EXPECT_ERROR_CONTAINS(b.load_state_dict(wrong, false), "0.weight (expected [2,3], got [3,2])");
}

TEST(Module, TrainEvalFreezeAndZeroGrad) {
  nn::Sequential seq{std::make_shared<nn::Linear>(2, 2), std::make_shared<nn::Dropout>(0.5f)};
  EXPECT_TRUE(seq[1]->is_training());
  seq.eval();
  EXPECT_FALSE(seq[1]->is_training());
  seq.train();
  EXPECT_TRUE(seq[1]->is_training());

  seq[0]->requires_grad(false);
  EXPECT_EQ(seq.num_parameters(true), 0);
  EXPECT_EQ(seq.num_parameters(), 6);
  Tensor x = Tensor::ones({3, 2}).requires_grad_(true);
  sum(seq(x)).backward();
  EXPECT_FALSE(seq.parameters()[0].grad().defined());  // frozen: no gradient
  seq[0]->requires_grad(true);
  seq.parameters()[1].requires_grad_(false);  // freeze just the bias
  EXPECT_EQ(seq.num_parameters(true), 4);
  seq.eval();
  sum(seq(x)).backward();
  EXPECT_TRUE(seq.parameters()[0].grad().defined());
  seq.zero_grad();
  EXPECT_FALSE(seq.parameters()[0].grad().defined());
}

TEST(Module, CloneIsDeep) {
  manual_seed(3);
  auto net = std::make_shared<Net>();
  net->head->requires_grad(false);
  net->encoder->eval();
  auto copy = nn::clone(net);
  EXPECT_EQ(copy->state_dict().keys(), net->state_dict().keys());
  for (const auto& [k, v] : net->state_dict()) expect_values(copy->state_dict().at(k), v.to_vector(), 0.f);
  EXPECT_FALSE(copy->head->weight.requires_grad());
  EXPECT_FALSE(copy->encoder->is_training());
  EXPECT_TRUE(copy->is_training());
  // Changing the copy leaves the original alone, and the copy's members are its registered tensors.
  copy->encoder->fc1->weight.data()[0] += 1.f;
  EXPECT_NE(copy->encoder->fc1->weight.data()[0], net->encoder->fc1->weight.data()[0]);
  EXPECT_EQ(copy->state_dict().at("encoder.fc1.weight").data()[0], copy->encoder->fc1->weight.data()[0]);

  nn::Sequential seq{std::make_shared<nn::Linear>(2, 3), std::make_shared<nn::BatchNorm1d>(3)};
  auto seq2 = seq.clone();
  seq2->parameters()[0].data()[0] = 100.f;
  EXPECT_NE(seq.parameters()[0].data()[0], 100.f);
  EXPECT_EQ(seq2->state_dict().keys(), seq.state_dict().keys());

  struct NoClone : nn::Module {
    std::string type_name() const override { return "NoClone"; }
  };
  EXPECT_ERROR_CONTAINS(NoClone().clone(), "nn::Cloneable<NoClone>");
}

TEST(Module, RegistrationErrors) {
  struct M : nn::Module {
    M() { register_parameter("w", Tensor::ones({2})); }
    void again() { register_buffer("w", Tensor::ones({2})); }
    void dotted() { register_parameter("a.b", Tensor::ones({2})); }
    std::string type_name() const override { return "M"; }
  } m;
  EXPECT_ERROR_CONTAINS(m.again(), "M: 'w' is already registered");
  EXPECT_ERROR_CONTAINS(m.dotted(), "contain no '.'");
  EXPECT_ERROR_CONTAINS(m(Tensor::ones({2})), "M: forward() is not implemented");
}

TEST(Summary, CourseDropoutBatchNormModelMatchesPyTorchParamCount) {
  nn::Sequential model;
  int64_t width = 11;
  for (int i = 0; i < 3; ++i) {
    model.add(nn::Dense(width, 1024, "relu"));
    model.add(std::make_shared<nn::Dropout>(0.3f));
    model.add(std::make_shared<nn::BatchNorm1d>(1024));
    width = 1024;
  }
  model.add(nn::Dense(1024, 1));
  auto s = nn::summarize(model, Shape{11});
  const auto total = static_cast<int64_t>(fixture("summary.total_params")[0]);
  EXPECT_EQ(total, 2118657);  // PyTorch's count (BatchNorm γ and β included, running stats are buffers)
  EXPECT_EQ(s.total, total);
  EXPECT_EQ(s.trainable, total);
  EXPECT_EQ(s.non_trainable, 0);
  EXPECT_EQ(static_cast<double>(model.state_dict().size()), fixture("summary.keys_count")[0]);
  ASSERT_EQ(s.rows.size(), 10u);
  EXPECT_EQ(s.rows[0].name, "0 (Linear)");
  EXPECT_EQ(s.rows[0].params, 11 * 1024 + 1024);
  EXPECT_EQ(s.rows[0].output_shape, (Shape{2, 1024}));
  EXPECT_EQ(s.rows[9].output_shape, (Shape{2, 1}));
  EXPECT_NE(s.table.find("Total params: 2,118,657"), std::string::npos) << s.table;
  EXPECT_NE(s.table.find("(None, 1024)"), std::string::npos) << s.table;
  EXPECT_TRUE(model.is_training());  // summary restores the mode

  model[0]->requires_grad(false);
  auto frozen = nn::summarize(model, Shape{11});
  EXPECT_EQ(frozen.non_trainable, 11 * 1024 + 1024);
  EXPECT_NE(frozen.table.find("Non-trainable params: 12,288"), std::string::npos) << frozen.table;
}
