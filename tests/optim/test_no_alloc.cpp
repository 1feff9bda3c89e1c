// After the first step, Optimizer::step() must not touch the heap. Counts allocations by
// replacing the global operator new for this test program (it only counts while armed); no other
// test may replace it.
#include <atomic>
#include <cstdlib>
#include <new>

#include "test_util.hpp"

namespace {
std::atomic<bool> g_armed{false};
std::atomic<long> g_allocations{0};
}  // namespace

// GCC flags malloc/free inside replaced operators once they are inlined; the pairing is right here.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (g_armed.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_armed.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
// Every form of delete pairs with the malloc above (the nothrow new too: std::stable_sort's
// temporary buffer uses it, and a sanitizer flags a mismatch otherwise).
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace neurona::optim {
namespace {

template <class Opt>
long allocations_in_steps(typename Opt::Options o) {
  Tensor w = Tensor::from(std::vector<float>(1000, 0.5f), Shape({10, 100})).requires_grad_();
  Tensor b = Tensor::from(std::vector<float>(100, 0.1f), Shape({100})).requires_grad_();
  w.set_grad(Tensor::full(Shape({10, 100}), 0.3f));
  b.set_grad(Tensor::full(Shape({100}), -0.2f));
  Opt opt({w, b}, o);
  opt.step();  // the first step allocates the state
  g_allocations = 0;
  g_armed = true;
  for (int i = 0; i < 10; ++i) opt.step();
  g_armed = false;
  return g_allocations.load();
}

TEST(OptimizerNoAlloc, StepsAfterTheFirstDoNotAllocate) {
  EXPECT_EQ(allocations_in_steps<SGD>({.lr = 0.1, .momentum = 0.9, .nesterov = true}), 0);
  EXPECT_EQ(allocations_in_steps<Adagrad>({}), 0);
  EXPECT_EQ(allocations_in_steps<RMSprop>({.momentum = 0.9, .centered = true}), 0);
  EXPECT_EQ(allocations_in_steps<Adadelta>({}), 0);
  EXPECT_EQ(allocations_in_steps<Adam>({.amsgrad = true}), 0);
  EXPECT_EQ(allocations_in_steps<AdamW>({}), 0);
  EXPECT_EQ(allocations_in_steps<NAdam>({}), 0);
  EXPECT_EQ(allocations_in_steps<RAdam>({}), 0);
}

}  // namespace
}  // namespace neurona::optim
