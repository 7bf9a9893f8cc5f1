#include "engine/stats/registry.h"

namespace metalgate::stats {

template <typename T>
T& Registry::find_or_add(std::map<Key, std::unique_ptr<T>>& blocks, Key key) {
  auto& slot = blocks[std::move(key)];
  if (!slot) slot = std::make_unique<T>();
  return *slot;
}

template <typename T>
std::vector<const T*> Registry::every_loop(const std::map<Key, std::unique_ptr<T>>& blocks,
                                           const std::string& a, const std::string& b) {
  std::vector<const T*> out;
  for (auto it = blocks.lower_bound(Key{a, b, 0}); it != blocks.end(); ++it) {
    if (std::get<0>(it->first) != a || std::get<1>(it->first) != b) break;
    out.push_back(it->second.get());
  }
  return out;
}

FrontendCounters& Registry::frontend(int loop, const std::string& name) {
  std::lock_guard lock(mutex_);
  return find_or_add(frontends_, {name, "", loop});
}

BackendCounters& Registry::backend(int loop, const std::string& name) {
  std::lock_guard lock(mutex_);
  return find_or_add(backends_, {name, "", loop});
}

ServerCounters& Registry::server(int loop, const std::string& backend, const std::string& server) {
  std::lock_guard lock(mutex_);
  return find_or_add(servers_, {backend, server, loop});
}

std::vector<const FrontendCounters*> Registry::frontends(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return every_loop(frontends_, name, "");
}

std::vector<const BackendCounters*> Registry::backends(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return every_loop(backends_, name, "");
}

std::vector<const ServerCounters*> Registry::servers(const std::string& backend,
                                                     const std::string& server) const {
  std::lock_guard lock(mutex_);
  return every_loop(servers_, backend, server);
}

}  // namespace metalgate::stats
