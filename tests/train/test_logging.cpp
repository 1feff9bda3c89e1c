// What the Trainer sends to TensorBoard and MLflow, read back from the files.

#include <cmath>
#include <filesystem>

#include "neurona/io/event_reader.hpp"
#include "neurona/io/files.hpp"
#include "neurona/nn/layers.hpp"
#include "neurona/train/model.hpp"
#include "test_util.hpp"

using namespace neurona;
using neurona::testing::fresh_dir;
using namespace neurona::train;

namespace {

data::TensorDataset toy_data() {
  Generator g(3);
  Tensor x = Tensor::uniform({60, 3}, -1, 1, &g);
  Tensor y = sum(x, 1, true).detach();
  return data::TensorDataset(x, y);
}

// Trains a 3-8-1 network for `epochs` with the given lr, logging to TensorBoard (in the run dir)
// and to an MLflow store under `root`.
std::pair<History, std::filesystem::path> train_logged(const std::filesystem::path& root, double lr,
                                                       int64_t epochs,
                                                       std::shared_ptr<nn::Sequential>* net_out = nullptr) {
  manual_seed(1);
  auto net = std::make_shared<nn::Sequential>();
  net->add(std::make_shared<nn::Linear>(3, 8, true, nn::Activation::Tanh));
  net->add(std::make_shared<nn::Linear>(8, 1));
  Model model(net);
  model.compile("sgd", "mse", {"mae"}, {{"lr", lr}});
  FitOptions fo;
  fo.epochs = epochs;
  fo.batch_size = 20;
  fo.validation_split = 0.25;
  fo.verbose = 0;
  fo.run_root = root;
  fo.name = "lr" + std::to_string(lr);
  // The run directory is version_0 of a fresh name: log there.
  const auto run_dir = root / fo.name / "version_0";
  fo.trainer.loggers = {std::make_shared<io::TensorBoardLogger>(run_dir),
                        std::make_shared<io::MlflowLogger>(root / "mlruns", "tests", fo.name)};
  fo.trainer.hparams = {{"lr", lr}, {"batch_size", int64_t{20}}};
  fo.trainer.config_text = "compile: {optimizer: {sgd: {lr: " + std::to_string(lr) + "}}}";
  fo.trainer.log_every_n_steps = 1;
  History h = model.fit(toy_data(), fo);
  if (net_out) *net_out = net;
  return {h, run_dir};
}

}  // namespace

TEST(TrainerLogging, EventFileScalarsEqualHistoryAndHistogramsEqualWeights) {
  const auto root = fresh_dir("tb");
  std::shared_ptr<nn::Sequential> net;
  auto [h, run_dir] = train_logged(root, 0.05, 4, &net);
  const auto files = io::find_event_files(run_dir);
  ASSERT_EQ(files.size(), 1u);
  const io::EventFile ev = io::read_event_file(files[0]);  // checks both CRCs of every record
  ASSERT_FALSE(ev.events.empty());
  EXPECT_EQ(ev.events[0].file_version, "brain.Event:2");
  EXPECT_TRUE(ev.warnings.empty());

  std::map<std::string, std::map<int64_t, float>> scalars;
  const io::HistogramData* last_weights = nullptr;
  int64_t last_weights_step = -1, steps_logged = 0;
  bool saw_config_text = false;
  for (const auto& e : ev.events) {
    for (const auto& v : e.values) {
      if (v.kind == io::SummaryValue::Kind::Scalar) scalars[v.tag][e.step] = v.simple_value;
      if (v.tag == "weights/0.weight" && e.step >= last_weights_step)
        last_weights = &v.histogram, last_weights_step = e.step;
      if (v.tag == "step/loss") ++steps_logged;
      if (v.tag.find("config") != std::string::npos && !v.strings.empty()) saw_config_text = true;
    }
  }
  for (const std::string key : {"loss", "val_loss", "mae", "val_mae"}) {
    ASSERT_EQ(scalars[key].size(), h.size()) << key;
    for (size_t e = 0; e < h.size(); ++e)
      EXPECT_EQ(scalars[key].at(int64_t(e)), static_cast<float>(h[key][e])) << key << " epoch " << e;
  }
  EXPECT_EQ(steps_logged, 4 * 3);  // 45 training rows in batches of 20: 3 steps per epoch
  EXPECT_TRUE(saw_config_text);

  ASSERT_NE(last_weights, nullptr);
  EXPECT_EQ(last_weights_step, 3);
  const Tensor w = net->at<nn::Linear>(0)->weight;
  double s = 0, lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < w.numel(); ++i)
    s += w.data()[i], lo = std::min<double>(lo, w.data()[i]), hi = std::max<double>(hi, w.data()[i]);
  EXPECT_EQ(last_weights->num, double(w.numel()));
  EXPECT_NEAR(last_weights->sum, s, 1e-5);
  EXPECT_EQ(last_weights->min, lo);
  EXPECT_EQ(last_weights->max, hi);
  std::filesystem::remove_all(root);
}

