// Allocations kept across restarts in live mode: one line per service, "namespace/name addr[,addr]".
// Written atomically (temporary file, fsync, rename, fsync of the directory): a crash leaves the old or the
// new file.
#pragma once

#include <string>
#include <system_error>

#include "engine/ipam/allocator.h"

namespace metalgate::ipam {

// A missing file is an empty state, not an error. A malformed line is an error naming path:line.
PreviousAllocations read_state_file(const std::string& path, std::string& error);
std::error_code write_state_file(const std::string& path, const AllocationResult& allocations);

}  // namespace metalgate::ipam
