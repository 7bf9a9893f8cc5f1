// The stats as HAProxy's CSV (`/stats;csv`, `show stat`): HAProxy 2.6's header, every field in its order,
// filled where metalgate has the value and for the row types HAProxy fills it, empty elsewhere, so tools
// that read HAProxy's CSV by position or by name read this one.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "engine/stats/snapshot.h"

namespace metalgate::stats {

std::string to_csv(const Snapshot& snapshot);
// HAProxy 2.6's field names, in order (the header without "# ").
std::span<const std::string_view> csv_fields();

}  // namespace metalgate::stats
