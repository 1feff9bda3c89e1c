// The course's LitClassifier (seed 000), Lightning style: one Linear layer 784 → 10 on
// Fashion-MNIST, cross-entropy, Adam(lr=1e-3), trained by a Trainer for one epoch, then tested.
//
// usage: lit_classifier [--data DIR] [--limit-batches N]
#include <cstdio>
#include <cstring>
#include <string>

#include "neurona/neurona.hpp"

using namespace neurona;

class LitClassifier : public train::LightningModule {
 public:
  LitClassifier() { layer = register_module("layer", std::make_shared<nn::Linear>(28 * 28, 10)); }
  std::string type_name() const override { return "LitClassifier"; }

  Tensor forward(const Tensor& x) override { return (*layer)(x.flatten(1)); }

  Tensor training_step(const data::Batch& batch, int64_t) override {
    Tensor loss = nn::F::cross_entropy(forward(batch.x), batch.y);
    log("train_loss", loss, batch.size());
    return loss;
  }
  void validation_step(const data::Batch& batch, int64_t) override { evaluate(batch, "val"); }
  void test_step(const data::Batch& batch, int64_t) override { evaluate(batch, "test"); }

  train::OptimizerConfig configure_optimizers() override {
    train::OptimizerConfig c;
    optim::AdamOptions o;
    o.lr = 1e-3;
    c.optimizer = std::make_shared<optim::Adam>(parameters(), o);
    return c;
  }

 private:
  void evaluate(const data::Batch& batch, const std::string& stage) {
    Tensor logits = forward(batch.x);
    log(stage + "_loss", nn::F::cross_entropy(logits, batch.y), batch.size());
    log(stage + "_acc", mean(eq(argmax(logits, 1), batch.y.reshape({-1}))), batch.size());
  }
  std::shared_ptr<nn::Linear> layer;
};

int main(int argc, char** argv) {
  try {
    std::string dir;
    int64_t limit = -1;
    for (int i = 1; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--data") && i + 1 < argc)
        dir = argv[++i];
      else if (!std::strcmp(argv[i], "--limit-batches") && i + 1 < argc)
        limit = std::stoll(argv[++i]);
      else
        fail("unknown argument '", argv[i], "' (usage: lit_classifier [--data DIR] [--limit-batches N])");
    }
    const data::MnistData fashion = data::load_fashion_mnist(dir);
    auto train_set = std::make_shared<data::TensorDataset>(fashion.train.images, fashion.train.labels);
    auto test_set = std::make_shared<data::TensorDataset>(fashion.test.images, fashion.test.labels);
    data::LoaderOptions lo;
    lo.batch_size = 64;
    lo.shuffle = true;
    data::DataLoader train_loader(train_set, lo);
    lo.shuffle = false;
    data::DataLoader test_loader(test_set, lo);

    manual_seed(0);
    LitClassifier model;
    train::TrainerOptions to;
    to.max_epochs = 1;
    to.limit_train_batches = limit;
    train::Trainer trainer(to);
    trainer.fit(model, train_loader);
    const train::Logs test = trainer.test(model, test_loader);
    std::printf("test_loss: %.4f - test_acc: %.4f\n", test.at("test_loss"), test.at("test_acc"));
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "lit_classifier: error: %s\n", e.what());
    return 1;
  }
}
