#include <memory>

#include "io_test_util.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

namespace fs = std::filesystem;

// What a trainer will do: hold several loggers and report the same things to each.
TEST(Loggers, OneListOfLoggersWritesAllThreeFormats) {
  ScratchDir dir;
  std::vector<std::unique_ptr<io::Logger>> loggers;
  loggers.push_back(std::make_unique<io::TensorBoardLogger>(dir / "runs" / "lr0.1"));
  loggers.push_back(std::make_unique<io::MlflowLogger>(dir / "mlruns", "demo", "lr0.1"));
  loggers.push_back(std::make_unique<io::CsvLogger>(dir / "csv"));
  const std::vector<double> val = {0.9, 0.6, 0.4};
  for (auto& l : loggers) {
    l->log_hyperparams({{"lr", 0.1}, {"optimizer", "sgd"}, {"nesterov", false}});
    l->log_text("config", "lr: 0.1", 0);
    for (int epoch = 1; epoch <= 3; ++epoch) {
      l->log_metrics({{"loss", 1.0 / epoch}, {"val_loss", val[epoch - 1]}}, epoch);
      l->log_histogram("0.weight", Tensor::from({1.f, 2.f, 3.f}), epoch);
    }
    l->finalize(io::RunStatus::Finished);
  }

  // TensorBoard: scalars, histogram, text and one hparams session whose val_loss is the last one.
  auto files = io::find_event_files(dir / "runs" / "lr0.1");
  ASSERT_EQ(files.size(), 1u);
  auto f = io::read_event_file(files[0]);
  std::vector<float> val_read;
  int hist = 0, starts = 0;
  for (const auto& e : f.events)
    for (const auto& v : e.values) {
      if (v.tag == "val_loss") val_read.push_back(v.simple_value);
      if (v.tag == "0.weight") hist += v.histogram.num == 3.0 && v.histogram.sum == 6.0;
      if (v.tag == "_hparams_/session_start_info") {
        ++starts;
        auto rec = io::decode_hparams(v.plugin_content);
        EXPECT_EQ(rec.hparams.at("lr").number(), 0.1);
        EXPECT_EQ(rec.hparams.at("nesterov").boolean(), false);
      }
    }
  EXPECT_EQ(val_read, (std::vector<float>{0.9f, 0.6f, 0.4f}));
  EXPECT_EQ(hist, 3);
  EXPECT_EQ(starts, 1);

  // MLflow: params as text, metric lines, text as an artifact, FINISHED.
  auto& run = static_cast<io::MlflowLogger&>(*loggers[1]).run();
  EXPECT_EQ(io::read_file(run.run_dir() / "params" / "lr"), "0.1");
  EXPECT_EQ(io::read_file(run.run_dir() / "params" / "nesterov"), "false");
  EXPECT_EQ(io::read_file(run.run_dir() / "params" / "optimizer"), "sgd");
  const std::string lines = io::read_file(run.run_dir() / "metrics" / "val_loss");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 3);
  EXPECT_NE(lines.find(" 0.4 3\n"), std::string::npos) << lines;
  EXPECT_EQ(io::read_file(run.artifact_dir() / "config.md"), "lr: 0.1");
  EXPECT_NE(io::read_file(run.run_dir() / "meta.yaml").find("\nstatus: 3\n"), std::string::npos);

  // CSV: step first, then the metrics; hyper-parameters beside it.
  EXPECT_EQ(io::read_file(dir / "csv" / "metrics.csv"),
            "step,loss,val_loss\n1,1,0.9\n2,0.5,0.6\n3,0.3333333333333333,0.4\n");
  EXPECT_EQ(io::read_file(dir / "csv" / "hparams.yaml"),
            "'lr': 0.1\n'nesterov': false\n'optimizer': 'sgd'\n");
}

}  // namespace
}  // namespace neurona::testing
