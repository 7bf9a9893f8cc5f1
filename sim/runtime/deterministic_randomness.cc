// RAND_set_rand_method is deprecated in OpenSSL 3 but still routes RAND_bytes and RAND_priv_bytes (and so the
// providers' nonces and keys) through our method; there is no supported way to seed OpenSSL
// deterministically.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "sim/runtime/deterministic_randomness.h"

#include <openssl/rand.h>

#include <memory>

#include "engine/runtime/seeded_random.h"

namespace metalgate::sim {

namespace {

std::unique_ptr<runtime::SeededRandom> g_random;

int bytes(unsigned char* buf, int num) {
  for (int i = 0; i < num; i += 8) {
    std::uint64_t v = g_random->next_u64();
    for (int j = 0; j < 8 && i + j < num; ++j)
      buf[i + j] = static_cast<unsigned char>(v >> (8 * j));
  }
  return 1;
}
int seed(const void*, int) {
  return 1;
}
int add(const void*, int, double) {
  return 1;
}
int status() {
  return 1;
}

RAND_METHOD g_method = {seed, bytes, nullptr, add, bytes, status};

}  // namespace

DeterministicOpensslRandomness::DeterministicOpensslRandomness(std::uint64_t s) {
  g_random = std::make_unique<runtime::SeededRandom>(s ^ 0x6d6574616c676174ull);
  RAND_set_rand_method(&g_method);
}

DeterministicOpensslRandomness::~DeterministicOpensslRandomness() {
  RAND_set_rand_method(nullptr);
  g_random.reset();
}

}  // namespace metalgate::sim
