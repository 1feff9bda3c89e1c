// Callbacks against scripted value sequences: the epoch at which they act and what they restore.
#include <cmath>

#include "neurona/optim/optimizers.hpp"
#include "neurona/train/callbacks.hpp"
#include "neurona/train/trainer.hpp"
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::testing;
using namespace neurona::train;

namespace {

// A module whose single weight records the epoch (1-based) it was last trained in, and whose
// validation reports a scripted val_loss per epoch. lr 0 keeps the optimizer from moving w.
class Scripted : public LightningModule {
 public:
  explicit Scripted(std::vector<double> val) : val_(std::move(val)) {
    w = register_parameter("w", Tensor::zeros({1}));
  }
  Tensor training_step(const data::Batch& b, int64_t) override { return sum(w * 0.f) + mean(b.x) * 0.f; }
  void validation_step(const data::Batch&, int64_t) override {
    log("val_loss", val_.at(static_cast<size_t>(epochs_seen_ - 1)));
  }
  void on_train_epoch_end() override { w.data()[0] = static_cast<float>(++epochs_seen_); }
  OptimizerConfig configure_optimizers() override {
    OptimizerConfig c;
    optim::SGDOptions o;
    o.lr = 0.0;
    c.optimizer = std::make_shared<optim::SGD>(parameters(), o);
    return c;
  }
  Tensor w;
  int64_t epochs_seen_ = 0;

 private:
  std::vector<double> val_;
};

struct EsRun {
  int64_t epochs_run;
  float restored_w;
};

EsRun run_early_stopping(const std::vector<double>& val, EarlyStoppingOptions es) {
  Scripted m(val);
  auto ds = std::make_shared<data::TensorDataset>(Tensor::ones({4, 1}), Tensor::ones({4, 1}));
  data::DataLoader train(ds, {.batch_size = 4, .prefetch = false});
  data::DataLoader valid(ds, {.batch_size = 4, .prefetch = false});
  TrainerOptions o;
  o.max_epochs = static_cast<int64_t>(val.size());
  o.verbose = 0;
  o.callbacks = {std::make_shared<EarlyStopping>(es)};
  Trainer t(o);
  History h = t.fit(m, train, &valid);
  return {static_cast<int64_t>(h.size()), m.w.data()[0]};
}

const std::vector<double> kVal = {1.0, .8, .7, .72, .71, .69, .75, .76, .77, .6};

}  // namespace

TEST(EarlyStopping, KerasWorkedExamplePatience2) {
  EarlyStoppingOptions es;
  es.patience = 2;
  es.restore_best_weights = true;
  es.verbose = false;
  EsRun r = run_early_stopping(kVal, es);
  EXPECT_EQ(r.epochs_run, 5);
  EXPECT_FLOAT_EQ(r.restored_w, 3.f);  // weights of epoch 3 (1-based)
}

TEST(EarlyStopping, KerasWorkedExamplePatience3) {
  EarlyStoppingOptions es;
  es.patience = 3;
  es.restore_best_weights = true;
  es.verbose = false;
  EsRun r = run_early_stopping(kVal, es);
  EXPECT_EQ(r.epochs_run, 9);
  EXPECT_FLOAT_EQ(r.restored_w, 6.f);
}

TEST(EarlyStopping, BaselineNeverBeatenStopsEarly) {
  EarlyStoppingOptions es;
  es.patience = 3;
  es.baseline = 0.65;
  es.restore_best_weights = true;
  es.verbose = false;
  EsRun r = run_early_stopping(kVal, es);
  EXPECT_EQ(r.epochs_run, 4);
  EXPECT_FLOAT_EQ(r.restored_w, 3.f);
}

TEST(EarlyStopping, RestoresBestEvenWhenTrainingRunsToTheEnd) {
  EarlyStoppingOptions es;
  es.patience = 20;
  es.restore_best_weights = true;
  es.verbose = false;
  EsRun r = run_early_stopping({0.5, 0.3, 0.4, 0.45}, es);
  EXPECT_EQ(r.epochs_run, 4);
  EXPECT_FLOAT_EQ(r.restored_w, 2.f);
}

