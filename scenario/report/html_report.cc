#include "scenario/report/html_report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace metalgate::scenario {

std::string xml_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    if (c == '&')
      o += "&amp;";
    else if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '"')
      o += "&quot;";
    else if (c == '\'')
      o += "&#39;";
    else
      o += c;
  }
  return o;
}

namespace {

using nlohmann::json;

// ---- Reading result.json: a missing or mistyped field reads as absent, so any result renders.

const json& field(const json& j, const std::string& key) {
  static const json absent;
  if (!j.is_object()) return absent;
  auto it = j.find(key);
  return it == j.end() ? absent : *it;
}
const json& items(const json& j, const std::string& key) {
  static const json none = json::array();
  const json& v = field(j, key);
  return v.is_array() ? v : none;
}
double number(const json& j, const std::string& key, double fallback = 0) {
  const json& v = field(j, key);
  return v.is_number() ? v.get<double>() : fallback;
}
std::string text(const json& j, const std::string& key) {
  const json& v = field(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// ---- Formatting

// A number as a person reads it: no point for integers, at most `decimals` places, trailing zeros dropped.
std::string num(double v, int decimals = 3) {
  if (!std::isfinite(v)) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0')
      s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}
// SVG coordinates: one decimal keeps 500 owner strips small.
std::string px(double v) {
  return num(v, 1);
}
// Estimated width of 12 px sans-serif text (DejaVu Sans averages ~0.58 em); errs wide so labels never touch.
double text_width(const std::string& s, double font_px = 12) {
  std::size_t chars = 0;
  for (unsigned char c : s)
    chars += (c & 0xC0) != 0x80;  // count UTF-8 code points, not bytes
  return static_cast<double>(chars) * font_px * 0.6;
}

enum class Unit { kNone, kMs, kPercent };

// The unit a key names: "*_ms" are milliseconds; ratios (0..1) are shown as percentages.
Unit unit_of_key(const std::string& key) {
  if (ends_with(key, "_ms")) return Unit::kMs;
  static const std::set<std::string> ratios = {"ratio", "percentile", "same_pod_as_before", "share"};
  return ratios.count(key) || ends_with(key, "_ratio") ? Unit::kPercent : Unit::kNone;
}
// "samples_with_several_owners" -> "samples with several owners"; "max_ms" -> "max" (the value says ms).
std::string key_label(std::string key) {
  if (ends_with(key, "_ms")) key.resize(key.size() - 3);
  std::replace(key.begin(), key.end(), '_', ' ');
  return key;
}

// A JSON value as readable text (not escaped): lists joined by ", ", lists of lists (partition groups) by
// " | ", objects as "key: value; ...".
std::string value_text(const json& v, Unit unit = Unit::kNone) {
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "—";
  if (v.is_number()) {
    double d = v.get<double>();
    if (unit == Unit::kMs) return num(d) + " ms";
    if (unit == Unit::kPercent) return num(d * 100) + " %";
    return num(d);
  }
  std::string out;
  if (v.is_array()) {
    for (const auto& e : v)
      out += (out.empty() ? "" : e.is_array() ? " | " : ", ") + value_text(e);
    return out;
  }
  for (const auto& [k, e] : v.items())
    out += (out.empty() ? "" : "; ") + key_label(k) + ": " + value_text(e, unit_of_key(k));
  return out;
}

// Node names in natural order: node-2 before node-10.
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2])))
        ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2])))
        ++j2;
      auto x = a.substr(i, i2 - i), y = b.substr(j, j2 - j);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i2, j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i, ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

// ---- Colours (CSS classes and SVG fills share them)

constexpr const char* kOk = "#59a14f";
constexpr const char* kDenied = "#8da0b6";  // expected denials: neutral, neither success nor failure
constexpr const char* kFailed = "#d62728";
constexpr const char* kSeveral = "#d62728";  // several nodes claim one VIP
constexpr const char* kLatency = "#e8710a";
constexpr const char* kFault = "#1f5fa8";

// A colour per node: a fixed palette without red (red means "several owners"), then hues by the golden angle.
std::string node_colour(std::size_t i) {
  static const char* palette[] = {"#4e79a7", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
                                  "#9c755f", "#bab0ac", "#ff9da7", "#17becf", "#bcbd22", "#7f3c8d"};
  constexpr std::size_t n = sizeof palette / sizeof palette[0];
  if (i < n) return palette[i];
  double hue = std::fmod(static_cast<double>(i - n) * 137.508 + 200, 360);
  if (hue > 330 || hue < 20) hue = std::fmod(hue + 60, 360);
  return "hsl(" + num(hue, 0) + ",55%,55%)";
}

// ---- The time axis shared by the fault marks, the owner strips and the request chart

struct Axis {
  double duration_ms = 1;
  double left = 180, plot = 860, width = 1110;
  double x(double ms) const { return left + plot * std::clamp(ms, 0.0, duration_ms) / duration_ms; }
};

// ---- Expectations

