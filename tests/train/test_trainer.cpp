#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>

#include "neurona/io/files.hpp"
#include "neurona/io/safetensors.hpp"
#include "neurona/nn/layers.hpp"
#include "neurona/optim/optimizers.hpp"
#include "neurona/train/callbacks.hpp"
#include "neurona/train/model.hpp"
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::testing;
using namespace neurona::train;

namespace {

// y = sum of the features plus noise: something a small network learns quickly.
data::TensorDataset regression_data(int64_t n, uint64_t seed) {
  Generator g(seed);
  Tensor x = Tensor::uniform({n, 4}, -1, 1, &g);
  Tensor y = sum(x, 1, true) + Tensor::normal({n, 1}, 0, 0.05f, &g);
  return data::TensorDataset(x, y.detach());
}

std::shared_ptr<nn::Sequential> small_net(uint64_t seed) {
  manual_seed(seed);
  auto net = std::make_shared<nn::Sequential>();
  net->add(std::make_shared<nn::Linear>(4, 16));
  net->add(std::make_shared<nn::ReLU>());
  net->add(std::make_shared<nn::Dropout>(0.2f));
  net->add(std::make_shared<nn::Linear>(16, 1));
  return net;
}

std::vector<float> flat_weights(nn::Module& m) {
  std::vector<float> out;
  for (const auto& [name, t] : m.state_dict()) out.insert(out.end(), t.data(), t.data() + t.numel());
  return out;
}

}  // namespace

TEST(Model, FitLearnsAndEvaluateMatchesHistory) {
  auto net = small_net(1);
  Model model(net);
  model.compile("adam", "mse", {"mae"}, {{"lr", 0.01}});
  FitOptions fo;
  fo.epochs = 30;
  fo.batch_size = 16;
  fo.validation_split = 0.25;
  fo.verbose = 0;
  auto data = regression_data(200, 7);
  History h = model.fit(data, fo);
  ASSERT_EQ(h.size(), 30u);
  EXPECT_LT(h["loss"].back(), 0.2 * h["loss"].front());
  EXPECT_TRUE(h.has("val_loss") && h.has("val_mae") && h.has("mae") && h.has("lr"));
  // evaluate() on the validation rows (the last 25 %) gives the last epoch's val_loss.
  auto split = data::validation_split(200, 0.25);
  Logs ev = model.evaluate(data.subset(split.val), 16);
  EXPECT_NEAR(ev.at("loss"), h["val_loss"].back(), 1e-5);
  EXPECT_NEAR(ev.at("mae"), h["val_mae"].back(), 1e-5);
  // predict() in eval mode: no dropout, so two calls agree.
  Tensor x = data.features().slice(0, 10);
  EXPECT_EQ(model.predict(x).to_vector(), model.predict(x, 3).to_vector());
}

TEST(Model, CompileRejectsUnknownNames) {
  Model model(small_net(1));
  EXPECT_ERROR_CONTAINS(model.compile("adma", "mse"), "unknown optimizer 'adma' (did you mean 'adam'?)");
  EXPECT_ERROR_CONTAINS(model.compile("adam", "maee"), "unknown loss 'maee' (did you mean 'mae'?)");
  EXPECT_ERROR_CONTAINS(model.compile("adam", "mse", {"accuracyy"}), "unknown metric 'accuracyy'");
  EXPECT_ERROR_CONTAINS(model.fit(regression_data(10, 1)), "call compile()");
}

TEST(Trainer, ResumedRunIsBitIdenticalToUninterrupted) {
  const auto dir = fresh_dir("resume");
  auto data = regression_data(96, 3);
  auto run = [&](int64_t epochs, const std::filesystem::path& resume, const std::string& name) {
    auto net = small_net(11);
    Model model(net);
    CompileOptions c;
    c.optimizer = optimizer_factory("adam", {{"lr", 0.01}});
    c.loss = "mse";
    c.schedule = [](optim::Optimizer& opt, int64_t) {
      optim::StepLROptions so;
      so.step_size = 2;
      so.gamma = 0.5;
      return std::make_shared<optim::StepLR>(opt, so);
    };
    model.compile(c);
    FitOptions fo;
    fo.epochs = epochs;
    fo.batch_size = 16;
    fo.validation_split = 0.25;
    fo.verbose = 0;
    fo.seed = 5;
    fo.run_root = dir;
    fo.name = name;
    fo.resume_from = resume;
    fo.trainer.deterministic = true;
    ModelCheckpointOptions mo;
    mo.save_last = true;
    mo.monitor = "val_loss";
    EarlyStoppingOptions eo;
    eo.patience = 50;
    eo.restore_best_weights = false;
    eo.verbose = false;
    fo.callbacks = {std::make_shared<ModelCheckpoint>(mo), std::make_shared<EarlyStopping>(eo)};
    History h = model.fit(data, fo);
    return std::make_pair(flat_weights(*net), h);
  };
  auto [full, full_history] = run(6, {}, "full");
  run(3, {}, "first_half");
  const auto last = dir / "first_half" / "version_0" / "checkpoints" / "last.safetensors";
  ASSERT_TRUE(std::filesystem::exists(last));
  auto [resumed, resumed_history] = run(6, last, "second_half");
  ASSERT_EQ(full.size(), resumed.size());
  for (size_t i = 0; i < full.size(); ++i) ASSERT_EQ(full[i], resumed[i]) << "weight " << i;
  EXPECT_EQ(resumed_history.size(), 6u);
  EXPECT_EQ(full_history["val_loss"], resumed_history["val_loss"]);
  std::filesystem::remove_all(dir);
}

