// The worlds the runtime-port contract runs in: two hosts (a and b) that can reach each other by stream,
// datagram and Ethernet frame, and a way to let time pass (virtual or real).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "engine/runtime/runtime.h"

namespace metalgate::runtime::testing_worlds {

class ContractWorld {
 public:
  virtual ~ContractWorld() = default;
  virtual Runtime& a() = 0;
  virtual Runtime& b() = 0;
  virtual net::IpAddress addr_a() const = 0;
  virtual net::IpAddress addr_b() const = 0;
  // A service address b may add with add_local_address().
  virtual net::IpAddress service_address() const = 0;
  virtual std::string interface_a() const = 0;
  virtual std::string interface_b() const = 0;
  virtual bool frames_supported() const = 0;
  virtual bool local_addresses_supported() const = 0;
  virtual void set_link_b(bool up) = 0;
  // What a world's model leaves out (ns-3: no link state changes on CSMA).
  virtual bool link_changes_supported() const { return true; }
  // Lets time pass until done() holds or `limit` elapses; returns done().
  virtual bool run_until(const std::function<bool()>& done, Duration limit) = 0;
  virtual void run_for(Duration d) = 0;
};

struct WorldFactory {
  std::function<std::unique_ptr<ContractWorld>()> make;
  std::function<std::string()> unavailable_reason;
};

WorldFactory memory_world_factory();
inline void PrintTo(const WorldFactory&, std::ostream* os) {
  *os << "world";
}
WorldFactory asio_world_factory();
#ifdef METALGATE_HAVE_NS3
WorldFactory ns3_world_factory();
#endif

}  // namespace metalgate::runtime::testing_worlds