// The unit of a bare "min"/"max" bound is the measured value's: a ratio's bound is a ratio.
Unit measured_unit(const json& e) {
  const json& m = field(e, "measured");
  if (m.is_object()) {
    for (const auto& [k, v] : m.items())
      if (unit_of_key(k) == Unit::kPercent) return Unit::kPercent;
    return Unit::kNone;
  }
  const json& b = field(e, "bound");
  if (field(b, "max_ms").is_number() || field(b, "min_ms").is_number()) return Unit::kMs;
  return unit_of_key(text(e, "name"));
}

// Rows "key | value" of one part (measured or bound): an object's keys, or one row for a bare value.
std::string key_value_rows(const json& v, const std::string& bare_key, Unit bare_unit) {
  std::ostringstream o;
  auto row = [&](const std::string& k, const std::string& val) {
    o << "<tr><td>" << xml_escape(k) << "</td><td class='n'>" << xml_escape(val) << "</td></tr>";
  };
  if (v.is_object() && !v.empty()) {
    for (const auto& [k, e] : v.items()) {
      Unit u = unit_of_key(k);
      if (u == Unit::kNone && (k == "min" || k == "max")) u = bare_unit;
      row(key_label(k), value_text(e, u));
    }
  } else {
    row(bare_key, value_text(v, bare_unit));
  }
  return o.str();
}

std::string expectation_table(const json& e, std::size_t index) {
  const bool pass = field(e, "passed").is_boolean() && field(e, "passed").get<bool>();
  const std::string name = text(e, "name");
  const Unit unit = measured_unit(e);
  std::ostringstream o;
  o << "<table class='exp" << (pass ? "" : " failed") << "'><caption><span class='"
    << (pass ? "pass'>✔ pass" : "fail'>✘ FAIL") << "</span> <b>" << xml_escape(name) << "</b> <small>#"
    << index + 1 << "</small></caption>"
    << "<tr class='sec'><th colspan='2'>measured</th></tr>"
    << key_value_rows(field(e, "measured"), key_label(name), unit)
    << "<tr class='sec'><th colspan='2'>bound</th></tr>" << key_value_rows(field(e, "bound"), "rule", unit)
    << "</table>";
  return o.str();
}

std::string expectations_html(const json& r) {
  const json& all = items(r, "expectations");
  std::size_t passed = 0;
  for (const auto& e : all)
    passed += field(e, "passed").is_boolean() && field(e, "passed").get<bool>();
  std::ostringstream o;
  o << "<h2>Expectations <small>" << passed << " of " << all.size()
    << " passed</small></h2><div class='cards'>";
  for (std::size_t i = 0; i < all.size(); ++i)
    o << expectation_table(all[i], i);
  o << "</div>";
  return o.str();
}

// ---- Requests per second, with expected denials apart from failures

// Clients a rate_limit expectation is about: their 403/429 are the limiter working, not failures.
std::set<std::string> rate_limited_clients(const json& r) {
  std::set<std::string> out;
  for (const auto& e : items(r, "expectations"))
    if (text(e, "name") == "rate_limit" && !text(field(e, "bound"), "client").empty())
      out.insert(text(field(e, "bound"), "client"));
  return out;
}
bool is_denial(const json& failure, const std::set<std::string>& limited) {
  const std::string error = text(failure, "error");
  return limited.count(text(failure, "client")) && (error == "status 403" || error == "status 429");
}
// Expected denials over the run: "requests.denied" if the runner writes it, else the rate_limit judges'
// counts.
double denied_total(const json& r, const std::set<std::string>& limited) {
  if (field(field(r, "requests"), "denied").is_number()) return number(field(r, "requests"), "denied");
  double sum = 0;
  std::set<std::string> seen;
  for (const auto& e : items(r, "expectations"))
    if (text(e, "name") == "rate_limit" && seen.insert(text(field(e, "bound"), "client")).second)
      sum += number(field(e, "measured"), "denied");
  return limited.empty() ? 0 : sum;
}

// The runner lists at most this many failures in requests.failures (its first ones; denials left out).
constexpr std::size_t kRunnerFailureListCap = 100;

// Failures that are not expected denials, per second of their start, from requests.failures; `complete`
// when that list holds every one of them, so that per_second's "failed" minus these are the denials.
struct ListedFailures {
  std::map<long, double> per_second;
  std::size_t listed = 0;
  bool complete = false;
};
ListedFailures listed_failures(const json& r, const std::set<std::string>& limited) {
  ListedFailures out;
  const json& list = items(field(r, "requests"), "failures");
  for (const auto& f : list) {
    if (is_denial(f, limited)) continue;
    ++out.listed;
    out.per_second[static_cast<long>(std::floor(number(f, "start_ms") / 1000))] += 1;
  }
  const double failed = number(field(r, "requests"), "failed");
  out.complete = list.size() < kRunnerFailureListCap ||
                 static_cast<double>(out.listed) + denied_total(r, limited) == failed;
  return out;
}

// One second's requests, by start: answered, expected denials, failures, and "unknown" (failures or
// denials, when result.json cannot tell which).
struct Second {
  long second = 0;
  double ok = 0, denied = 0, failed = 0, unknown = 0;
  double p99_ms = 0;
  double total() const { return ok + denied + failed + unknown; }
};
struct RequestSeries {
  std::vector<Second> seconds;
  std::string how;  // how denials were told from failures, for the note under the chart
  bool has_denials = false, has_unknown = false;
};

