// The properties `metalgate check` searches for failures of, one row each. Most are a set of expectations
// (scenario/kinds/expectation_kinds.h) appended to every generated case: the world's own judges decide it,
// and the counterexample file carries them, so `metalgate sim FILE` replays the same failure. Those that
// need no network (allocation, balancing, health) are checked in memory against the engine's own code, a
// thousand times cheaper; their counterexample is RapidCheck's, written as text, and the same seed replays
// it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "check/case/base.h"
#include "check/case/case-t.h"

namespace metalgate::check {

struct Property {
  std::string_view name;
  std::string_view says;  // one line, for --help and the counterexample's header
  // The expect: entries every case carries, as YAML (a case's own: routing names the pods of its requests).
  std::vector<std::string> (*expectations)(const Base& base, const Case& c);
  // Instead of expectations: one case checked in memory, inside RapidCheck (it draws with *gen and fails
  // with RC_FAIL).
  void (*in_memory)(const Base& base) = nullptr;
  // Fails on purpose: the proof that a failure is found, shrunk and replayed (tests only; --property names
  // it, the default set leaves it out).
  bool deliberately_failing = false;
  // The fault histories its cases are drawn with.
  FaultMix faults = FaultMix::kEveryKind;
};

const std::vector<Property>& properties();
const Property* find_property(std::string_view name);
std::string property_names();  // "a, b, c" (the deliberately failing ones too)

// An in-memory case costs microseconds where a simulated one costs a second: each runs this many cases for
// each case a simulated property runs.
inline constexpr int kInMemoryCasesPerCase = 50;

}  // namespace metalgate::check
