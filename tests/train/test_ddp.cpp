// Data-parallel training's pieces in a world of one process (the suite runs without mpirun);
// tests/dist/ddp_tests.sh runs them on 2 to 4 ranks.
#include <cstring>
#include <filesystem>

#include "neurona/dist/ddp.hpp"
#include "neurona/io/safetensors.hpp"
#include "neurona/nn/layers.hpp"
#include "neurona/train/callbacks.hpp"
#include "neurona/train/model.hpp"
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::testing;

namespace {

std::shared_ptr<nn::Sequential> net_of(uint64_t seed) {
  manual_seed(seed);
  auto net = std::make_shared<nn::Sequential>();
  net->add(std::make_shared<nn::Linear>(3, 5));
  net->add(std::make_shared<nn::Linear>(5, 2));
  return net;
}

}  // namespace

TEST(Communicator, AloneIsAWorldOfOneWhoseCollectivesChangeNothing) {
  ASSERT_FALSE(dist::launched_by_mpi()) << "run the suite without mpirun";
  dist::Communicator& c = dist::Communicator::world();
  EXPECT_EQ(c.rank(), 0);
  EXPECT_EQ(c.size(), 1);
  EXPECT_TRUE(c.is_root());
  std::vector<float> v{1.5f, -2.0f, 3.25f};
  c.allreduce_sum(v.data(), 3);
  c.broadcast(v.data(), 3);
  EXPECT_EQ(v, (std::vector<float>{1.5f, -2.0f, 3.25f}));
  std::string text = "rank 0";
  c.broadcast(text);
  EXPECT_EQ(text, "rank 0");
  EXPECT_ERROR_CONTAINS(c.set_timeout(0), "timeout must be > 0 seconds, got 0");
}

// Alone, the mean of one rank's gradients is themselves; a parameter without a gradient gets
// zeros; the flags come back as sent; a 1-element cap makes one bucket per parameter.
TEST(GradientReducer, AloneKeepsGradientsAndPacksReverseOrderBuckets) {
  auto net = net_of(1);
  auto params = net->parameters();
  ASSERT_EQ(params.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    Tensor g = Tensor::full(params[i].shape(), float(i + 1));
    params[i].set_grad(g);
  }
  dist::GradientReducer reducer(dist::Communicator::world(), 1e-9);
  std::vector<float> flags{1, 0};
  reducer.average(params, flags);
  EXPECT_EQ(flags, (std::vector<float>{1, 0}));
  EXPECT_EQ(reducer.buckets_last_step(), 4);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(params[i].grad().data()[0], float(i + 1));
  ASSERT_TRUE(params[3].grad().defined());
  EXPECT_EQ(params[3].grad().data()[1], 0.0f);
  dist::GradientReducer one_bucket(dist::Communicator::world());
  one_bucket.average(params, flags);
  EXPECT_EQ(one_bucket.buckets_last_step(), 1);
  EXPECT_EQ(one_bucket.bucket_cap_elements(), 25 * 1024 * 1024 / 4);
  EXPECT_ERROR_CONTAINS(dist::GradientReducer(dist::Communicator::world(), 0), "bucket_cap_mb must be > 0");
}

TEST(Ddp, FingerprintFollowsEveryBit) {
  auto a = net_of(2), b = net_of(2), c = net_of(3);
  EXPECT_EQ(dist::fingerprint(*a), dist::fingerprint(*b));
  EXPECT_NE(dist::fingerprint(*a), dist::fingerprint(*c));
  float* w = b->parameters()[0].data();
  uint32_t bits;
  std::memcpy(&bits, w, 4);
  bits ^= 1u;  // the last bit of one weight
  std::memcpy(w, &bits, 4);
  EXPECT_NE(dist::fingerprint(*a), dist::fingerprint(*b));
  EXPECT_TRUE(dist::replicas_identical(dist::Communicator::world(), *a));
}

