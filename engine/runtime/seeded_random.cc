#include "engine/runtime/seeded_random.h"

namespace metalgate::runtime {

__extension__ typedef unsigned __int128 u128;

static std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

SeededRandom::SeededRandom(std::uint64_t seed) {
  for (auto& s : s_)
    s = splitmix64(seed);
}

std::uint64_t SeededRandom::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t SeededRandom::below(std::uint64_t bound) {
  // Lemire's rejection on the high word keeps the result unbiased.
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    u128 m = static_cast<u128>(next_u64()) * bound;
    if (static_cast<std::uint64_t>(m) >= threshold) return static_cast<std::uint64_t>(m >> 64);
  }
}

double SeededRandom::unit() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

SeededRandom SeededRandom::fork(std::uint64_t stream) {
  return SeededRandom(next_u64() ^ (stream * 0x9e3779b97f4a7c15ull));
}

}  // namespace metalgate::runtime
