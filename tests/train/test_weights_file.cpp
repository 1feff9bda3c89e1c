// Weights files and PyTorch: BatchNorm's num_batches_tracked is an I64 0-d tensor both ways.
#include <cstdlib>

#include "../io/io_test_util.hpp"
#include "neurona/io/files.hpp"
#include "neurona/nn/layers.hpp"
#include "neurona/train/trainer.hpp"
#include "test_util.hpp"

namespace neurona::testing {
namespace {

nn::StateDict read_state(const std::filesystem::path& path) {
  nn::StateDict sd;
  for (const auto& nt : io::load_safetensors(path).tensors) sd.insert(nt.name, nt.tensor);
  return sd;
}

// batchnorm_torch*.safetensors: made by tests/fixtures/io/make_batchnorm_fixture.py (PyTorch 1.13).
TEST(WeightsFile, LoadsPyTorchBatchNormIncludingAOneElementCount) {
  for (const char* file : {"batchnorm_torch.safetensors", "batchnorm_torch_1elem.safetensors"}) {
    nn::BatchNorm1d bn(3);
    bn.load_state_dict(read_state(io_fixture(file)), true);
    EXPECT_EQ(bn.buffer("num_batches_tracked").shape(), Shape()) << file;
    EXPECT_EQ(bn.buffer("num_batches_tracked").item(), 2.f) << file;
    expect_values(bn.buffer("running_mean"),
                  {0.04322554171085358f, -0.026447881013154984f, -0.08139939606189728f}, 0);
  }
}

TEST(WeightsFile, NumBatchesTrackedIsWrittenAsI64AndPyTorchReadsInt64) {
  ScratchDir dir;
  nn::BatchNorm1d bn(3);
  bn.load_state_dict(read_state(io_fixture("batchnorm_torch.safetensors")), true);
  io::save_safetensors(dir / "bn.safetensors", train::weight_tensors(bn));
  const auto back = io::load_safetensors(dir / "bn.safetensors");
  EXPECT_NE(io::read_file(dir / "bn.safetensors").find(R"("num_batches_tracked":{"dtype":"I64","shape":[])"),
            std::string::npos);
  EXPECT_EQ(back.at("num_batches_tracked").item(), 2.f);
  EXPECT_EQ(back.at("running_var").shape(), Shape({3}));
  const std::string cmd = "/usr/bin/python3 " + io_fixture("torch_load_batchnorm.py").string() + " " +
                          (dir / "bn.safetensors").string() + " > " + (dir / "out.txt").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(io::read_file(dir / "out.txt"), "num_batches_tracked torch.int64 2 torch.int64\n");
}

}  // namespace
}  // namespace neurona::testing