TEST(Trainer, TerminateOnNaNStopsAndKeepsFiniteWeights) {
  auto net = small_net(2);
  Model model(net);
  model.compile("sgd", "mse", {}, {{"lr", 1e6}});  // diverges within a few steps
  auto nan_cb = std::make_shared<TerminateOnNaN>();
  FitOptions fo;
  fo.epochs = 50;
  fo.batch_size = 8;
  fo.verbose = 0;
  fo.callbacks = {nan_cb};
  History h = model.fit(regression_data(64, 1), fo);
  ASSERT_TRUE(nan_cb->triggered());
  EXPECT_LT(h.size(), 50u);
  EXPECT_NE(nan_cb->message().find("TerminateOnNaN: loss is"), std::string::npos);
  EXPECT_NE(nan_cb->message().find("at epoch"), std::string::npos);
  for (float w : flat_weights(*net)) ASSERT_TRUE(std::isfinite(w));
}

// While training, history.csv gains one line per epoch in place (same file, not a rewritten
// copy), so an epoch's cost does not grow with the epochs already run.
TEST(Trainer, HistoryCsvIsAppendedNotRewritten) {
  struct Watch : Callback {
    std::filesystem::path file;
    std::vector<size_t> lines;
    std::vector<uint64_t> inodes;
    std::string name() const override { return "Watch"; }
    void on_epoch_end(Trainer& t, int64_t, Logs&) override {
      file = t.log_dir() / "history.csv";
      if (!std::filesystem::exists(file)) return;
      const std::string text = io::read_file(file);
      lines.push_back(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')));
      struct stat st {};
      ::stat(file.c_str(), &st);
      inodes.push_back(static_cast<uint64_t>(st.st_ino));
    }
  };
  const auto dir = fresh_dir("history_append");
  Model model(small_net(4));
  model.compile("adam", "mse");
  FitOptions fo;
  fo.epochs = 5;
  fo.verbose = 0;
  fo.validation_split = 0.2;
  fo.run_root = dir;
  auto watch = std::make_shared<Watch>();
  fo.callbacks = {watch};
  model.fit(regression_data(50, 2), fo);
  // At the end of epoch e (before its own row) the file holds the header and e rows.
  EXPECT_EQ(watch->lines, (std::vector<size_t>{2, 3, 4, 5}));
  for (uint64_t ino : watch->inodes) EXPECT_EQ(ino, watch->inodes.front());
  const History back = History::from_csv(io::read_file(watch->file));
  EXPECT_EQ(back.size(), 5u);
  EXPECT_TRUE(std::filesystem::exists(watch->file.parent_path() / "history.json"));
}

// synchronize_gradients sees each optimizer step's final gradients before clipping: a hook that
// zeroes them freezes the weights, and one that scales them by 10^6 is still clipped to the norm.
TEST(Trainer, SynchronizeGradientsRunsOncePerStepBeforeClipping) {
  auto net = small_net(3);
  const std::vector<float> w0 = flat_weights(*net);
  Model model(net);
  model.compile("sgd", "mse");
  FitOptions fo;
  fo.epochs = 2;
  fo.batch_size = 10;
  fo.verbose = 0;
  int calls = 0;
  fo.trainer.synchronize_gradients = [&](const std::vector<Tensor>& params) {
    ++calls;
    for (Tensor p : params)
      if (p.grad().defined()) std::fill(p.grad().data(), p.grad().data() + p.numel(), 0.f);
  };
  model.fit(regression_data(50, 1), fo);
  EXPECT_EQ(calls, 10);  // 5 steps per epoch
  EXPECT_EQ(flat_weights(*net), w0);

  Model scaled(net);
  scaled.compile("sgd", "mse");  // lr 0.001, SGDOptions' default
  FitOptions one;
  one.epochs = 1;
  one.batch_size = 50;
  one.verbose = 0;
  one.trainer.gradient_clip_val = 0.1;
  one.trainer.synchronize_gradients = [](const std::vector<Tensor>& params) {
    for (Tensor p : params)
      for (int64_t i = 0; i < p.numel(); ++i) p.grad().data()[i] *= 1e6f;
  };
  scaled.fit(regression_data(50, 1), one);
  double moved = 0;
  const std::vector<float> w1 = flat_weights(*net);
  for (size_t i = 0; i < w0.size(); ++i) moved += double(w1[i] - w0[i]) * double(w1[i] - w0[i]);
  EXPECT_NEAR(std::sqrt(moved), 0.001 * 0.1, 1e-6);  // lr × the clipped norm (float weights: ~0.1 %)
}

TEST(Trainer, RunDirectoryHoldsHistoryCurvesAndCheckpoints) {
  const auto dir = fresh_dir("rundir");
  Model model(small_net(4));
  model.compile("adam", "mse");
  FitOptions fo;
  fo.epochs = 3;
  fo.verbose = 0;
  fo.validation_split = 0.2;
  fo.run_root = dir;
  fo.name = "exp";
  ModelCheckpointOptions mo;
  mo.monitor = "val_loss";
  mo.save_top_k = 2;
  mo.filename = "epoch={epoch}-val_loss={val_loss:.4f}";
  auto ckpt = std::make_shared<ModelCheckpoint>(mo);
  fo.callbacks = {ckpt};
  model.fit(regression_data(50, 2), fo);
  model.fit(regression_data(50, 2), fo);  // a second run gets version_1
  const auto v0 = dir / "exp" / "version_0";
  EXPECT_TRUE(std::filesystem::exists(v0 / "history.csv"));
  EXPECT_TRUE(std::filesystem::exists(v0 / "history.json"));
  EXPECT_TRUE(std::filesystem::exists(v0 / "learning_curves.svg"));
  EXPECT_TRUE(std::filesystem::exists(dir / "exp" / "version_1" / "history.csv"));
  int weights = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "exp" / "version_1" / "checkpoints")) {
    const std::string n = e.path().filename().string();
    if (n.find(".state.") == std::string::npos) ++weights;
    EXPECT_EQ(n.rfind("epoch=", 0), 0u) << n;
  }
  EXPECT_EQ(weights, 2);
  EXPECT_TRUE(std::filesystem::exists(ckpt->best_model_path()));
  std::filesystem::remove_all(dir);
}

