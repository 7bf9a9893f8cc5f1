// report.html for a scenario run: a self-contained page (no scripts, no network) with the expectations, the
// VIP's owner over time per node, the requests' outcome and latency over time, and the faults marked on the
// same time axis, drawn as inline SVG from result.json.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace metalgate::sim {

std::string html_report(const nlohmann::json& result);
// &, <, >, " as entities: for text and attribute values in HTML and XML (report.html, junit.xml).
std::string xml_escape(const std::string& text);

}  // namespace metalgate::sim
