#include "scenario/report/outputs.h"

#include <filesystem>
#include <fstream>
#include <iomanip>

#include "scenario/report/html_report.h"
#include "scenario/report/junit.h"

namespace metalgate::scenario {

void write_run_outputs(const std::string& out_dir, const nlohmann::json& result) {
  std::filesystem::create_directories(out_dir);
  std::ofstream(out_dir + "/result.json") << std::setw(2) << result << "\n";  // dump(2), written as it goes
  std::ofstream(out_dir + "/junit.xml") << junit_xml(result);
  std::ofstream(out_dir + "/report.html") << html_report(result);
}

void print_run_summary(std::ostream& out, const nlohmann::json& res) {
  const auto& q = res["requests"];
  out << "  requests: " << q["ok"] << "/" << q["total"] << " ok, p50 " << q["p50_ms"] << " ms, p99 "
      << q["p99_ms"] << " ms\n";
  for (const auto& f : res["failovers"])
    out << "  failover of " << f["vip"].get<std::string>() << " from " << f["node"].get<std::string>() << " ("
        << f["cause"].get<std::string>() << " at " << f["fault_at_ms"].get<std::int64_t>() / 1000.0 << " s): "
        << (f["failover_ms"].get<std::int64_t>() < 0
                ? std::string("never recovered")
                : std::to_string(f["failover_ms"].get<std::int64_t>()) + " ms")
        << "\n";
  for (const auto& e : res["expectations"])
    out << "  " << (e["passed"].get<bool>() ? "PASS" : "FAIL") << " " << e["name"].get<std::string>()
        << ": measured " << e["measured"].dump() << ", bound " << e["bound"].dump() << "\n";
}

}  // namespace metalgate::scenario
