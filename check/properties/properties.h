// The properties `metalgate check` searches for failures of, one row each. A property is a set of
// expectations (scenario/kinds/expectation_kinds.h) appended to every generated case: the world's own judges
// decide it, and the counterexample file carries them, so `metalgate sim FILE` replays the same failure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace metalgate::check {

struct Property {
  std::string_view name;
  std::string_view says;                  // one line, for --help and the counterexample's header
  std::vector<std::string> expectations;  // expect: entries, as YAML
  // Fails on purpose: the proof that a failure is found, shrunk and replayed (tests only; --property names
  // it, the default set leaves it out).
  bool deliberately_failing = false;
};

const std::vector<Property>& properties();
const Property* find_property(std::string_view name);
std::string property_names();  // "a, b, c" (the deliberately failing ones too)

}  // namespace metalgate::check
