// RapidCheck generators of whole cases around a base scenario: topologies (how many nodes, which run the
// proxy), the clients' mix and rates, and fault histories. Valid by construction (check/case/case-t.h) and
// shrinking toward the smallest case: 3 nodes (or the base's count when smaller), one client, no episode.
// Sizes grow with RapidCheck's size, so the first cases of a run are the small ones.
#pragma once

#include <rapidcheck.h>

#include "check/case/base.h"
#include "check/case/case-t.h"

namespace metalgate::check {

// Every episode kind of the mix that applies to the base (kBackendCrash needs a pod; the partitions need two
// nodes; reloads need the base's reload_dir).
std::vector<EpisodeKind> episode_kinds(const Base& base, FaultMix mix = FaultMix::kEveryKind);

rc::Gen<Episode> gen_episode(const Base& base, FaultMix mix = FaultMix::kEveryKind);
// `base` must outlive the generator. kReloadsOnly draws at least one episode (a case must reload).
rc::Gen<Case> gen_case(const Base& base, FaultMix mix = FaultMix::kEveryKind);

}  // namespace metalgate::check
