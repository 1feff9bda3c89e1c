#include "neurona/core/random.hpp"

#include <cmath>

namespace neurona {
void Generator::seed_(uint64_t seed) {
  for (int i = 0; i < 4; ++i) s_[i] = splitmix64_at(seed, i);
  has_spare_ = false;
  spare_ = 0.0;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

float Generator::uniform(float low, float high) {
  return static_cast<float>(low + (static_cast<double>(high) - low) * uniform());
}

float Generator::normal(float mean, float std) {
  double z;
  if (has_spare_) {
    has_spare_ = false;
    z = spare_;
  } else {
    double u1;
    do u1 = uniform();
    while (u1 <= 0.0);
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    z = r * std::cos(2.0 * M_PI * u2);
    spare_ = r * std::sin(2.0 * M_PI * u2);
    has_spare_ = true;
  }
  return static_cast<float>(mean + std * z);
}

int64_t Generator::randint(int64_t n) {
  // Rejection sampling keeps every value equally likely.
  const uint64_t un = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % un;
  uint64_t x;
  do x = next_u64();
  while (x >= limit);
  return static_cast<int64_t>(x % un);
}

void Generator::set_state(const State& st) {
  for (int i = 0; i < 4; ++i) s_[i] = st.s[i];
  has_spare_ = st.has_spare;
  spare_ = st.spare;
}

Generator& default_generator() {
  static Generator g(0x5eed);
  return g;
}

void manual_seed(uint64_t seed) { default_generator().seed_(seed); }

}  // namespace neurona
