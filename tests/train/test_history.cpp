#include <algorithm>
#include <cmath>

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

TEST(ProgressBar, FormatsLikeKeras) {
  EXPECT_EQ(ProgressBar::format_value(0.41234), "0.4123");
  EXPECT_EQ(ProgressBar::format_value(0.0001234), "1.2340e-04");
  EXPECT_EQ(ProgressBar::format_logs({{"val_loss", 0.5}, {"accuracy", 0.9}, {"loss", 0.25}, {"lr", 0.1}}),
            " - accuracy: 0.9000 - loss: 0.2500 - val_loss: 0.5000");
}
