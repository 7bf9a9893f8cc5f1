#include "scenario/report/junit.h"

#include "scenario/report/html_report.h"

namespace metalgate::scenario {

std::string junit_xml(const nlohmann::json& result) {
  const std::string name = result.value("scenario", std::string("scenario"));
  int failures = 0;
  for (const auto& e : result["expectations"])
    if (!e["passed"].get<bool>()) ++failures;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"" + xml_escape(name) +
                  "\" tests=\"" + std::to_string(result["expectations"].size()) + "\" failures=\"" +
                  std::to_string(failures) + "\">\n";
  for (const auto& e : result["expectations"]) {
    x += "  <testcase classname=\"" + xml_escape(name) + "\" name=\"" + xml_escape(e["name"].get<std::string>()) +
         "\">";
    if (!e["passed"].get<bool>())
      x += "<failure message=\"" + xml_escape("measured " + e["measured"].dump() + ", bound " + e["bound"].dump()) +
           "\"/>";
    x += "</testcase>\n";
  }
  return x + "</testsuite>\n";
}

}  // namespace metalgate::scenario
