// The in-memory properties' tests run a property through RapidCheck as metalgate check does: a given seed
// and number of cases, nothing printed, the result returned to inspect.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <string>
#include <utility>

namespace metalgate::check {

struct QuietListener : rc::detail::TestListener {
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

template <typename Property>
rc::detail::TestResult run_quietly(const std::string& name, Property&& property, int cases,
                                   std::uint64_t seed) {
  rc::detail::TestParams params;
  params.seed = seed;
  params.maxSuccess = cases;
  rc::detail::TestMetadata metadata;
  metadata.id = metadata.description = name;
  QuietListener quiet;
  return rc::detail::checkTestable(std::forward<Property>(property), metadata, params, quiet);
}

}  // namespace metalgate::check
