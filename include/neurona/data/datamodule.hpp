#pragma once
// DataModule: one object that prepares the data, splits it, fits the feature scaler on the
// training split only and hands out the train / validation / test loaders (Lightning's
// LightningDataModule).
#include <functional>
#include <memory>
#include <string>

#include "neurona/data/augment.hpp"
#include "neurona/data/csv.hpp"
#include "neurona/data/dataset.hpp"
#include "neurona/data/split.hpp"
#include "neurona/data/transforms.hpp"

namespace neurona::data {

struct DataModuleOptions {
  double val_fraction = 0.2;
  double test_fraction = 0.0;
  uint64_t seed = 0;            // drives the split and the training loader's shuffling
  bool stratify = false;        // keep class proportions (targets are class ids or one-hot)
  std::string scaler = "none";  // "none", "standard" or "minmax"; fitted on train only
  LoaderOptions train_loader{32, true, false, 0, true};  // its seed is replaced by `seed`
  int64_t eval_batch_size = 0;  // validation/test batch size; 0 = train_loader.batch_size
  // Image steps: training batches go through all of them, validation and test batches through
  // their evaluation form (normalize; random_crop's centre crop).
  std::shared_ptr<const ImagePipeline> augment = nullptr;
};

class DataModule {
 public:
  // `prepare` reads or generates the whole data set as (features [N, F...], targets [N, ...]).
  using Prepare = std::function<std::pair<Tensor, Tensor>()>;
  DataModule(Prepare prepare, DataModuleOptions options = {});
  static DataModule from_tensors(Tensor features, Tensor targets, DataModuleOptions options = {});
  // Reads the CSV; its encoding schema stays available for prediction (csv_schema()).
  static DataModule from_csv(const std::string& path, CsvOptions csv, DataModuleOptions options = {});

  // Prepares, splits and fits the scaler, once; the loaders call it when needed.
  void setup();

  DataLoader train_loader();
  DataLoader val_loader();   // not shuffled; empty when val_fraction is 0
  DataLoader test_loader();  // not shuffled; empty when test_fraction is 0

  const SplitIndices& split();
  std::shared_ptr<const TensorDataset> train_set();
  std::shared_ptr<const TensorDataset> val_set();
  std::shared_ptr<const TensorDataset> test_set();
  const Scaler* scaler();  // null when options.scaler is "none"
  const CsvSchema* csv_schema() const { return csv_schema_.get(); }
  const DataModuleOptions& options() const { return options_; }

 private:
  DataLoader eval_loader(std::shared_ptr<const TensorDataset> set) const;

  Prepare prepare_;
  DataModuleOptions options_;
  bool ready_ = false;
  SplitIndices split_;
  std::shared_ptr<const TensorDataset> train_, val_, test_;
  std::unique_ptr<Scaler> scaler_;
  std::shared_ptr<CsvSchema> csv_schema_;
};

}  // namespace neurona::data
