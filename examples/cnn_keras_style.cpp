// The course's first CNN written the Keras way, in C++: a Sequential of Conv2D / MaxPooling2D /
// Flatten / Dense layers, compile(optimizer, loss, metrics), fit(epochs, batch_size,
// validation_split), evaluate() on the test images. The same model and recipe as
// examples/fashion_mnist_cnn.yaml (bench workload W3):
//
//   Keras                                              Neurona
//   Conv2D(32, 3, padding="same", activation="relu")   conv(1, 32)       (in channels are explicit)
//   MaxPooling2D(2)                                    pool()
//   Flatten()                                          nn::Flatten
//   Dense(128, activation="relu")                      nn::Dense(64 * 7 * 7, 128, "relu")
//   model.compile(SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy", ["accuracy"])
//
// usage: cnn_keras_style [--data DIR] [--epochs N] [--limit N] [--test-limit N] [--quiet]
//   --limit N       train on the first N training images (default: all 60,000)
//   --test-limit N  score the first N test images (default: all 10,000)
#include <cstdio>
#include <cstring>
#include <string>

#include "neurona/neurona.hpp"

using namespace neurona;

namespace {

// Keras's Conv2D(filters, 3, padding="same", activation="relu") on `in` channels.
std::shared_ptr<nn::Conv2d> conv(int64_t in, int64_t filters) {
  return std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = in,
                                                        .out_channels = filters,
                                                        .kernel_size = {3, 3},
                                                        .padding = {.same = true},
                                                        .activation = "relu"});
}
// Keras's MaxPooling2D(2).
std::shared_ptr<nn::MaxPool2d> pool() {
  return std::make_shared<nn::MaxPool2d>(nn::Pool2dOptions{.kernel_size = {2, 2}});
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string dir;
    int64_t epochs = 3, limit = 0, test_limit = 0;
    int verbose = 2;
    for (int i = 1; i < argc; ++i) {
      auto value = [&] {
        check(i + 1 < argc, "cnn_keras_style: ", argv[i], " needs a value");
        return std::string(argv[++i]);
      };
      if (!std::strcmp(argv[i], "--data"))
        dir = value();
      else if (!std::strcmp(argv[i], "--epochs"))
        epochs = std::stoll(value());
      else if (!std::strcmp(argv[i], "--limit"))
        limit = std::stoll(value());
      else if (!std::strcmp(argv[i], "--test-limit"))
        test_limit = std::stoll(value());
      else if (!std::strcmp(argv[i], "--quiet"))
        verbose = 0;
      else
        fail("unknown argument '", argv[i],
             "' (usage: cnn_keras_style [--data DIR] [--epochs N] [--limit N] [--test-limit N] [--quiet])");
    }
    // Images arrive as [N, 1, 28, 28] in [0, 1] (Keras's Rescaling(1/255)), labels as class ids.
    data::MnistData fashion = data::load_fashion_mnist(dir);
    auto first = [](data::ImageSet& s, int64_t n) {
      if (n <= 0 || n >= s.images.size(0)) return;
      s.images = s.images.slice(0, n);
      s.labels = s.labels.slice(0, n);
    };
    first(fashion.train, limit);
    first(fashion.test, test_limit);

    manual_seed(0);
    auto net = std::make_shared<nn::Sequential>();
    net->add(conv(1, 32));                         // [N, 32, 28, 28]
    net->add(pool());                              // [N, 32, 14, 14]
    net->add(conv(32, 64));                        // [N, 64, 14, 14]
    net->add(pool());                              // [N, 64, 7, 7]
    net->add(std::make_shared<nn::Flatten>());     // [N, 3136]
    net->add(nn::Dense(64 * 7 * 7, 128, "relu"));  // [N, 128]
    net->add(nn::Dense(128, 10));                  // [N, 10] logits
    std::printf("%s", nn::summary(*net, {1, 28, 28}).c_str());

    train::Model model(net);
    model.compile("sgd", "sparse_categorical_crossentropy", {"accuracy"}, {{"lr", 0.01}, {"momentum", 0.9}});
    train::FitOptions fo;
    fo.epochs = epochs;
    fo.batch_size = 64;
    fo.validation_split = 0.1;  // the last 10 % of the training images, as Keras takes them
    fo.verbose = verbose;
    const train::History h = model.fit(data::TensorDataset(fashion.train.images, fashion.train.labels), fo);

    const train::Logs test =
        model.evaluate(data::TensorDataset(fashion.test.images, fashion.test.labels), /*batch_size=*/256);
    std::printf("epochs run: %zu\n", h.size());
    std::printf("final val_accuracy: %.4f\n", h["val_accuracy"].back());
    std::printf("test_loss: %.4f - test_accuracy: %.4f\n", test.at("loss"), test.at("accuracy"));
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "cnn_keras_style: error: %s\n", e.what());
    return 1;
  }
}
