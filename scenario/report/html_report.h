// report.html for a scenario run: a self-contained page (no scripts, no network, inline SVG and CSS only)
// drawn from result.json: one table per expectation, the faults on a shared time axis (labels staggered into
// rows so close faults do not overprint), one owner strip per VIP, the requests per second with a
// rate-limited client's 403/429 drawn as expected denials apart from failures, and the request summary and
// clients as tables.
//
// Besides what the runner writes today it reads these optional fields of result.json (docs/scenario.md):
//   "owners": [{"vip": "...", "timeline": [{"at_ms": 0, "owner": "node-1"}, ...]}]  one strip per VIP;
//             without it, "owner_timeline" is drawn for "vip".
//   "per_second"[i]."denied": of that second's "failed", the 403/429 answers to clients a rate_limit
//             expectation is about; without it they are derived from "requests.failures" when that list is
//             complete, else drawn as "failed or denied".
//   "requests"."denied": the same over the run.
//   "clients": [{"client": "...", "total": n, "ok": n, "denied": n, "failed": n, "errors": {"reason": n}}]
//             the per-client table; without it the table is derived from "requests.failures".
//   "several_owners": [{"vip": "...", "from_ms": n, "to_ms": n, "nodes": ["..."]}]  a table of them.
// Every text from result.json is escaped; missing or mistyped fields are drawn as absent, never thrown on.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace metalgate::scenario {

std::string html_report(const nlohmann::json& result);
// &, <, >, ", ' as entities: for text and attribute values in HTML and XML (report.html, junit.xml).
std::string xml_escape(const std::string& text);

}  // namespace metalgate::scenario