// Without a launcher every strategy trains alone, exactly as "single"; an unknown one is an error.
TEST(Ddp, StrategyAloneTrainsAsSingle) {
  train::TrainerOptions o;
  for (const char* s : {"auto", "ddp", "single"}) {
    o.strategy = s;
    EXPECT_EQ(train::strategy_world_size(o), 1) << s;
  }
  o.strategy = "dp";
  EXPECT_ERROR_CONTAINS(train::strategy_world_size(o),
                        "strategy must be 'auto', 'ddp' or 'single', got 'dp'");

  Generator g(4);
  Tensor x = Tensor::uniform({40, 3}, -1, 1, &g);
  Tensor y = Tensor::uniform({40, 2}, -1, 1, &g);
  std::vector<float> weights[2];
  for (int i = 0; i < 2; ++i) {
    auto net = net_of(5);
    train::Model m(net);
    m.compile("adam", "mse");
    train::FitOptions fo;
    fo.epochs = 2;
    fo.batch_size = 8;
    fo.verbose = 0;
    fo.trainer.strategy = i == 0 ? "ddp" : "single";
    m.fit(data::TensorDataset(x, y), fo);
    EXPECT_EQ(m.last_trainer()->world_size(), 1);
    EXPECT_TRUE(m.last_trainer()->is_global_zero());
    for (const auto& p : net->parameters())
      weights[i].insert(weights[i].end(), p.data(), p.data() + p.numel());
  }
  EXPECT_EQ(weights[0], weights[1]);
}

// A checkpoint whose weights and state files come from different steps (a write cut short by a
// killed process) is refused, naming both steps.
TEST(Ddp, ResumeRefusesACheckpointPairFromTwoSteps) {
  const auto dir = fresh_dir("ddp_pair");
  Generator g(6);
  data::TensorDataset d(Tensor::uniform({16, 3}, -1, 1, &g), Tensor::uniform({16, 2}, -1, 1, &g));
  train::ModelCheckpointOptions mo;
  mo.dirpath = dir;
  mo.save_top_k = -1;
  mo.filename = "e{epoch}";
  train::Model m(net_of(7));
  m.compile("sgd", "mse");
  train::FitOptions fo;
  fo.epochs = 2;
  fo.batch_size = 4;
  fo.verbose = 0;
  fo.callbacks = {std::make_shared<train::ModelCheckpoint>(mo)};
  m.fit(d, fo);
  std::filesystem::copy_file(dir / "e0.state.safetensors", dir / "e1.state.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  train::Model again(net_of(7));
  again.compile("sgd", "mse");
  fo.callbacks = {};
  fo.resume_from = dir / "e1.safetensors";
  EXPECT_ERROR_CONTAINS(again.fit(d, fo), "holds the weights of step 8 but");
}

// sync_batchnorm's arithmetic in one process: a reducer that doubles every sum stands for two
// ranks holding the same batch. Their global batch has the same mean and variance, so y and dx
// equal the unsynchronised ones; only the count differs, which the unbiased running variance shows:
// Σ(x − μ)²·2 / (2m − 1) instead of Σ(x − μ)² / (m − 1).
TEST(Ddp, SyncBatchNormOverTwoEqualRanksKeepsTheStatistics) {
  Generator g(8);
  const Tensor x0 = Tensor::uniform({6, 3}, -2, 2, &g);
  const Tensor up = Tensor::uniform({6, 3}, -1, 1, &g);
  Tensor y[2], dx[2], rv[2];
  for (int sync = 0; sync < 2; ++sync) {
    if (sync)
      nn::F::set_batch_stats_reducer([](double* d, int64_t n) {
        for (int64_t i = 0; i < n; ++i) d[i] *= 2;
      });
    Tensor x = x0.clone();
    x.requires_grad_(true);
    rv[sync] = Tensor::ones({3});
    Tensor out = nn::F::batch_norm(x, Tensor::zeros({3}), rv[sync], Tensor(), Tensor(), true);
    sum(out * up).backward();
    y[sync] = out.detach();
    dx[sync] = x.grad();
    nn::F::set_batch_stats_reducer(nullptr);
  }
  for (int64_t i = 0; i < 18; ++i) {
    EXPECT_NEAR(y[1].data()[i], y[0].data()[i], 1e-6) << i;
    EXPECT_NEAR(dx[1].data()[i], dx[0].data()[i], 1e-6) << i;
  }
  for (int64_t ch = 0; ch < 3; ++ch) {
    // running_var = 0.9·1 + 0.1·var_unbiased; recover Σ(x − μ)² from the unsynchronised one.
    const double ss = (rv[0].data()[ch] - 0.9) / 0.1 * 5;
    EXPECT_NEAR(rv[1].data()[ch], 0.9 + 0.1 * ss * 2 / 11, 1e-6) << ch;
  }
}
