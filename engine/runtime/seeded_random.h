// Randomness from a seed, identical on every platform and compiler: one seed reproduces a whole run.
// (std::uniform_int_distribution is implementation-defined, so the engine uses these helpers instead.)
#pragma once

#include <cstdint>

namespace metalgate::runtime {

class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed);
  std::uint64_t next_u64();                  // xoshiro256**
  std::uint64_t below(std::uint64_t bound);  // uniform in [0, bound), bound > 0, unbiased
  double unit();                             // uniform in [0, 1)
  // A new independent generator for a sub-component, so adding draws in one place does not shift another's.
  SeededRandom fork(std::uint64_t stream);

 private:
  std::uint64_t s_[4];
};

}  // namespace metalgate::runtime
