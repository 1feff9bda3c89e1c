#include "neurona/data/datamodule.hpp"

#include "neurona/core/error.hpp"

namespace neurona::data {

DataModule::DataModule(Prepare prepare, DataModuleOptions options)
    : prepare_(std::move(prepare)), options_(std::move(options)) {
  check(prepare_ != nullptr, "DataModule: no prepare function");
  if (options_.scaler != "none") make_scaler(options_.scaler);  // reject unknown names early
}

DataModule DataModule::from_tensors(Tensor features, Tensor targets, DataModuleOptions options) {
  return DataModule(
      [x = std::move(features), y = std::move(targets)] {
        return std::pair{x, y};
      },
      std::move(options));
}

DataModule DataModule::from_csv(const std::string& path, CsvOptions csv, DataModuleOptions options) {
  auto schema = std::make_shared<CsvSchema>();
  DataModule dm(
      [path, csv, schema] {
        CsvData d = read_csv(path, csv);
        *schema = d.schema;
        return std::pair{d.x, d.y};
      },
      std::move(options));
  dm.csv_schema_ = schema;
  return dm;
}

void DataModule::setup() {
  if (ready_) return;
  auto [x, y] = prepare_();
  TensorDataset all(x, y);
  const int64_t n = all.size();
  const std::vector<int64_t> labels = options_.stratify ? class_ids(y) : std::vector<int64_t>{};
  split_ = train_val_test_split(n, options_.val_fraction, options_.test_fraction, options_.seed, labels);
  TensorDataset train = all.subset(split_.train), val = all.subset(split_.val),
                test = all.subset(split_.test);
  if (options_.scaler != "none") {
    scaler_ = make_scaler(options_.scaler);
    check(x.dim() == 2, "DataModule: a scaler needs features [N, F], got ", x.shape());
    scaler_->fit(train.features());  // the validation and test rows stay unseen
    auto scaled = [&](const TensorDataset& d) {
      return TensorDataset(scaler_->transform(d.features()), d.targets(), d.weights());
    };
    train = scaled(train);
    val = scaled(val);
    test = scaled(test);
  }
  train_ = std::make_shared<TensorDataset>(std::move(train));
  val_ = std::make_shared<TensorDataset>(std::move(val));
  test_ = std::make_shared<TensorDataset>(std::move(test));
  ready_ = true;
}

DataLoader DataModule::train_loader() {
  setup();
  LoaderOptions o = options_.train_loader;
  o.seed = options_.seed;
  o.transform = options_.augment;
  return DataLoader(train_, o);
}

DataLoader DataModule::eval_loader(std::shared_ptr<const TensorDataset> set) const {
  LoaderOptions o;
  o.batch_size = options_.eval_batch_size > 0 ? options_.eval_batch_size : options_.train_loader.batch_size;
  if (options_.augment) o.transform = options_.augment->evaluation();
  return DataLoader(std::move(set), o);
}

DataLoader DataModule::val_loader() {
  setup();
  return eval_loader(val_);
}

DataLoader DataModule::test_loader() {
  setup();
  return eval_loader(test_);
}

const SplitIndices& DataModule::split() {
  setup();
  return split_;
}
std::shared_ptr<const TensorDataset> DataModule::train_set() {
  setup();
  return train_;
}
std::shared_ptr<const TensorDataset> DataModule::val_set() {
  setup();
  return val_;
}
std::shared_ptr<const TensorDataset> DataModule::test_set() {
  setup();
  return test_;
}
const Scaler* DataModule::scaler() {
  setup();
  return scaler_.get();
}

}  // namespace neurona::data
