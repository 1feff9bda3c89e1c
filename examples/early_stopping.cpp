// The course's early-stopping lesson (4.5): red wine quality, 11 → 512 → 512 → 512 → 1 with ReLU,
// Adam, mean absolute error, batch 256, up to 500 epochs, and EarlyStopping(min_delta=0.001,
// patience=20, restore_best_weights=True). As in the lesson, 70 % of the rows (drawn with a seed)
// train and the rest validate, and features and target are min-max scaled with the training
// split's statistics.
//
// usage: early_stopping [path/to/winequality-red.csv] [max_epochs] [--quiet]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "neurona/neurona.hpp"

using namespace neurona;

int main(int argc, char** argv) {
  try {
    std::string path = "data/winequality-red.csv";
    int64_t epochs = 500;
    int verbose = 2;
    int positional = 0;
    for (int i = 1; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--quiet"))
        verbose = 0;
      else if (positional++ == 0)
        path = argv[i];
      else
        epochs = std::stoll(argv[i]);
    }
    data::CsvOptions co;
    co.target = {"quality"};
    const data::CsvData wine = data::read_csv(path, co);
    const auto split = data::shuffled_split(wine.x.size(0), 0.3, /*seed=*/0);
    data::MinMaxScaler fx, fy;
    Tensor x_train = fx.fit_transform(wine.x.index_select(split.train));
    Tensor y_train = fy.fit_transform(wine.y.index_select(split.train));
    Tensor x_valid = fx.transform(wine.x.index_select(split.val));
    Tensor y_valid = fy.transform(wine.y.index_select(split.val));

    manual_seed(0);
    auto net = std::make_shared<nn::Sequential>();
    net->add(std::make_shared<nn::Linear>(11, 512, true, nn::Activation::ReLU));
    net->add(std::make_shared<nn::Linear>(512, 512, true, nn::Activation::ReLU));
    net->add(std::make_shared<nn::Linear>(512, 512, true, nn::Activation::ReLU));
    net->add(std::make_shared<nn::Linear>(512, 1));
    train::Model model(net);
    model.compile("adam", "mae");

    train::EarlyStoppingOptions es;
    es.min_delta = 0.001;
    es.patience = 20;
    es.restore_best_weights = true;
    train::FitOptions fo;
    fo.validation_data = data::TensorDataset(x_valid, y_valid);
    fo.batch_size = 256;
    fo.epochs = epochs;
    fo.verbose = verbose;
    fo.callbacks = {std::make_shared<train::EarlyStopping>(es)};
    const auto stopper = std::static_pointer_cast<train::EarlyStopping>(fo.callbacks[0]);
    train::History h = model.fit(data::TensorDataset(x_train, y_train), fo);

    const auto& val = h["val_loss"];
    const auto best = std::min_element(val.begin(), val.end());
    std::printf("epochs run: %zu of %lld%s\n", h.size(), static_cast<long long>(epochs),
                stopper->stopped_epoch() >= 0 ? " (stopped early)" : "");
    std::printf("Minimum validation loss (MAE, scaled quality): %.4f at epoch %lld\n", *best,
                static_cast<long long>(best - val.begin() + 1));
    std::printf("best epoch by EarlyStopping (improvements of more than min_delta): %lld\n",
                static_cast<long long>(stopper->best_epoch() + 1));
    std::printf("validation MAE of the restored weights: %.4f\n",
                model.evaluate(data::TensorDataset(x_valid, y_valid), 256).at("loss"));
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "early_stopping: error: %s\n", e.what());
    return 1;
  }
}