RequestSeries request_series(const json& r) {
  RequestSeries out;
  const auto limited = rate_limited_clients(r);
  const json& per_second = items(r, "per_second");
  const bool exact = std::any_of(per_second.begin(), per_second.end(),
                                 [](const json& s) { return field(s, "denied").is_number(); });
  const ListedFailures listed = exact || limited.empty() ? ListedFailures{} : listed_failures(r, limited);
  for (const auto& s : per_second) {
    Second x;
    x.second = static_cast<long>(number(s, "second"));
    x.ok = number(s, "ok");
    x.p99_ms = number(s, "p99_ms");
    const double failed = number(s, "failed");
    if (exact || limited.empty()) {
      x.denied = std::max(0.0, std::min(number(s, "denied"), failed));
      x.failed = failed - x.denied;
    } else {
      auto it = listed.per_second.find(x.second);
      x.failed = std::min(failed, it == listed.per_second.end() ? 0.0 : it->second);
      (listed.complete ? x.denied : x.unknown) = failed - x.failed;
    }
    out.has_denials |= x.denied > 0;
    out.has_unknown |= x.unknown > 0;
    out.seconds.push_back(x);
  }
  if (limited.empty())
    out.how = "No rate_limit expectation: every request not answered is a failure.";
  else if (exact)
    out.how = "Expected denials from per_second.denied.";
  else if (listed.complete)
    out.how =
        "Expected denials per second derived: per_second.failed minus the failures listed in "
        "requests.failures (a complete list in this run).";
  else
    out.how = "requests.failures lists only the first " +
              std::to_string(items(field(r, "requests"), "failures").size()) +
              " failures, so where the rest fall is unknown: hatched bars are failures or expected denials.";
  return out;
}

// ---- Faults: numbered labels staggered into rows so that close faults do not overprint

struct FaultMark {
  double at_ms = 0, x = 0;   // x: the fault's line
  double x0 = 0, x1 = 0;     // the label's estimated extent
  std::string label, brief;  // brief: what the fault did, without its number
  int row = 0;
  bool labelled = true;  // false: its number is in an earlier label's range ("7–10")
};

std::string fault_brief(const json& f) {
  std::string out = text(f, "action");
  const std::string node = text(f, "node");
  for (const auto& [k, v] : f.items()) {
    if (k == "at_ms" || k == "action") continue;
    if (k == "nodes" && !node.empty() && node != "all") continue;  // a named node's list repeats it
    std::string part = value_text(v);
    if (k == "nodes") part = "(" + part + ")";
    if (!part.empty()) out += (out.empty() ? "" : " ") + part;
  }
  return out;
}

// "7–10" for consecutive fault numbers, else "7, 9".
std::string numbers_label(const std::vector<std::size_t>& numbers) {
  bool consecutive = true;
  for (std::size_t i = 1; i < numbers.size(); ++i)
    consecutive &= numbers[i] == numbers[i - 1] + 1;
  if (consecutive && numbers.size() > 1)
    return std::to_string(numbers.front()) + "–" + std::to_string(numbers.back());
  std::string out;
  for (auto n : numbers)
    out += (out.empty() ? "" : ", ") + std::to_string(n);
  return out;
}

constexpr int kMaxFaultRows = 6;  // rows of full labels; one more row holds the numbers that did not fit
constexpr double kLabelGap = 8;

void set_label(FaultMark& m, const std::string& label, const Axis& a) {
  m.label = label;
  const double w = text_width(label);
  m.x0 = m.x + 3 + w > a.width - 2 ? m.x - 3 - w : m.x + 3;  // near the right edge: left of the line
  m.x1 = m.x0 + w;
}

// Each label goes to the first row where it clears the label before it. When none of kMaxFaultRows does,
// the fault is named by its number only (the faults table names it) in the overflow row, where numbers that
// would touch merge into one label ("7–10").
std::vector<FaultMark> place_faults(const json& r, const Axis& a) {
  std::vector<FaultMark> marks;
  for (const auto& f : items(r, "faults"))
    marks.push_back({number(f, "at_ms"), a.x(number(f, "at_ms")), 0, 0, "", fault_brief(f), 0, true});
  std::stable_sort(marks.begin(), marks.end(),
                   [](const auto& p, const auto& q) { return p.at_ms < q.at_ms; });
  std::vector<double> row_end(kMaxFaultRows + 1, -1e9);
  FaultMark* overflow = nullptr;  // the overflow row's last label and the numbers in it
  std::vector<std::size_t> overflow_numbers;
  for (std::size_t i = 0; i < marks.size(); ++i) {
    auto& m = marks[i];
    set_label(m, std::to_string(i + 1) + " " + m.brief, a);
    int row = 0;
    while (row < kMaxFaultRows && row_end[row] + kLabelGap > m.x0)
      ++row;
    if (row == kMaxFaultRows) {
      set_label(m, std::to_string(i + 1), a);
      if (overflow && row_end[row] + kLabelGap > m.x0) {
        overflow_numbers.push_back(i + 1);
        set_label(*overflow, numbers_label(overflow_numbers), a);
        row_end[row] = overflow->x1;
        m.labelled = false;
        continue;
      }
      overflow = &m;
      overflow_numbers = {i + 1};
    }
    m.row = row;
    row_end[row] = m.x1;
  }
  return marks;
}

