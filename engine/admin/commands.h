// The admin socket's commands, sans I/O: one line in, the answer out. A subset of HAProxy's runtime API
// (`show info`, `show stat`, `show servers state`, `set server BACKEND/SERVER state ready|drain|maint`) plus
// the speaker's (`show vips`, `show members`). The live daemon serves them on a Unix socket (`serve
// --admin-socket`) and `metalgate ctl` sends them; any world can call run_command on its node.
#pragma once

#include <string>
#include <string_view>

#include "engine/node/node.h"

namespace metalgate::admin {

// The answer to one command line, ending in "\n"; an error starts with "error: " and says what is expected.
std::string run_command(node::Node& node, std::string_view line);

}  // namespace metalgate::admin