TEST(Trainer, GradientAccumulationMatchesOneLargeBatch) {
  // Two accumulated batches of 8 give the same SGD step as one batch of 16 (mean losses).
  auto data = regression_data(16, 9);
  auto one_step = [&](int64_t batch, int64_t accumulate) {
    auto net = small_net(3);
    net->at<nn::Dropout>(2)->options().p = 0.f;
    Model model(net);
    model.compile("sgd", "mse", {}, {{"lr", 0.1}});
    FitOptions fo;
    fo.epochs = 1;
    fo.batch_size = batch;
    fo.shuffle = false;
    fo.verbose = 0;
    fo.trainer.accumulate_grad_batches = accumulate;
    model.fit(data, fo);
    return flat_weights(*net);
  };
  auto a = one_step(16, 1);
  auto b = one_step(8, 2);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6f);
}

TEST(RandomRestarts, KeepsTheBestSeed) {
  auto data = regression_data(64, 5);
  auto r = random_restarts(3, 100, "loss", true, [&](uint64_t seed, int) {
    Model model(small_net(seed));
    model.compile("sgd", "mse", {}, {{"lr", 0.05}});
    FitOptions fo;
    fo.epochs = 3;
    fo.verbose = 0;
    fo.seed = seed;
    return model.fit(data, fo);
  });
  ASSERT_EQ(r.scores.size(), 3u);
  EXPECT_EQ(r.seeds, (std::vector<uint64_t>{100, 101, 102}));
  for (double s : r.scores) EXPECT_GE(s, r.scores[r.best]);
  EXPECT_FALSE(r.scores[0] == r.scores[1] && r.scores[1] == r.scores[2]);
}