TEST(EarlyStopping, MinDeltaAndWithoutRestore) {
  EarlyStoppingOptions es;
  es.patience = 2;
  es.min_delta = 0.05;  // 0.8 -> 0.78 -> 0.77 are not improvements
  es.verbose = false;
  EsRun r = run_early_stopping({0.8, 0.78, 0.77, 0.5, 0.4}, es);
  EXPECT_EQ(r.epochs_run, 3);
  EXPECT_FLOAT_EQ(r.restored_w, 3.f);  // last weights kept
}

TEST(ReduceLROnPlateau, PyTorchAndKerasPatienceConventions) {
  // val_loss improves once, then plateaus: PyTorch reduces when bad epochs > patience (after the
  // 3rd bad epoch with patience 2), Keras when bad epochs >= patience (after the 2nd).
  const std::vector<double> val = {1.0, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6};
  for (auto convention : {optim::ReduceLROnPlateauOptions::Convention::pytorch,
                          optim::ReduceLROnPlateauOptions::Convention::keras}) {
    Scripted m(val);
    auto ds = std::make_shared<data::TensorDataset>(Tensor::ones({2, 1}), Tensor::ones({2, 1}));
    data::DataLoader train(ds, {.batch_size = 2, .prefetch = false});
    data::DataLoader valid(ds, {.batch_size = 2, .prefetch = false});
    ReduceLROnPlateauCallbackOptions ro;
    ro.schedule.patience = 2;
    ro.schedule.factor = 0.5;
    ro.schedule.convention = convention;
    ro.verbose = false;
    TrainerOptions o;
    o.max_epochs = 7;
    o.verbose = 0;
    o.callbacks = {std::make_shared<train::ReduceLROnPlateau>(ro)};
    Trainer t(o);
    // The scripted module trains with lr 0; give the schedule something to halve.
    struct WithLr : Scripted {
      using Scripted::Scripted;
      OptimizerConfig configure_optimizers() override {
        OptimizerConfig c;
        optim::SGDOptions so;
        so.lr = 1.0;
        c.optimizer = std::make_shared<optim::SGD>(parameters(), so);
        return c;
      }
      Tensor training_step(const data::Batch& b, int64_t i) override { return Scripted::training_step(b, i); }
    } mm(val);
    History h = t.fit(mm, train, &valid);
    const auto& lr = h["lr"];
    const bool pytorch = convention == optim::ReduceLROnPlateauOptions::Convention::pytorch;
    // Epoch (0-based) whose end first shows the halved rate.
    int64_t first = -1;
    for (size_t e = 0; e < lr.size(); ++e)
      if (lr[e] < 1.0 && first < 0) first = static_cast<int64_t>(e);
    EXPECT_EQ(first, pytorch ? 4 : 3);
  }
}

TEST(ModelCheckpoint, FilenameTemplate) {
  Logs v{{"epoch", 3}, {"step", 120}, {"val_loss", 0.123456}};
  EXPECT_EQ(ModelCheckpoint::format_name("epoch={epoch}-val_loss={val_loss:.4f}", v),
            "epoch=3-val_loss=0.1235");
  EXPECT_EQ(ModelCheckpoint::format_name("{epoch:02d}-{step}", v), "03-120");
  EXPECT_ERROR_CONTAINS(ModelCheckpoint::format_name("{val_acc}", v), "names 'val_acc', which is not logged");
}

TEST(Callbacks, InferMode) {
  EXPECT_EQ(infer_mode("val_loss"), "min");
  EXPECT_EQ(infer_mode("val_mae"), "min");
  EXPECT_EQ(infer_mode("val_accuracy"), "max");
  EXPECT_EQ(infer_mode("binary_accuracy"), "max");
  EXPECT_EQ(infer_mode("auc"), "max");
}
