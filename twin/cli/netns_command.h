// `metalgate netns SCENARIO.yaml` (the metalgate-netns executable): runs a scenario on real network
// namespaces with the daemon as deployed, prints the same summary as `metalgate sim`, writes the same
// result.json (with "world": "live"), junit.xml and report.html. Exit 0 when every expectation holds, 1 when
// one does not, 2 on invalid input or without the privileges a LAN of namespaces needs, 130/143 when
// interrupted (after tearing everything down).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace metalgate::twin {

struct NetnsCommandOptions {
  std::string scenario;
  std::string out_dir;  // default: netns-out/<scenario name>
  std::optional<std::uint64_t> seed;
  bool quiet = false;
  bool pcap = false;
  bool cleanup = false;  // remove what runs whose process is gone left behind, and nothing else
};

int run_netns_command(const NetnsCommandOptions& options);

}  // namespace metalgate::twin
