// What a run leaves behind and says, the same for every world: result.json, junit.xml and report.html in the
// output directory, and the summary lines on the console.
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace metalgate::scenario {

// Writes result.json, junit.xml and report.html into `out_dir` (made when missing).
void write_run_outputs(const std::string& out_dir, const nlohmann::json& result);
// The requests, every failover and every expectation's verdict, a line each.
void print_run_summary(std::ostream& out, const nlohmann::json& result);

}  // namespace metalgate::scenario