// ---- Owners: one strip per VIP

struct VipOwners {
  std::string vip;
  std::vector<std::pair<double, std::string>> changes;  // (at_ms, "node" | "a+b" | "" for none)
};

// "owners" (one timeline per VIP) if the runner writes it, else "owner_timeline" for "vip".
std::vector<VipOwners> owner_timelines(const json& r) {
  std::vector<VipOwners> out;
  auto read = [](const json& timeline, std::vector<std::pair<double, std::string>>& changes) {
    for (const auto& t : timeline)
      changes.emplace_back(number(t, "at_ms"), text(t, "owner"));
  };
  for (const auto& o : items(r, "owners")) {
    out.push_back({text(o, "vip"), {}});
    read(items(o, "timeline"), out.back().changes);
  }
  if (out.empty() && !items(r, "owner_timeline").empty()) {
    out.push_back({text(r, "vip"), {}});
    read(items(r, "owner_timeline"), out.back().changes);
  }
  return out;
}

std::vector<std::string> claimants(const std::string& owner) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < owner.size()) {
    auto plus = owner.find('+', start);
    if (plus == std::string::npos) plus = owner.size();
    if (plus > start) out.push_back(owner.substr(start, plus - start));
    start = plus + 1;
  }
  return out;
}

std::vector<std::string> owner_nodes(const std::vector<VipOwners>& vips) {
  std::set<std::string> seen;
  for (const auto& v : vips)
    for (const auto& [at, owner] : v.changes)
      for (const auto& n : claimants(owner))
        seen.insert(n);
  std::vector<std::string> nodes(seen.begin(), seen.end());
  std::sort(nodes.begin(), nodes.end(), natural_less);
  return nodes;
}

// Strip geometry by VIP count: tall labelled strips for a few VIPs, 2 px rows with a label every `every`-th
// row for hundreds (a heat map: one row per VIP).
struct StripLayout {
  double height = 18, pitch = 22, font = 12;
  std::size_t every = 1;
};
StripLayout strip_layout(std::size_t n) {
  StripLayout l;
  if (n > 60)
    l = {2, 2, 10, 1};
  else if (n > 12)
    l = {6, 7, 10, 1};
  for (std::size_t step : {1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000}) {
    l.every = step;
    if (static_cast<double>(step) * l.pitch >= l.font + 2) break;
  }
  return l;
}

// One VIP's strip: a segment per owner change, coloured by node, red while several nodes claim it; with tall
// strips the owner's name is written in its segment where it fits.
void draw_strip(std::ostringstream& svg, const VipOwners& v, const std::vector<std::string>& nodes,
                const Axis& a, double y, const StripLayout& l) {
  svg << "<g class='strip'><title>VIP " << xml_escape(v.vip) << "</title>";
  for (std::size_t i = 0; i < v.changes.size(); ++i) {
    const auto& [from, owner] = v.changes[i];
    const double to = i + 1 < v.changes.size() ? v.changes[i + 1].first : a.duration_ms;
    const auto who = claimants(owner);
    if (who.empty() || to <= from) continue;
    const double x0 = a.x(from), w = std::max(0.5, a.x(to) - x0);
    const std::string fill =
        who.size() > 1
            ? kSeveral
            : node_colour(static_cast<std::size_t>(
                  std::lower_bound(nodes.begin(), nodes.end(), who[0], natural_less) - nodes.begin()));
    svg << "<rect x='" << px(x0) << "' y='" << px(y) << "' width='" << px(w) << "' height='" << px(l.height)
        << "' fill='" << fill << "'/>";
    if (l.height >= 14 && text_width(owner, 11) + 6 < w)
      svg << "<text x='" << px(x0 + 3) << "' y='" << px(y + l.height - 5) << "' font-size='11' fill='"
          << (who.size() > 1 ? "#fff" : "#111") << "'>" << xml_escape(owner) << "</text>";
  }
  svg << "</g>";
}

// The owner strips from `top`; returns the height used.
double draw_owner_strips(std::ostringstream& svg, const std::vector<VipOwners>& vips, const Axis& a,
                         double top) {
  const auto nodes = owner_nodes(vips);
  const StripLayout l = strip_layout(vips.size());
  svg << "<rect x='" << px(a.left) << "' y='" << px(top) << "' width='" << px(a.plot) << "' height='"
      << px(l.pitch * static_cast<double>(vips.size())) << "' fill='#eee'/>";
  for (std::size_t i = 0; i < vips.size(); ++i) {
    const double y = top + l.pitch * static_cast<double>(i);
    if (i % l.every == 0) {
      const std::string label = (l.every > 1 ? "#" + std::to_string(i + 1) + " " : "") + vips[i].vip;
      svg << "<text class='vip' x='" << px(a.left - 6) << "' y='" << px(y + std::min(l.height, l.font) - 1)
          << "' text-anchor='end' font-size='" << l.font << "'>" << xml_escape(label) << "</text>";
      if (l.every > 1)
        svg << "<line x1='" << px(a.left - 4) << "' x2='" << px(a.left) << "' y1='" << px(y) << "' y2='"
            << px(y) << "' stroke='#888'/>";
    }
    draw_strip(svg, vips[i], nodes, a, y, l);
  }
  return l.pitch * static_cast<double>(vips.size());
}

