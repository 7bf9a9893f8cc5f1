// The stats page (the values' stats frontend, `/`): HAProxy's layout, one table per frontend and backend
// with its servers, status colours, counters and response times; it reloads itself every `refresh` seconds.
#pragma once

#include <string>

#include "engine/stats/snapshot.h"

namespace metalgate::stats {

struct PageInfo {
  std::string node;
  std::string version;
  int refresh_seconds = 5;
};

std::string to_html(const Snapshot& snapshot, const PageInfo& info);

}  // namespace metalgate::stats
