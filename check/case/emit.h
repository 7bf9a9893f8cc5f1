// A generated case as a scenario document: the base's file with its nodes, clients, faults and expectations
// replaced and its manifests made absolute. `metalgate sim FILE` replays it alone: the file is the case.
#pragma once

#include <string>
#include <vector>

#include "check/case/base.h"
#include "check/case/case-t.h"

namespace metalgate::check {

struct EmitOptions {
  std::string name;                       // the scenario's name
  std::string comment;                    // lines above the document (each written as "# …")
  std::vector<std::string> expectations;  // each one expect: entry as YAML ("single_owner: {}")
};

// Generated node i's name: the base's i-th node's, or for nodes past the base's (copies of one of them at a
// spare address) node-<i+1>.
std::string node_name(const Base& base, int i);

// The scenario YAML of `c`.
std::string emit_case(const Base& base, const Case& c, const EmitOptions& options);

// When each episode's fault strikes (ms): after every earlier episode is over, or after the previous one's
// fault when it overlaps, plus its gap; the first from kFirstEpisodeAfterMs.
std::vector<int> episode_starts_ms(const Case& c);
// The case's simulated length: until its last episode is over, then the base's
// recovery bound (Base::recovery_within_ms) and kTailAfterRecoveryMs.
int case_duration_ms(const Case& c, int recovery_within_ms = kRecoveryWithinMs);

}  // namespace metalgate::check