// ---- The request chart

// A second at or past the end (requests started at the last instant) has no room on the axis.
bool on_axis(const Second& x, const Axis& a) {
  return static_cast<double>(x.second) * 1000 < a.duration_ms;
}

// Bars per second stacked bottom up: answered, expected denials, failures, either; the p99 latency of the
// answered requests on a log scale (right axis). Returns the height used.
double draw_requests(std::ostringstream& svg, const RequestSeries& s, const Axis& a, double top) {
  const double h = 170;
  double peak = 1;
  for (const auto& x : s.seconds)
    if (on_axis(x, a)) peak = std::max(peak, x.total());
  svg << "<rect x='" << px(a.left) << "' y='" << px(top) << "' width='" << px(a.plot) << "' height='" << h
      << "' fill='#fafafa' stroke='#ccc'/>";
  for (double f : {0.0, 0.5, 1.0}) {
    const double y = top + h - h * f;
    svg << "<line x1='" << px(a.left) << "' x2='" << px(a.left + a.plot) << "' y1='" << px(y) << "' y2='"
        << px(y) << "' stroke='#e4e4e4'/><text x='" << px(a.left - 6) << "' y='" << px(y + 4)
        << "' text-anchor='end' fill='#555'>" << num(peak * f, 0) << "/s</text>";
  }
  const double bar = std::max(1.0, a.plot / std::max(1.0, a.duration_ms / 1000) - 1);
  for (const auto& x : s.seconds) {
    if (!on_axis(x, a)) continue;
    svg << "<g><title>" << x.second << " s: " << num(x.ok) << " answered, " << num(x.denied)
        << " expected denials, " << num(x.failed) << " failed";
    if (x.unknown > 0) svg << ", " << num(x.unknown) << " failed or denied";
    svg << "</title>";
    double y = top + h;
    auto seg = [&](double n, const std::string& fill, const char* cls) {
      if (n <= 0) return;
      const double bh = h * n / peak;
      y -= bh;
      svg << "<rect class='" << cls << "' x='" << px(a.x(static_cast<double>(x.second) * 1000)) << "' y='"
          << px(y) << "' width='" << px(bar) << "' height='" << px(bh) << "' fill='" << fill << "'/>";
    };
    seg(x.ok, kOk, "ok");
    seg(x.denied, kDenied, "denied");
    seg(x.failed, kFailed, "failed");
    seg(x.unknown, "url(#either)", "either");
    svg << "</g>";
  }
  return h;
}

// p99 latency per second on a log scale between the decades around it, ticks on the right.
void draw_latency(std::ostringstream& svg, const RequestSeries& s, const Axis& a, double top, double h) {
  double lo = 1e300, hi = 0;
  for (const auto& x : s.seconds)
    if (x.p99_ms > 0 && on_axis(x, a)) lo = std::min(lo, x.p99_ms), hi = std::max(hi, x.p99_ms);
  if (hi <= 0) return;
  const double d0 = std::floor(std::log10(lo)), d1 = std::max(d0 + 1, std::ceil(std::log10(hi)));
  auto y = [&](double ms) { return top + h - h * (std::log10(ms) - d0) / (d1 - d0); };
  for (double d = d0; d <= d1; ++d)
    svg << "<text x='" << px(a.left + a.plot + 4) << "' y='" << px(y(std::pow(10, d)) + 4) << "' fill='"
        << kLatency << "'>" << num(std::pow(10, d)) << " ms</text>";
  svg << "<path fill='none' stroke='" << kLatency << "' stroke-width='1.5' d='";
  bool pen = false;
  for (const auto& x : s.seconds) {
    if (x.p99_ms <= 0 || !on_axis(x, a)) {
      pen = false;
      continue;
    }
    svg << (pen ? "L" : "M") << px(a.x(static_cast<double>(x.second) * 1000 + 500)) << " " << px(y(x.p99_ms))
        << " ";
    pen = true;
  }
  svg << "'/>";
}

// Time ticks at a round step giving at most ~12 labels.
void draw_time_axis(std::ostringstream& svg, const Axis& a, double y) {
  const double seconds = a.duration_ms / 1000;
  double step = 1;
  for (double s : {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200}) {
    step = s;
    if (seconds / s <= 12) break;
  }
  for (double t = 0; t <= seconds + 1e-9; t += step)
    svg << "<line x1='" << px(a.x(t * 1000)) << "' x2='" << px(a.x(t * 1000)) << "' y1='" << px(y - 14)
        << "' y2='" << px(y - 10) << "' stroke='#888'/><text x='" << px(a.x(t * 1000)) << "' y='" << px(y)
        << "' text-anchor='middle' fill='#555'>" << num(t) << " s</text>";
}

