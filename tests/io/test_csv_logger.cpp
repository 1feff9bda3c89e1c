#include "io_test_util.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

TEST(CsvWriter, RowsAreOnDiskAfterEachWrite) {
  ScratchDir dir;
  io::write_file_atomic(dir / "h.csv", "old content\n");
  io::CsvWriter csv(dir / "h.csv");
  csv.write_row({{"epoch", 1}, {"loss", 0.5}, {"val_loss", 0.75}});
  EXPECT_EQ(io::read_file(dir / "h.csv"), "epoch,loss,val_loss\n1,0.5,0.75\n");
  csv.write_row({{"epoch", 2}, {"val_loss", 0.25}, {"loss", 0.125}});
  EXPECT_EQ(io::read_file(dir / "h.csv"), "epoch,loss,val_loss\n1,0.5,0.75\n2,0.125,0.25\n");
}

TEST(CsvWriter, NewKeysWidenTheHeaderAndMissingOnesLeaveEmptyCells) {
  ScratchDir dir;
  io::CsvWriter csv(dir / "h.csv");
  csv.write_row({{"step", 1}, {"loss", 2}});
  csv.write_row({{"step", 2}, {"lr", 1e-3}, {"a,b", 3}});
  csv.write_row({{"step", 3}});
  EXPECT_EQ(io::read_file(dir / "h.csv"), "step,loss,lr,\"a,b\"\n1,2,,\n2,,0.001,3\n3,,,\n");
  EXPECT_EQ(csv.columns(), (std::vector<std::string>{"step", "loss", "lr", "a,b"}));
  EXPECT_ERROR_CONTAINS(csv.write_row({{"x", 1}, {"x", 2}}), "column 'x' appears twice");
  EXPECT_ERROR_CONTAINS(csv.write_row({}), "at least one value");
}

}  // namespace
}  // namespace neurona::testing
