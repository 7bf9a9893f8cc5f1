// junit.xml for CI systems: one test case per expectation of a result.json, a failure carrying the measured
// figure and the bound.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace metalgate::scenario {

std::string junit_xml(const nlohmann::json& result);

}  // namespace metalgate::scenario