std::string timeline_svg(const json& r, const RequestSeries& series) {
  Axis a;
  a.duration_ms = std::max(1.0, number(r, "duration_ms", 1));
  const auto marks = place_faults(r, a);
  int rows = 0;
  for (const auto& m : marks)
    if (m.labelled) rows = std::max(rows, m.row + 1);
  const auto vips = owner_timelines(r);
  std::ostringstream body;
  const double owners_top = 8 + 15.0 * rows + 22;
  body << "<text x='4' y='" << px(owners_top - 6) << "' font-weight='bold'>VIP owner</text>";
  const double owners_h = vips.empty() ? 0 : draw_owner_strips(body, vips, a, owners_top);
  const double chart_top = owners_top + owners_h + 30;
  body << "<text x='4' y='" << px(chart_top - 8) << "' font-weight='bold'>requests per second</text>";
  const double chart_h = draw_requests(body, series, a, chart_top);
  draw_latency(body, series, a, chart_top, chart_h);
  const double height = chart_top + chart_h + 24;
  for (const auto& m : marks) {
    const double label_y = 8 + 15.0 * m.row + 12;
    body << "<line x1='" << px(m.x) << "' x2='" << px(m.x) << "' y1='"
         << px(m.labelled ? label_y + 3 : owners_top - 16) << "' y2='" << px(chart_top + chart_h)
         << "' stroke='" << kFault << "' stroke-dasharray='4 3'/>";
    if (m.labelled)
      body << "<text class='fault' data-row='" << m.row << "' x='" << px(m.x0) << "' y='" << px(label_y)
           << "' fill='" << kFault << "'>" << xml_escape(m.label) << "</text>";
  }
  draw_time_axis(body, a, height - 4);
  std::ostringstream svg;
  svg << "<svg width='" << px(a.width) << "' height='" << px(height)
      << "' font-family='sans-serif' font-size='12'><defs><pattern id='either' width='6' height='6' "
         "patternUnits='userSpaceOnUse' patternTransform='rotate(45)'><rect width='6' height='6' "
         "fill='#ddd'/>"
         "<rect width='3' height='6' fill='#999'/></pattern></defs>"
      << body.str() << "</svg>";
  return svg.str();
}

std::string swatch(const std::string& colour, const std::string& label) {
  return "<span class='key'><i style='background:" + colour + "'></i>" + xml_escape(label) + "</span>";
}

std::string legends_html(const json& r, const RequestSeries& series) {
  const auto vips = owner_timelines(r);
  const auto nodes = owner_nodes(vips);
  std::ostringstream o;
  o << "<p class='legend'><b>Owner</b> ";
  for (std::size_t i = 0; i < nodes.size(); ++i)
    o << swatch(node_colour(i), nodes[i]);
  o << swatch(kSeveral, "several nodes") << swatch("#eee", "none") << "</p><p class='legend'><b>Requests</b> "
    << swatch(kOk, "answered");
  const auto limited = rate_limited_clients(r);
  if (!limited.empty() || series.has_denials) {
    std::string who;
    for (const auto& c : limited)
      who += (who.empty() ? "" : ", ") + c;
    o << swatch(kDenied,
                "expected denials (403/429 to rate-limited " + (who.empty() ? "clients" : who) + ")");
  }
  o << swatch(kFailed, "failed");
  if (series.has_unknown)
    o << "<span class='key'><i class='either'></i>failed or denied (not separable)</span>";
  o << "<span class='key'><i style='background:" << kLatency
    << ";height:3px'></i>p99 latency (log scale, right)</span>"
    << "<span class='key'><i style='border-left:2px dashed " << kFault << ";width:0'></i>fault</span></p>";
  return o.str();
}

// ---- Tables

std::string count_table(const std::string& title, const json& counts) {
  std::ostringstream o;
  o << "<table class='kv'><caption>" << xml_escape(title) << "</caption>";
  if (!counts.is_object() || counts.empty()) o << "<tr><td>none</td><td></td></tr>";
  if (counts.is_object())
    for (const auto& [k, v] : counts.items())
      o << "<tr><td>" << xml_escape(k) << "</td><td class='n'>" << xml_escape(value_text(v)) << "</td></tr>";
  o << "</table>";
  return o.str();
}