namespace {

// Counts training and validation batches seen per epoch.
class Counting : public LightningModule {
 public:
  Counting() { w = register_parameter("w", Tensor::ones({4, 1})); }
  Tensor training_step(const data::Batch& b, int64_t) override {
    ++train_batches;
    return mean(pow(matmul(b.x, w) - b.y, 2.f));
  }
  void validation_step(const data::Batch& b, int64_t) override {
    ++val_batches;
    log("val_loss", mean(pow(matmul(b.x, w) - b.y, 2.f)), b.size());
  }
  OptimizerConfig configure_optimizers() override {
    OptimizerConfig c;
    optim::SGDOptions o;
    o.lr = 0.01;
    c.optimizer = std::make_shared<optim::SGD>(parameters(), o);
    return c;
  }
  Tensor w;
  int64_t train_batches = 0, val_batches = 0;
};

struct LoopCounts {
  int64_t epochs, train_batches, val_batches, steps;
};

LoopCounts run_loop(TrainerOptions o) {
  auto ds = std::make_shared<data::TensorDataset>(regression_data(40, 1));  // 40 rows: 5 batches of 8
  data::DataLoader train(ds, {.batch_size = 8, .shuffle = true, .prefetch = false});
  data::DataLoader val(ds, {.batch_size = 8, .prefetch = false});
  o.verbose = 0;
  Counting m;
  Trainer t(o);
  History h = t.fit(m, train, &val);
  return {static_cast<int64_t>(h.size()), m.train_batches, m.val_batches, t.global_step()};
}

}  // namespace

TEST(Trainer, LimitsAndDevRunsBoundTheLoop) {
  TrainerOptions o;
  o.max_epochs = 3;
  o.limit_train_batches = 2;
  o.limit_val_batches = 1;
  auto c = run_loop(o);
  EXPECT_EQ(c.epochs, 3);
  EXPECT_EQ(c.train_batches, 6);
  EXPECT_EQ(c.val_batches, 3);

  TrainerOptions dev;
  dev.max_epochs = 10;
  dev.fast_dev_run = 2;
  c = run_loop(dev);
  EXPECT_EQ(c.epochs, 1);
  EXPECT_EQ(c.train_batches, 2);
  EXPECT_EQ(c.val_batches, 2);

  TrainerOptions steps;
  steps.max_steps = 7;  // 5 batches per epoch: stops inside the second epoch
  c = run_loop(steps);
  EXPECT_EQ(c.steps, 7);
  EXPECT_EQ(c.epochs, 2);

  TrainerOptions every;
  every.max_epochs = 4;
  every.check_val_every_n_epoch = 2;
  c = run_loop(every);
  EXPECT_EQ(c.val_batches, 2 * 5);

  TrainerOptions accumulate;
  accumulate.max_epochs = 2;
  accumulate.accumulate_grad_batches = 2;  // 5 batches: steps after batches 2, 4 and the last
  c = run_loop(accumulate);
  EXPECT_EQ(c.steps, 6);
}

TEST(Trainer, MinEpochsOverridesAnEarlyStop) {
  TrainerOptions o;
  o.max_epochs = 6;
  o.min_epochs = 4;
  auto stopper = std::make_shared<LambdaCallback>();
  stopper->epoch_end = [](Trainer& t, int64_t, Logs&) { t.request_stop("asked to stop"); };
  o.callbacks = {stopper};
  EXPECT_EQ(run_loop(o).epochs, 4);
}

// A stop ignored because of min_epochs must not leave its message behind: the reported reason
// names the epoch where training really ended.
TEST(Trainer, StopReasonNamesTheEpochTrainingReallyStopped) {
  TrainerOptions o;
  o.max_epochs = 6;
  o.min_epochs = 4;
  std::string reason;
  auto stopper = std::make_shared<LambdaCallback>();
  stopper->epoch_end = [](Trainer& t, int64_t epoch, Logs&) {
    t.request_stop("Epoch " + std::to_string(epoch + 1));
  };
  auto spy = std::make_shared<LambdaCallback>();
  spy->train_end = [&](Trainer& t) { reason = t.stop_reason(); };
  o.callbacks = {stopper, spy};
  EXPECT_EQ(run_loop(o).epochs, 4);
  EXPECT_EQ(reason, "Epoch 4");
}

