// Where every event loop's counter blocks live, by loop and by name. A proxy asks for its blocks when it
// starts; a proxy that replaces it after a reload, in the same loop, gets the same blocks, so counters run on
// across reloads (as HAProxy's do across a seamless reload with its stats file) and a proxy still finishing
// old connections counts into them too. Blocks are never freed while the registry lives: a backend that a
// reload removed keeps its last values, and the stats list only what the serving configuration names.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "engine/stats/counters-t.h"

namespace metalgate::stats {

class Registry {
 public:
  FrontendCounters& frontend(int loop, const std::string& name);
  BackendCounters& backend(int loop, const std::string& name);
  ServerCounters& server(int loop, const std::string& backend, const std::string& server);

  // Every loop's block of one name (for a reader to sum); empty when no loop counted under it.
  std::vector<const FrontendCounters*> frontends(const std::string& name) const;
  std::vector<const BackendCounters*> backends(const std::string& name) const;
  std::vector<const ServerCounters*> servers(const std::string& backend, const std::string& server) const;

 private:
  using Key = std::tuple<std::string, std::string, int>;  // name, server name, loop
  template <typename T>
  static T& find_or_add(std::map<Key, std::unique_ptr<T>>& blocks, Key key);
  template <typename T>
  static std::vector<const T*> every_loop(const std::map<Key, std::unique_ptr<T>>& blocks,
                                          const std::string& a, const std::string& b);

  mutable std::mutex mutex_;  // guards the maps, not the counters
  std::map<Key, std::unique_ptr<FrontendCounters>> frontends_;
  std::map<Key, std::unique_ptr<BackendCounters>> backends_;
  std::map<Key, std::unique_ptr<ServerCounters>> servers_;
};

}  // namespace metalgate::stats
