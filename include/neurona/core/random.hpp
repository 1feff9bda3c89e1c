#pragma once
// Generator: the seeded random source behind every random choice (init, shuffling, dropout,
// splits). One seed reproduces a run; manual_seed() reseeds the default generator.
#include <cstdint>

namespace neurona {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) { seed_(seed); }
  void seed_(uint64_t seed);
  // xoshiro256** step (inline: dropout draws one per element)
  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }
  double uniform();  // [0, 1)
  float uniform(float low, float high);
  float normal(float mean = 0.f, float std = 1.f);  // Box–Muller
  int64_t randint(int64_t n);                       // uniform in [0, n)

  struct State {
    uint64_t s[4];
    bool has_spare;
    double spare;
  };
  State state() const { return {{s_[0], s_[1], s_[2], s_[3]}, has_spare_, spare_}; }
  void set_state(const State& st);

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4]{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Output number i (0, 1, ...) of the SplitMix64 sequence seeded with `key`. Each value depends
// only on (key, i), so a kernel can draw element i on any thread, in any order, vectorised, and
// get the same values.
inline uint64_t splitmix64_at(uint64_t key, uint64_t i) {
  uint64_t z = key + (i + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace neurona
