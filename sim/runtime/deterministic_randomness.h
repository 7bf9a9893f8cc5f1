// Makes OpenSSL's randomness come from the scenario's seed while a simulation runs, so that TLS handshakes
// (ECDSA nonces, key shares, tickets) and with them message sizes and timings repeat exactly: one seed, one
// byte-identical result. Never used live: only the simulator installs it, and removes it after the run.
#pragma once

#include <cstdint>

namespace metalgate::sim {

class DeterministicOpensslRandomness {
 public:
  explicit DeterministicOpensslRandomness(std::uint64_t seed);
  ~DeterministicOpensslRandomness();
  DeterministicOpensslRandomness(const DeterministicOpensslRandomness&) = delete;
  DeterministicOpensslRandomness& operator=(const DeterministicOpensslRandomness&) = delete;
};

}  // namespace metalgate::sim
