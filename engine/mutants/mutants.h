// Known bugs that a test build compiles in, to prove that `metalgate check`'s properties catch them
// (tests/check/mutants/, reports/mutants.md). One row per mutant in mutants.cc; a site in the engine reads
//
//   if (METALGATE_MUTANT(kPrefixAsStringPrefix)) …the bug…;
//
// Only the sources listed in engine/CMakeLists.txt's mutant sites are compiled with METALGATE_MUTANTS, and
// only when the build option METALGATE_MUTANTS is on (it follows METALGATE_TESTS). Everywhere else, and in
// every build made for users (`-DMETALGATE_TESTS=OFF`), the macro is the constant false and the bug is not
// in the binary. In a mutants build, the environment variable METALGATE_MUTANT=name switches one on for the
// whole process (every simulated node, every forked job): one build serves every mutant, where a build per
// mutant would cost the CI a full engine build each.
#pragma once

#include <string_view>
#include <vector>

namespace metalgate::mutants {

enum class Mutant {
  kNone,
  kAvoidBuggyIpsIgnored,
  kSharingIgnoresPortClash,
  kRoundRobinSkipsServer,
  kLeastconnPicksBusier,
  kPersistenceCookieIgnored,
  kHealthFallOffByOne,
  kHealthRiseOffByOne,
  kPrefixAsStringPrefix,
  kExactMatchesAsPrefix,
  kWildcardMatchesSeveralLabels,
  kElectionPrefersSelf,
  kOldOwnerKeepsAnswering,
  kNoGratuitousArpOnTakeover,
  kRateLimitOffByOne,
  kReloadAppliedBeforeValidation,
  kNodeSelectorsIgnored,
};

struct MutantRow {
  Mutant mutant;
  std::string_view name;    // METALGATE_MUTANT's value
  std::string_view breaks;  // the bug, in a line
};

const std::vector<MutantRow>& table();

// The mutant METALGATE_MUTANT names (kNone when unset). An unknown name ends the process with a message
// listing the known ones: a misspelt mutant must not pass as "caught nothing".
Mutant active();
inline bool enabled(Mutant m) {
  return m != Mutant::kNone && active() == m;
}

}  // namespace metalgate::mutants

#ifdef METALGATE_MUTANTS
#define METALGATE_MUTANT(m) (::metalgate::mutants::enabled(::metalgate::mutants::Mutant::m))
#else
#define METALGATE_MUTANT(m) false
#endif