TEST(Trainer, CtrlCFinishesTheStepAndWritesACheckpoint) {
  const auto dir = fresh_dir("sigint");
  TrainerOptions o;
  o.max_epochs = 5;
  o.default_root_dir = dir;
  o.name = "interrupt";
  auto press = std::make_shared<LambdaCallback>();
  press->batch_end = [](Trainer& t, int64_t batch, const Logs&) {
    if (t.current_epoch() == 1 && batch == 2) std::raise(SIGINT);
  };
  o.callbacks = {press};
  auto ds = std::make_shared<data::TensorDataset>(regression_data(40, 1));
  data::DataLoader train(ds, {.batch_size = 8, .prefetch = false});
  Counting m;
  Trainer t(o);
  History h = t.fit(m, train);
  EXPECT_TRUE(t.interrupted());
  EXPECT_EQ(m.train_batches, 5 + 3);  // the interrupted epoch stops after its current batch
  EXPECT_EQ(h.size(), 1u);            // and is not recorded as finished
  const auto ckpt = dir / "interrupt" / "version_0" / "checkpoints" / "interrupted.safetensors";
  ASSERT_TRUE(std::filesystem::exists(ckpt));
  EXPECT_TRUE(std::filesystem::exists(dir / "interrupt" / "version_0" / "checkpoints" /
                                      "interrupted.state.safetensors"));
  // The handler is gone after fit: the default action is back.
  EXPECT_EQ(std::signal(SIGINT, SIG_DFL), SIG_DFL);
  std::filesystem::remove_all(dir);
}

// Ctrl-C in the middle of epoch 2, then resuming from interrupted.safetensors, gives the
// uninterrupted run bit for bit: weights, optimizer state and every history value.
TEST(Trainer, ResumeFromCtrlCCheckpointIsBitIdenticalToUninterrupted) {
  const auto dir = fresh_dir("resume_sigint");
  auto data = regression_data(96, 3);
  auto run = [&](const std::filesystem::path& resume, const std::string& name, bool press) {
    auto net = small_net(11);
    Model model(net);
    CompileOptions c;
    c.optimizer = optimizer_factory("adam", {{"lr", 0.01}});
    c.loss = "mse";
    c.metrics = {"mae"};
    c.schedule = [](optim::Optimizer& opt, int64_t) {
      optim::StepLROptions so;
      so.step_size = 2;
      so.gamma = 0.5;
      return std::make_shared<optim::StepLR>(opt, so);
    };
    model.compile(c);
    FitOptions fo;
    fo.epochs = 5;
    fo.batch_size = 16;
    fo.validation_split = 0.25;
    fo.verbose = 0;
    fo.seed = 5;
    fo.run_root = dir;
    fo.name = name;
    fo.resume_from = resume;
    fo.trainer.deterministic = true;
    ModelCheckpointOptions mo;
    mo.save_last = true;
    mo.monitor = "val_loss";
    auto ctrl_c = std::make_shared<LambdaCallback>();
    if (press)
      ctrl_c->batch_end = [](Trainer& t, int64_t batch, const Logs&) {
        if (t.current_epoch() == 2 && batch == 1) std::raise(SIGINT);
      };
    fo.callbacks = {std::make_shared<ModelCheckpoint>(mo), ctrl_c};
    History h = model.fit(data, fo);
    return std::make_pair(flat_weights(*net), h);
  };
  auto [full, full_history] = run({}, "full", false);
  auto [cut, cut_history] = run({}, "cut", true);
  EXPECT_EQ(cut_history.size(), 2u);  // epochs 0 and 1 finished; epoch 2 was interrupted
  const auto ckpt = dir / "cut" / "version_0" / "checkpoints" / "interrupted.safetensors";
  ASSERT_TRUE(std::filesystem::exists(ckpt));
  auto [resumed, resumed_history] = run(ckpt, "resumed", false);
  ASSERT_EQ(full.size(), resumed.size());
  for (size_t i = 0; i < full.size(); ++i) ASSERT_EQ(full[i], resumed[i]) << "weight " << i;
  ASSERT_EQ(resumed_history.epochs(), full_history.epochs());
  for (const auto& key : full_history.keys()) {
    if (key == "epoch_time") continue;
    EXPECT_EQ(full_history[key], resumed_history[key]) << key;
  }
  // The optimizer's state after the last epoch, as each run's last checkpoint holds it.
  auto opt_state = [&](const std::string& name) {
    std::map<std::string, std::vector<float>> out;
    for (const auto& nt :
         io::load_safetensors(dir / name / "version_0" / "checkpoints" / "last.state.safetensors").tensors)
      if (nt.name.rfind("optimizer/", 0) == 0) out[nt.name] = nt.tensor.to_vector();
    return out;
  };
  const auto full_opt = opt_state("full");
  EXPECT_FALSE(full_opt.empty());
  EXPECT_EQ(full_opt, opt_state("resumed"));
  std::filesystem::remove_all(dir);
}
