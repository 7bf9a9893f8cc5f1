// Searches for a failure of one property: RapidCheck draws cases around the base (check/generate/), each is
// written as a scenario document (check/case/emit.h), loaded as any scenario file is and run in the
// simulator; a case fails when one of the property's expectations does. The first failure is shrunk toward
// the smallest case that still fails, and that case is written as a scenario file that `metalgate sim`
// replays to the same failure. One seed gives the same cases, the same shrinking and the same file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "check/case/base.h"
#include "check/properties/properties.h"

namespace metalgate::check {

struct CheckOptions {
  int cases = 20;
  std::uint64_t seed = 1;
  // Runs spent shrinking a failure at most; past it the smallest failing case so far is the answer.
  int shrink_runs = 60;
  std::string out_dir = "check-out";
  // Called after every case run: (property, cases passed so far, runs while shrinking, failed yet).
  std::function<void(std::string_view, int, int, bool)> progress;
};

struct PropertyOutcome {
  std::string property;
  bool passed = true;
  bool in_memory = false;  // checked in memory: the counterexample is text, replayed by the same seed
  int cases = 0;        // cases that passed before the first failure (all of them when it passed)
  int shrink_runs = 0;  // runs spent shrinking
  double seconds = 0;
  // When it failed: the shrunk case's scenario file (its manifests copied beside it, in OUT/manifests/), and
  // the expectations that failed there; for an in-memory property, a text file with RapidCheck's shrunk
  // counterexample, and its message.
  std::string counterexample;
  std::string failure;
};

PropertyOutcome check_property(const Base& base, const Property& property, const CheckOptions& options);

// What one case is run as: its scenario file (also written on failure), whether the property held and,
// when not, which expectation failed with what measured. Exposed for the tests.
struct CaseRun {
  bool ran = false;  // false: the case did not load or start (a generator bug), with `failure` saying why
  bool held = false;
  std::string failure;
};
CaseRun run_case_document(const std::string& document, const std::string& path);

}  // namespace metalgate::check
