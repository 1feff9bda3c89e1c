// The thread pool: chunk boundaries depend only on the range and the thread count, chunks are
// claimed by whichever thread is free (a slow or descheduled worker does not hold the job up),
// and every chunk runs exactly once.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "../../bench/workloads.hpp"
#include "test_util.hpp"

using namespace neurona;

namespace {

// Restores the thread count a test changed.
struct ThreadCount {
  int before = num_threads();
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(before); }
};

// One W2 training step (784-512-256-10, ReLU, cross-entropy, Adam) at batch 64, from seed 0;
// returns every parameter after it.
std::vector<std::vector<float>> w2_step_weights() {
  manual_seed(0);
  bench::Workload w = bench::make_model("W2");
  auto opt = bench::make_optimizer(w);
  Generator g(1);
  Tensor x = Tensor::uniform({64, 784}, 0.f, 1.f, &g);
  Tensor y = Tensor::empty({64});
  for (int64_t i = 0; i < 64; ++i) y.data()[i] = float(g.randint(10));
  w.model->train();
  for (int s = 0; s < 2; ++s) {
    opt->zero_grad();
    Tensor loss = (*w.loss)((*w.model)(x), y);
    loss.backward();
    opt->step();
  }
  std::vector<std::vector<float>> out;
  for (auto& p : w.model->parameters()) out.push_back(p.to_vector());
  return out;
}

}  // namespace

TEST(Threads, TrainingStepsGiveTheSameBitsOnOneThreadAndOnTwo) {
  std::vector<std::vector<float>> one, two, two_again;
  {
    ThreadCount t(1);
    one = w2_step_weights();
  }
  {
    ThreadCount t(2);
    two = w2_step_weights();
    two_again = w2_step_weights();
  }
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i], two[i]) << "parameter " << i;
    EXPECT_EQ(two[i], two_again[i]) << "parameter " << i;
  }
}

TEST(Threads, ChunkBoundariesDependOnlyOnTheRangeAndTheThreadCount) {
  ThreadCount t(3);
  auto boundaries = [] {
    std::mutex mu;
    std::map<int64_t, int64_t> chunks;
    parallel_for(5, 100005, 1000, [&](int64_t lo, int64_t hi) {
      std::lock_guard<std::mutex> lock(mu);
      chunks[lo] = hi;
    });
    return chunks;
  };
  const auto first = boundaries();
  const std::map<int64_t, int64_t> expected = {{5, 33338}, {33338, 66671}, {66671, 100005}};
  EXPECT_EQ(first, expected);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(boundaries(), expected);
}

// A worker that stalls inside its chunk (as one whose core another process took would): the
// other chunks are claimed by the caller and the remaining workers meanwhile, the job completes
// when the stalled chunk does, and each chunk runs exactly once.
TEST(Threads, ASlowWorkerDelaysOnlyItsOwnChunk) {
  ThreadCount t(4);
  const auto caller = std::this_thread::get_id();
  std::mutex mu;
  std::map<int64_t, int> runs;  // chunk start -> times run
  std::atomic<bool> stalled{false};
  std::atomic<int> finished{0};
  int finished_during_the_stall = -1;
  parallel_for(0, 4000, 10, [&](int64_t lo, int64_t hi) {
    if (std::this_thread::get_id() != caller) {
      if (!stalled.exchange(true)) {  // the first chunk a worker claims stalls
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        finished_during_the_stall = finished.load();
      }
    } else {  // the caller waits for a worker to claim a chunk (else it would run all four)
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!stalled.load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    }
    std::lock_guard<std::mutex> lock(mu);
    runs[lo]++;
    finished++;
    EXPECT_EQ(hi - lo, 1000);
  });
  ASSERT_TRUE(stalled.load());
  ASSERT_EQ(runs.size(), 4u);
  for (auto [lo, n] : runs) EXPECT_EQ(n, 1) << "chunk at " << lo;
  EXPECT_EQ(finished_during_the_stall, 3);  // the others did not wait for the stalled chunk
  EXPECT_EQ(finished.load(), 4);

  // A worker that is not awake yet (asleep between jobs, or descheduled) does not hold a job up:
  // the caller claims its chunk. After a pause longer than the workers' spin, the caller usually
  // runs both chunks of a short job before the worker wakes (with chunks assigned to threads it
  // never would).
  set_num_threads(2);
  int jobs_run_by_the_caller_alone = 0;
  for (int job = 0; job < 20; ++job) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::atomic<int> on_caller{0}, total{0};
    parallel_for(0, 2000, 10, [&](int64_t, int64_t) {
      if (std::this_thread::get_id() == caller) on_caller++;
      total++;
    });
    ASSERT_EQ(total.load(), 2);
    if (on_caller.load() == 2) ++jobs_run_by_the_caller_alone;
  }
  EXPECT_GE(jobs_run_by_the_caller_alone, 1);
}

// Many short jobs back to back while workers stall at random: a worker that wakes late for a job
// that is over must not run a chunk of the next one (each element is hit once per job, with the
// job's own function).
TEST(Threads, LateWorkersNeverRunAChunkOfAnotherJob) {
  ThreadCount t(3);
  const auto caller = std::this_thread::get_id();
  std::vector<int> hits(3000);
  for (int job = 0; job < 2000; ++job) {
    std::fill(hits.begin(), hits.end(), 0);
    const int mark = job;
    std::atomic<int> wrong{0};
    parallel_for(0, 3000, 10, [&, mark](int64_t lo, int64_t hi) {
      if (mark != job) wrong++;
      if (std::this_thread::get_id() != caller && (lo / 1000 + job) % 7 == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      for (int64_t i = lo; i < hi; ++i) hits[i]++;
    });
    ASSERT_EQ(wrong.load(), 0);
    for (int h : hits) ASSERT_EQ(h, 1) << "job " << job;
  }
}

TEST(Threads, NestedParallelForRunsInline) {
  ThreadCount t(2);
  std::atomic<int> inner_calls{0};
  std::vector<int> hits(200000, 0);
  parallel_for(0, 2, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o) {
      const auto me = std::this_thread::get_id();
      parallel_for(o * 100000, (o + 1) * 100000, 1000, [&](int64_t a, int64_t b) {
        EXPECT_EQ(std::this_thread::get_id(), me);  // inline: the same thread
        inner_calls++;
        for (int64_t i = a; i < b; ++i) hits[i]++;
      });
    }
  });
  EXPECT_EQ(inner_calls.load(), 2);
  for (int h : hits) ASSERT_EQ(h, 1);
}

TEST(Threads, AnErrorInAChunkReachesTheCaller) {
  ThreadCount t(2);
  for (int i = 0; i < 20; ++i) {
    EXPECT_ERROR_CONTAINS(parallel_for(0, 1000, 1,
                                       [&](int64_t lo, int64_t) {
                                         if (lo != 0) fail("chunk at ", lo, " failed");
                                       }),
                          "chunk at 500 failed");
  }
  std::vector<int> hits(1000, 0);  // the pool still works
  parallel_for(0, 1000, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) hits[i]++;
  });
  for (int h : hits) ASSERT_EQ(h, 1);
}
