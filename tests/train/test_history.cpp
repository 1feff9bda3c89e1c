#include <algorithm>
#include <cmath>

#include "neurona/io/files.hpp"
#include "neurona/train/history.hpp"
#include "neurona/train/progress.hpp"
#include "test_util.hpp"

using namespace neurona::train;

TEST(History, RecordsCsvJsonAndSvg) {
  History h;
  h.append(0, {{"loss", 1.0}, {"val_loss", 1.5}});
  h.append(1, {{"loss", 0.5}, {"val_loss", 0.75}, {"mae", 0.25}});
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h["loss"], (std::vector<double>{1.0, 0.5}));
  EXPECT_TRUE(std::isnan(h["mae"][0]));
  EXPECT_EQ(h.to_csv(), "epoch,loss,mae,val_loss\n0,1,,1.5\n1,0.5,0.25,0.75\n");
  History back = History::from_json(h.to_json());
  EXPECT_EQ(back["val_loss"], h["val_loss"]);
  EXPECT_TRUE(std::isnan(back["mae"][0]));
  const std::string svg = h.to_svg("run");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("validation"), std::string::npos);
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n') > 5, true);
  EXPECT_ERROR_CONTAINS(h["acc"], "no values recorded for 'acc' (recorded: loss, mae, val_loss)");
  h.truncate_after(0);
  EXPECT_EQ(h.size(), 1u);
}

// history.csv grows by one appended line per epoch, and is rewritten whole only when its header
// changes; from_csv reads it back, leaving out a last line still being written.
TEST(History, CsvIsAppendedPerEpochAndReadsBack) {
  const auto path = neurona::testing::fresh_dir("history_csv") / "history.csv";
  History h;
  std::string header;
  h.append(0, {{"loss", 1.0}, {"val_loss", 1.5}});
  EXPECT_TRUE(h.append_csv(path, header));  // first write: the whole file
  header = h.csv_header();
  h.append(1, {{"loss", 0.5}, {"val_loss", 0.75}});
  const std::string before = neurona::io::read_file(path);
  EXPECT_FALSE(h.append_csv(path, header));
  const std::string after = neurona::io::read_file(path);
  EXPECT_EQ(after, before + "1,0.5,0.75\n");
  h.append(2, {{"loss", 0.25}, {"val_loss", 0.5}, {"mae", 0.125}});  // a new key: rewritten
  EXPECT_TRUE(h.append_csv(path, header));
  EXPECT_EQ(neurona::io::read_file(path), h.to_csv());

  const History back = History::from_csv(h.to_csv() + "3,0.1");  // a torn last row is left out
  EXPECT_EQ(back.epochs(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(back["loss"], h["loss"]);
  EXPECT_TRUE(std::isnan(back["mae"][0]));
  EXPECT_EQ(back["mae"][2], 0.125);
  EXPECT_ERROR_CONTAINS(History::from_csv("epoch,loss\n0,abc\n"), "column 'loss' holds 'abc', not a number");
  EXPECT_ERROR_CONTAINS(History::from_csv("epoch,loss\n0,1,2\n"), "has 3 values for 2 columns");
  EXPECT_ERROR_CONTAINS(History::from_csv("loss\n1\n"), "no 'epoch' header");
}

TEST(ProgressBar, FormatsLikeKeras) {
  EXPECT_EQ(ProgressBar::format_value(0.41234), "0.4123");
  EXPECT_EQ(ProgressBar::format_value(0.0001234), "1.2340e-04");
  EXPECT_EQ(ProgressBar::format_logs({{"val_loss", 0.5}, {"accuracy", 0.9}, {"loss", 0.25}, {"lr", 0.1}}),
            " - accuracy: 0.9000 - loss: 0.2500 - val_loss: 0.5000");
}
