// Real Debian servers as a scenario's pods, live only (ScenarioBackend::server): what a pod process runs in
// place of the identity servers, so that real clients (redis-cli, psql, dig) can be used through the VIP.
#pragma once

#include <string>
#include <vector>

#include "engine/runtime/result.h"
#include "scenario/run/plan.h"

namespace metalgate::twin {

// The command that runs `pod`'s server in the foreground on its address and the Deployment's first port of
// the server's kind; `work_dir` is the pod's own directory (made here, readable by the server's user). For
// postgresql a throwaway cluster is made there first (initdb, as the postgres user: it refuses root). A
// failure says what is missing.
Result<std::vector<std::string>> real_server_command(const scenario::run::PlannedPod& pod,
                                                     const std::string& work_dir);

}  // namespace metalgate::twin