std::string requests_html(const json& r) {
  const json& q = field(r, "requests");
  const auto limited = rate_limited_clients(r);
  const double denied = denied_total(r, limited), failed = number(q, "failed");
  std::ostringstream o;
  auto row = [&](const std::string& k, const std::string& v) {
    o << "<tr><td>" << xml_escape(k) << "</td><td class='n'>" << xml_escape(v) << "</td></tr>";
  };
  o << "<h2>Requests</h2><div class='cards'><table class='kv'><caption>summary</caption>";
  row("total", value_text(field(q, "total")));
  row("answered", value_text(field(q, "ok")));
  row("not answered", value_text(field(q, "failed")));
  if (!limited.empty()) {
    row("… expected denials", num(denied));
    row("… failures", num(std::max(0.0, failed - denied)));
  }
  if (!field(q, "on_reused_connections").is_null())
    row("on reused connections", value_text(field(q, "on_reused_connections")));
  row("p50 latency", value_text(field(q, "p50_ms"), Unit::kMs));
  row("p99 latency", value_text(field(q, "p99_ms"), Unit::kMs));
  o << "</table>" << count_table("by backend", field(q, "by_backend"))
    << count_table("by VIP node", field(q, "by_vip_node")) << count_table("errors", field(q, "errors"))
    << "</div>";
  return o.str();
}

struct ClientRow {
  std::string total = "—", ok = "—";
  double denied = 0, failed = 0;
  std::map<std::string, double> errors;
};

// Per client: "clients" if the runner writes it; else the failures listed in requests.failures and the
// rate_limit judges' denials (no totals then).
std::map<std::string, ClientRow> client_rows(const json& r, bool& derived) {
  std::map<std::string, ClientRow> rows;
  derived = items(r, "clients").empty();
  for (const auto& c : items(r, "clients")) {
    auto& row = rows[text(c, "client")];
    row.total = value_text(field(c, "total"));
    row.ok = value_text(field(c, "ok"));
    row.denied = number(c, "denied");
    row.failed = number(c, "failed");
    for (const auto& [k, v] : field(c, "errors").items())
      row.errors[k] = v.is_number() ? v.get<double>() : 0;
  }
  if (!derived) return rows;
  const auto limited = rate_limited_clients(r);
  for (const auto& f : items(field(r, "requests"), "failures")) {
    if (is_denial(f, limited)) continue;
    auto& row = rows[text(f, "client")];
    row.failed += 1;
    row.errors[text(f, "error")] += 1;
  }
  for (const auto& e : items(r, "expectations"))
    if (text(e, "name") == "rate_limit")
      rows[text(field(e, "bound"), "client")].denied = number(field(e, "measured"), "denied");
  return rows;
}

std::string clients_html(const json& r) {
  bool derived = false;
  const auto rows = client_rows(r, derived);
  if (rows.empty()) return "";
  const auto limited = rate_limited_clients(r);
  std::ostringstream o;
  o << "<h2>Clients</h2><table class='grid'><tr><th>client</th><th>requests</th><th>answered</th>"
       "<th>expected denials</th><th>failed</th><th>failed by reason</th></tr>";
  for (const auto& [name, c] : rows) {
    std::string reasons;
    for (const auto& [k, v] : c.errors)
      reasons += (reasons.empty() ? "" : ", ") + k + ": " + num(v);
    o << "<tr><td>" << xml_escape(name) << (limited.count(name) ? " <small>(rate-limited)</small>" : "")
      << "</td><td class='n'>" << xml_escape(c.total) << "</td><td class='n'>" << xml_escape(c.ok)
      << "</td><td class='n'>" << num(c.denied) << "</td><td class='n'>" << num(c.failed) << "</td><td>"
      << xml_escape(reasons.empty() ? "—" : reasons) << "</td></tr>";
  }
  o << "</table>";
  if (derived) {
    const bool complete = listed_failures(r, limited).complete;
    o << "<p class='note'>Only clients with failures or a rate limit are listed: result.json has no "
         "per-client "
         "totals (\"clients\"). Failures are counted from requests.failures"
      << (complete ? "." : ", which holds the first failures only: counts are lower bounds.") << "</p>";
  }
  return o.str();
}

std::string faults_html(const json& r) {
  const json& faults = items(r, "faults");
  if (faults.empty()) return "";
  Axis a;
  a.duration_ms = std::max(1.0, number(r, "duration_ms", 1));
  std::ostringstream o;
  o << "<h2>Faults</h2><table class='grid'><tr><th>#</th><th>at</th><th>fault</th></tr>";
  const auto marks = place_faults(r, a);
  for (std::size_t i = 0; i < marks.size(); ++i)
    o << "<tr><td class='n'>" << i + 1 << "</td><td class='n'>" << num(marks[i].at_ms / 1000) << " s</td><td>"
      << xml_escape(marks[i].brief) << "</td></tr>";
  o << "</table>";
  const json& failovers = items(r, "failovers");
  if (failovers.empty()) return o.str();
  o << "<h2>Failovers</h2><table class='grid'><tr><th>fault at</th><th>cause</th><th>from "
       "node</th><th>VIP</th>"
       "<th>failover</th></tr>";
  for (const auto& f : failovers) {
    const double took = number(f, "failover_ms", -1);
    o << "<tr><td class='n'>" << num(number(f, "fault_at_ms") / 1000) << " s</td><td>"
      << xml_escape(text(f, "cause")) << "</td><td>" << xml_escape(text(f, "node")) << "</td><td>"
      << xml_escape(text(f, "vip")) << "</td><td class='n"
      << (took < 0 ? " fail'>not recovered" : "'>" + num(took) + " ms") << "</td></tr>";
  }
  o << "</table>";
  return o.str();
}

