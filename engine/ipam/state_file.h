// Allocations kept across restarts in live mode: one line per service, "namespace/name addr[,addr]".
// `serve --state FILE` reads it at start and writes it after the start and every reload it applies, atomically
// (temporary file, fsync, rename, fsync of the directory): a crash leaves the old or the new file.
#pragma once

#include <string>
#include <system_error>

#include "engine/ipam/allocator.h"
#include "engine/runtime/result.h"

namespace metalgate::ipam {

// A missing file is an empty state, not an error. A malformed line is an error naming path:line.
Result<PreviousAllocations> read_state_file(const std::string& path);
std::error_code write_state_file(const std::string& path, const PreviousAllocations& allocations);

}  // namespace metalgate::ipam
