// A Fashion-MNIST CNN written Lightning's way: a LightningModule that owns its layers (two
// conv-BatchNorm2d-ReLU-max-pool blocks, Dropout2d, a dense head), says what one training,
// validation and test step is and which optimizer it wants (SGD, lr 0.01, momentum 0.9), and a
// Trainer that runs it. The data comes from a DataModule (10 % of the training images held out
// for validation, batches of 64), as LightningDataModule hands them out.
//
// usage: cnn_lightning [--data DIR] [--epochs N] [--limit-batches N] [--test-limit N]
//   --limit-batches N  train on N batches per epoch and validate on N (Trainer's limit_*_batches)
//   --test-limit N     test on the first N test images (default: all 10,000)
#include <cstdio>
#include <cstring>
#include <string>

#include "neurona/neurona.hpp"

using namespace neurona;

class LitCNN : public train::LightningModule {
 public:
  LitCNN() {
    conv1 = register_module("conv1", conv(1, 32));
    bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(32));
    conv2 = register_module("conv2", conv(32, 64));
    bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(64));
    pool = register_module("pool", std::make_shared<nn::MaxPool2d>(nn::Pool2dOptions{.kernel_size = {2, 2}}));
    drop = register_module("drop", std::make_shared<nn::Dropout2d>(nn::Dropout2dOptions{.p = 0.1f}));
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(64 * 7 * 7, 128, true, nn::Activation::ReLU));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(128, 10));
  }
  std::string type_name() const override { return "LitCNN"; }

  // [N, 1, 28, 28] -> [N, 32, 14, 14] -> [N, 64, 7, 7] -> [N, 10] logits.
  Tensor forward(const Tensor& x) override {
    Tensor h = (*pool)(nn::F::relu((*bn1)((*conv1)(x))));
    h = (*drop)((*pool)(nn::F::relu((*bn2)((*conv2)(h)))));
    return (*fc2)((*fc1)(h.flatten(1)));
  }

  Tensor training_step(const data::Batch& batch, int64_t) override {
    Tensor logits = forward(batch.x);
    Tensor loss = nn::F::cross_entropy(logits, batch.y);
    log("train_loss", loss, batch.size());
    log("train_acc", accuracy(logits, batch.y), batch.size());
    return loss;
  }
  void validation_step(const data::Batch& batch, int64_t) override { evaluate(batch, "val"); }
  void test_step(const data::Batch& batch, int64_t) override { evaluate(batch, "test"); }

  train::OptimizerConfig configure_optimizers() override {
    train::OptimizerConfig c;
    c.optimizer = std::make_shared<optim::SGD>(parameters(), optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
    return c;
  }

 private:
  // 3x3 convolution with 'same' padding; BatchNorm2d follows, so no bias (it would be cancelled).
  static std::shared_ptr<nn::Conv2d> conv(int64_t in, int64_t out) {
    return std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = in,
                                                          .out_channels = out,
                                                          .kernel_size = {3, 3},
                                                          .padding = {.same = true},
                                                          .bias = false});
  }
  static Tensor accuracy(const Tensor& logits, const Tensor& y) {
    return mean(eq(argmax(logits, 1), y.reshape({-1})));
  }
  void evaluate(const data::Batch& batch, const std::string& stage) {
    Tensor logits = forward(batch.x);
    log(stage + "_loss", nn::F::cross_entropy(logits, batch.y), batch.size());
    log(stage + "_acc", accuracy(logits, batch.y), batch.size());
  }
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::MaxPool2d> pool;
  std::shared_ptr<nn::Dropout2d> drop;
  std::shared_ptr<nn::Linear> fc1, fc2;
};

int main(int argc, char** argv) {
  try {
    std::string dir;
    int64_t epochs = 1, limit = -1, test_limit = 0;
    for (int i = 1; i < argc; ++i) {
      auto value = [&] {
        check(i + 1 < argc, "cnn_lightning: ", argv[i], " needs a value");
        return std::string(argv[++i]);
      };
      if (!std::strcmp(argv[i], "--data"))
        dir = value();
      else if (!std::strcmp(argv[i], "--epochs"))
        epochs = std::stoll(value());
      else if (!std::strcmp(argv[i], "--limit-batches"))
        limit = std::stoll(value());
      else if (!std::strcmp(argv[i], "--test-limit"))
        test_limit = std::stoll(value());
      else
        fail("unknown argument '", argv[i],
             "' (usage: cnn_lightning [--data DIR] [--epochs N] [--limit-batches N] [--test-limit N])");
    }
    const data::MnistData fashion = data::load_fashion_mnist(dir);
    data::DataModuleOptions dm;
    dm.val_fraction = 0.1;
    dm.train_loader.batch_size = 64;
    dm.eval_batch_size = 256;
    auto module = data::DataModule::from_tensors(fashion.train.images, fashion.train.labels, dm);
    Tensor test_x = fashion.test.images, test_y = fashion.test.labels;
    if (test_limit > 0 && test_limit < test_x.size(0)) {
      test_x = test_x.slice(0, test_limit);
      test_y = test_y.slice(0, test_limit);
    }
    data::DataLoader test_loader(std::make_shared<data::TensorDataset>(test_x, test_y),
                                 data::LoaderOptions{.batch_size = 256, .shuffle = false});

    manual_seed(0);
    LitCNN model;
    train::TrainerOptions to;
    to.max_epochs = epochs;
    to.limit_train_batches = limit;
    to.limit_val_batches = limit;
    to.verbose = 2;
    train::Trainer trainer(to);
    data::DataLoader train_loader = module.train_loader(), val_loader = module.val_loader();
    trainer.fit(model, train_loader, &val_loader);
    const train::Logs test = trainer.test(model, test_loader);
    std::printf("test_loss: %.4f - test_acc: %.4f\n", test.at("test_loss"), test.at("test_acc"));
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "cnn_lightning: error: %s\n", e.what());
    return 1;
  }
}
