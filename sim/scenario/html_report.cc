#include "sim/scenario/html_report.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace metalgate::sim {

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&')
      o += "&amp;";
    else if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

std::string html_report(const nlohmann::json& r) {
  const double duration = std::max<double>(1, r.value("duration_ms", 1));
  const int width = 900, left = 110, plot = width - left - 20;
  auto x = [&](double ms) { return left + plot * ms / duration; };

  // Owner lanes: one row per node that ever claimed the VIP ("a+b" in the timeline: both claimed it).
  auto claimants = [](const std::string& owner) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < owner.size()) {
      auto plus = owner.find('+', start);
      if (plus == std::string::npos) plus = owner.size();
      out.push_back(owner.substr(start, plus - start));
      start = plus + 1;
    }
    return out;
  };
  std::vector<std::string> nodes;
  for (const auto& t : r["owner_timeline"])
    for (const auto& o : claimants(t["owner"].get<std::string>()))
      if (std::find(nodes.begin(), nodes.end(), o) == nodes.end()) nodes.push_back(o);
  std::sort(nodes.begin(), nodes.end());
  std::ostringstream svg;
  const int lane = 22, top = 30;
  const int owners_h = top + lane * static_cast<int>(std::max<std::size_t>(nodes.size(), 1)) + 10;
  const int chart_top = owners_h + 20, chart_h = 120;
  const int height = chart_top + chart_h + 54;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
      << "' font-family='sans-serif' font-size='12'>";
  svg << "<text x='4' y='16' font-weight='bold'>VIP " << xml_escape(r.value("vip", "")) << " owner</text>";
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    int y = top + lane * static_cast<int>(i);
    svg << "<text x='4' y='" << y + 15 << "'>" << xml_escape(nodes[i]) << "</text>";
    svg << "<rect x='" << left << "' y='" << y << "' width='" << plot << "' height='" << lane - 4
        << "' fill='#f2f2f2'/>";
  }
  const auto& tl = r["owner_timeline"];
  for (std::size_t i = 0; i < tl.size(); ++i) {
    const auto owners = claimants(tl[i]["owner"].get<std::string>());
    double from = tl[i]["at_ms"].get<double>();
    double to = i + 1 < tl.size() ? tl[i + 1]["at_ms"].get<double>() : duration;
    for (const auto& o : owners) {
      auto it = std::find(nodes.begin(), nodes.end(), o);
      int y = top + lane * static_cast<int>(it - nodes.begin());
      // Red while several nodes claim it (a partition's sides, or a moment of overlap).
      svg << "<rect x='" << x(from) << "' y='" << y << "' width='" << std::max(1.0, x(to) - x(from))
          << "' height='" << lane - 4 << "' fill='" << (owners.size() > 1 ? "#d62728" : "#2ca02c")
          << "'><title>" << xml_escape(tl[i]["owner"].get<std::string>()) << " from " << from / 1000
          << " s</title></rect>";
    }
  }
  // Requests per second: answered and failed, from the totals the runner kept per second.
  svg << "<text x='4' y='" << chart_top - 4
      << "' font-weight='bold'>requests per second (green answered, red "
         "failed) and p99 latency (orange)</text>";
  svg << "<rect x='" << left << "' y='" << chart_top << "' width='" << plot << "' height='" << chart_h
      << "' fill='#fafafa' stroke='#ccc'/>";
  if (r.contains("per_second")) {
    double peak = 1;
    for (const auto& s : r["per_second"])
      peak = std::max(peak, s["ok"].get<double>() + s["failed"].get<double>());
    double bar = plot / std::max(1.0, duration / 1000);
    for (const auto& s : r["per_second"]) {
      double t = s["second"].get<double>() * 1000;
      double ok = s["ok"].get<double>(), failed = s["failed"].get<double>();
      double h_ok = chart_h * ok / peak, h_failed = chart_h * failed / peak;
      svg << "<rect x='" << x(t) << "' y='" << chart_top + chart_h - h_ok << "' width='"
          << std::max(1.0, bar - 1) << "' height='" << h_ok << "' fill='#2ca02c'/>";
      if (failed > 0)
        svg << "<rect x='" << x(t) << "' y='" << chart_top + chart_h - h_ok - h_failed << "' width='"
            << std::max(1.0, bar - 1) << "' height='" << h_failed << "' fill='#d62728'><title>" << failed
            << " failed at " << s["second"] << " s</title></rect>";
    }
    // p99 latency of the answered requests, per second, on its own scale (right).
    double worst = 0;
    for (const auto& s : r["per_second"])
      worst = std::max(worst, s.value("p99_ms", 0.0));
    if (worst > 0) {
      svg << "<polyline fill='none' stroke='#ff7f0e' stroke-width='1.5' points='";
      for (const auto& s : r["per_second"])
        svg << x(s["second"].get<double>() * 1000 + 500) << ","
            << chart_top + chart_h - chart_h * s.value("p99_ms", 0.0) / worst << " ";
      svg << "'/><text x='" << left + plot - 150 << "' y='" << chart_top + 12 << "' fill='#ff7f0e'>p99 peak "
          << worst << " ms</text>";
    }
  }
  // Faults across both charts.
  int nth = 0;
  for (const auto& f : r["faults"]) {
    double t = f["at_ms"].get<double>();
    std::string label = f["action"].get<std::string>();
    if (f.contains("node")) label += " " + f["node"].get<std::string>();
    if (f.contains("groups")) label += " " + f["groups"].dump();
    svg << "<line x1='" << x(t) << "' x2='" << x(t) << "' y1='20' y2='"
        << chart_top + chart_h + 14 * (nth % 2) << "' stroke='#1f77b4' stroke-dasharray='4 3'/><text x='"
        << x(t) + 3 << "' y='" << chart_top + chart_h + 14 + 14 * (nth % 2) << "' fill='#1f77b4'>"
        << xml_escape(label) << "</text>";
    ++nth;
  }
  for (int s = 0; s <= static_cast<int>(duration / 1000);
       s += std::max(1, static_cast<int>(duration / 10000))) {
    svg << "<text x='" << x(s * 1000.0) - 6 << "' y='" << height - 6 << "' fill='#666'>" << s << " s</text>";
  }
  svg << "</svg>";

  std::ostringstream html;
  html << "<!doctype html><html><head><meta charset='utf-8'><title>metalgate sim: "
       << xml_escape(r.value("scenario", ""))
       << "</title><style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;text-align:left}"
          ".pass{color:#2ca02c}.fail{color:#d62728}</style></head><body>";
  html << "<h1>Scenario " << xml_escape(r.value("scenario", "")) << " — "
       << (r.value("passed", false) ? "<span class='pass'>passed</span>" : "<span class='fail'>failed</span>")
       << "</h1><p>seed " << r["seed"] << ", " << duration / 1000 << " s simulated</p>";
  html << "<table><tr><th>expectation</th><th>result</th><th>measured</th><th>bound</th></tr>";
  for (const auto& e : r["expectations"])
    html << "<tr><td>" << xml_escape(e["name"].get<std::string>()) << "</td><td class='"
         << (e["passed"].get<bool>() ? "pass'>pass" : "fail'>FAIL") << "</td><td>"
         << xml_escape(e["measured"].dump()) << "</td><td>" << xml_escape(e["bound"].dump()) << "</td></tr>";
  html << "</table><h2>Timeline</h2>" << svg.str();
  html << "<h2>Failovers</h2><table><tr><th>fault at</th><th>cause</th><th>from node</th><th>VIP</th>"
          "<th>failover</th></tr>";
  for (const auto& f : r["failovers"])
    html << "<tr><td>" << f["fault_at_ms"].get<double>() / 1000 << " s</td><td>"
         << xml_escape(f.value("cause", "")) << "</td><td>" << xml_escape(f["node"].get<std::string>())
         << "</td><td>" << xml_escape(f["vip"].get<std::string>()) << "</td><td>" << f["failover_ms"]
         << " ms</td></tr>";
  const auto& q = r["requests"];
  html << "</table><h2>Requests</h2><p>" << q["ok"] << " of " << q["total"] << " answered; p50 "
       << q["p50_ms"] << " ms, p99 " << q["p99_ms"] << " ms</p><pre>" << xml_escape(q.dump(2))
       << "</pre></body></html>\n";
  return html.str();
}

}  // namespace metalgate::sim