// Each interval in which several nodes on one side of the LAN claimed a VIP (result.json's several_owners).
std::string several_owners_html(const json& r) {
  const json& list = items(r, "several_owners");
  if (list.empty()) return "";
  std::ostringstream o;
  o << "<h2>VIPs with several owners <small>" << list.size()
    << " intervals in which two nodes on one side answered for a VIP</small></h2><table class='grid'>"
    << "<tr><th>VIP</th><th>from</th><th>until</th><th>nodes</th></tr>";
  for (const auto& x : list) {
    std::string nodes;
    for (const auto& n : items(x, "nodes"))
      nodes += (nodes.empty() ? "" : ", ") + (n.is_string() ? n.get<std::string>() : value_text(n));
    o << "<tr><td>" << xml_escape(text(x, "vip")) << "</td><td class='n'>" << num(number(x, "from_ms") / 1000)
      << " s</td><td class='n'>" << num(number(x, "to_ms") / 1000) << " s</td><td>" << xml_escape(nodes)
      << "</td></tr>";
  }
  o << "</table>";
  return o.str();
}

std::string failures_html(const json& r) {
  const json& list = items(field(r, "requests"), "failures");
  if (list.empty()) return "";
  std::ostringstream o;
  o << "<details><summary>" << list.size()
    << " failed requests listed in result.json</summary><table class='grid'>"
    << "<tr><th>start</th><th>end</th><th>client</th><th>request</th><th>VIP node</th><th>error</th></tr>";
  for (const auto& f : list)
    o << "<tr><td class='n'>" << num(number(f, "start_ms") / 1000) << " s</td><td class='n'>"
      << num(number(f, "end_ms") / 1000) << " s</td><td>" << xml_escape(text(f, "client")) << "</td><td>"
      << xml_escape(text(f, "request")) << "</td><td>" << xml_escape(text(f, "vip_node")) << "</td><td>"
      << xml_escape(text(f, "error")) << "</td></tr>";
  o << "</table></details>";
  return o.str();
}

std::string warnings_html(const json& r) {
  const json& warnings = items(r, "warnings");
  if (warnings.empty()) return "";
  std::ostringstream o;
  o << "<details><summary>" << warnings.size() << " configuration warnings</summary><ul class='warn'>";
  for (const auto& w : warnings)
    o << "<li>" << xml_escape(w.is_string() ? w.get<std::string>() : value_text(w)) << "</li>";
  o << "</ul></details>";
  return o.str();
}

constexpr const char* kStyle =
    "body{font-family:sans-serif;font-size:14px;margin:1.5em 2em;color:#222}"
    "h1{margin-bottom:.2em}h2{margin:1.2em 0 .4em}h2 small{font-weight:normal;color:#666;font-size:.7em}"
    ".pass{color:#2a8a2a}.fail{color:#d62728}small{color:#777}"
    "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
    ".cards table{border:1px solid #ddd;min-width:200px}caption{text-align:left;padding:4px 8px;"
    "background:#f4f4f4;border:1px solid #ddd;border-bottom:none;white-space:nowrap}"
    ".cards table.failed{border:2px solid #d62728}.failed caption{border:2px solid "
    "#d62728;border-bottom:none;"
    "background:#fbe9e9}"
    "tr.sec th{font-weight:normal;color:#777;font-size:.85em;padding-top:4px}"
    ".grid td,.grid th{border:1px solid #ddd}.grid th{background:#f4f4f4}"
    ".legend{margin:.3em 0}.key{margin-right:14px;white-space:nowrap}.key i{display:inline-block;width:12px;"
    "height:12px;margin:0 4px -1px 6px;vertical-align:baseline}"
    ".key i.either{background:repeating-linear-gradient(45deg,#999 0 2px,#ddd 2px 4px)}"
    ".note{color:#555;font-size:.9em;max-width:70em}.warn li{font-size:.85em;margin:.3em 0}";

}  // namespace

std::string html_report(const json& r) {
  const RequestSeries series = request_series(r);
  const bool passed = field(r, "passed").is_boolean() && field(r, "passed").get<bool>();
  std::ostringstream html;
  html << "<!doctype html><html><head><meta charset='utf-8'><title>metalgate sim: "
       << xml_escape(text(r, "scenario")) << "</title><style>" << kStyle << "</style></head><body>";
  html << "<h1>Scenario " << xml_escape(text(r, "scenario")) << " — "
       << (passed ? "<span class='pass'>passed</span>" : "<span class='fail'>failed</span>")
       << "</h1><p>seed " << xml_escape(value_text(field(r, "seed"))) << ", "
       << num(number(r, "duration_ms") / 1000) << " s simulated</p>";
  html << expectations_html(r);
  html << "<h2>Timeline</h2>" << legends_html(r, series) << timeline_svg(r, series) << "<p class='note'>"
       << xml_escape(series.how) << "</p>";
  html << faults_html(r) << several_owners_html(r) << requests_html(r) << clients_html(r) << failures_html(r)
       << warnings_html(r);
  html << "</body></html>\n";
  return html.str();
}

}  // namespace metalgate::scenario
