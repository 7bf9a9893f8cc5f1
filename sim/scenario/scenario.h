// Reads a scenario file. Unknown keys, bad values and dangling names are errors with file:line:column and the
// field path; nothing runs on a scenario with errors.
#pragma once

#include <string>

#include "engine/config/diagnostics.h"
#include "sim/scenario/scenario-t.h"

namespace metalgate::sim {

Scenario load_scenario(const std::string& path, config::Diagnostics& diagnostics);

}  // namespace metalgate::sim