TEST(TrainerLogging, TwoRunsGiveTwoHParamsSessionsWithTheirLrAndFinalValLoss) {
  const auto root = fresh_dir("hp");
  for (double lr : {0.1, 0.01}) {
    auto [h, run_dir] = train_logged(root, lr, 3);
    const auto ev = io::read_event_file(io::find_event_files(run_dir).at(0));
    int sessions = 0;
    double logged_lr = NAN;
    float last_val = NAN;
    int64_t last_val_step = -1;
    for (const auto& e : ev.events)
      for (const auto& v : e.values) {
        if (v.plugin_name == "hparams") {
          const auto rec = io::decode_hparams(v.plugin_content);
          if (rec.kind == io::HParamsRecord::Kind::SessionStart) {
            ++sessions;
            logged_lr = rec.hparams.at("lr").number();
          }
        }
        if (v.tag == "val_loss" && v.kind == io::SummaryValue::Kind::Scalar && e.step >= last_val_step)
          last_val = v.simple_value, last_val_step = e.step;
      }
    EXPECT_EQ(sessions, 1);
    EXPECT_DOUBLE_EQ(logged_lr, lr);
    EXPECT_EQ(last_val, static_cast<float>(h["val_loss"].back()));
  }
  std::filesystem::remove_all(root);
}

TEST(TrainerLogging, MlflowRunHoldsMetricsAndArtifacts) {
  const auto root = fresh_dir("mlflow");
  auto [h, run_dir] = train_logged(root, 0.05, 3);
  // mlruns/<experiment id>/<run id>/: exactly one run of the "tests" experiment.
  std::filesystem::path run;
  for (const auto& exp : std::filesystem::directory_iterator(root / "mlruns")) {
    if (!exp.is_directory() || exp.path().filename() == "0" || exp.path().filename() == ".trash") continue;
    for (const auto& r : std::filesystem::directory_iterator(exp.path()))
      if (r.is_directory()) run = r.path();
  }
  ASSERT_FALSE(run.empty());
  const std::string meta = io::read_file(run / "meta.yaml");
  EXPECT_NE(meta.find("status: 3"), std::string::npos) << meta;  // FINISHED
  EXPECT_EQ(io::read_file(run / "params" / "lr"), "0.05");
  const std::string loss = io::read_file(run / "metrics" / "loss");
  EXPECT_EQ(std::count(loss.begin(), loss.end(), '\n'), 3);
  for (const char* file :
       {"history.json", "history.csv", "model.safetensors", "learning_curves.svg", "config.yaml"})
    EXPECT_TRUE(std::filesystem::exists(run / "artifacts" / file)) << file;
  std::filesystem::remove_all(root);
}

// The README's snippet: a TensorBoardLogger made on runs/<name>/version_0 and the trainer's run
// directory are one directory, holding the event file beside history, curves, config and weights.
TEST(TrainerLogging, LoggerDirectoryIsTheTrainersRunDirectory) {
  const auto root = fresh_dir("one_dir");
  auto [h, run_dir] = train_logged(root, 0.05, 2);
  EXPECT_FALSE(io::find_event_files(run_dir).empty());
  for (const char* file :
       {"history.json", "history.csv", "model.safetensors", "learning_curves.svg", "config.yaml"})
    EXPECT_TRUE(std::filesystem::exists(run_dir / file)) << file;
  int versions = 0;
  for (const auto& d : std::filesystem::directory_iterator(run_dir.parent_path()))
    versions += d.is_directory();
  EXPECT_EQ(versions, 1);
  std::filesystem::remove_all(root);
}
