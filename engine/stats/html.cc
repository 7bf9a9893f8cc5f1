#include "engine/stats/html.h"

#include <string_view>

namespace metalgate::stats {

namespace {

std::string escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

constexpr std::string_view kStyle = R"(<style>
body { font-family: Arial, Helvetica, sans-serif; font-size: 12px; color: #000; margin: 8px; }
h1 { font-size: 18px; background: #20a040; color: #fff; padding: 4px 8px; margin: 0 0 8px 0; }
table.px { border-collapse: collapse; margin-bottom: 14px; }
table.px th, table.px td { border: 1px solid #999; padding: 1px 5px; text-align: right; white-space: nowrap; }
table.px th { background: #ddd; font-weight: bold; text-align: center; }
table.px th.pxname { background: #b00040; color: #ffff40; text-align: left; font-size: 13px; }
td.name { text-align: left; font-weight: bold; }
tr.frontend td, tr.backend td { background: #eef; }
tr.up td { background: #c0ffc0; } tr.down td { background: #ff9090; } tr.maint td { background: #c0c0ff; }
tr.drain td { background: #f0c0ff; } tr.nocheck td { background: #e0e0e0; }
p.info { margin: 0 0 10px 0; }
</style>)";

constexpr std::string_view kColumns =
    "<tr><th rowspan=2></th><th colspan=2>Queue</th><th colspan=2>Session rate</th><th "
    "colspan=5>Sessions</th>"
    "<th colspan=2>Bytes</th>"
    "<th>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=4>Time (ms, avg)</th>"
    "<th "
    "colspan=6>Server</th></tr>\n<tr><th>Cur</th><th>Max</th><th>Cur</th><th>Max</th><th>Cur</th><th>Max</th>"
    "<th>Limit</th>"
    "<th>Total</th><th>LbTot</th><th>In</th><th>Out</th><th>Req</th><th>Req</th><th>Conn</th><th>Resp</th>"
    "<th>Retr</th><th>Redis</th><th>Queue</th><th>Connect</th><th>Response</th><th>Total</th><th>Status</th>"
    "<th>LastChk</th><th>Wght</th><th>Act</th><th>Chk</th><th>Dwn</th></tr>\n";

std::string css_class(const Row& r) {
  if (r.type == RowType::kFrontend) return "frontend";
  if (r.type == RowType::kBackend) return r.status == "UP" ? "backend" : "down";
  if (r.status == "UP") return "up";
  if (r.status == "DOWN") return "down";
  if (r.status == "MAINT") return "maint";
  if (r.status == "DRAIN") return "drain";
  return "nocheck";
}

std::string cell(const std::string& v, std::string_view title = {}) {
  if (title.empty()) return "<td>" + escape(v) + "</td>";
  return "<td title=\"" + escape(title) + "\">" + escape(v) + "</td>";
}

std::string ms(const Average& a) {
  return a.ms < 0 ? "" : std::to_string(a.ms);
}

std::string responses_title(const Row& r) {
  return "HTTP requests: " + std::to_string(r.http_requests) + "; 1xx " + std::to_string(r.responses[1]) +
         ", 2xx " + std::to_string(r.responses[2]) + ", 3xx " + std::to_string(r.responses[3]) + ", 4xx " +
         std::to_string(r.responses[4]) + ", 5xx " + std::to_string(r.responses[5]) + ", other " +
         std::to_string(r.responses[0]);
}

std::string row_html(const Row& r) {
  const bool fe = r.type == RowType::kFrontend, sv = r.type == RowType::kServer;
  std::string status = r.status;
  if (sv && r.last_change_s >= 0) status += " " + std::to_string(r.last_change_s) + "s";
  std::string check = sv && !r.check_status.empty() ? r.check_status : "";
  if (sv && r.check_code) check += " " + std::to_string(r.check_code);
  std::string out = "<tr class=\"" + css_class(r) + "\"><td class=name>" +
                    escape(fe   ? "Frontend"
                           : sv ? r.name
                                : "Backend") +
                    "</td>";
  out += cell(fe ? "" : std::to_string(r.queue)) + cell(fe ? "" : std::to_string(r.queue_max));
  out += cell(std::to_string(r.session_rate),
              fe ? "HTTP requests per second: " + std::to_string(r.request_rate) : "") +
         cell(std::to_string(r.session_rate_max));
  out += cell(std::to_string(r.sessions)) + cell(std::to_string(r.sessions_max)) +
         cell(r.session_limit > 0 ? std::to_string(r.session_limit) : "");
  out += cell(std::to_string(r.sessions_total), r.mode == "http" ? responses_title(r) : "");
  out += cell(fe ? "" : std::to_string(r.sessions_total));
  out += cell(std::to_string(r.bytes_in)) + cell(std::to_string(r.bytes_out));
  out += cell(sv ? "" : std::to_string(r.denied));
  out += cell(fe ? std::to_string(r.request_errors) : "") +
         cell(fe ? "" : std::to_string(r.connection_errors)) +
         cell(fe ? "" : std::to_string(r.response_errors));
  out += cell(fe ? "" : std::to_string(r.retries)) + cell(fe ? "" : std::to_string(r.redispatches));
  out +=
      cell(ms(r.queue_time)) + cell(ms(r.connect_time)) + cell(ms(r.response_time)) + cell(ms(r.total_time));
  out += cell(status) + cell(check, r.check_description) + cell(fe ? "" : std::to_string(r.weight)) +
         cell(fe ? "" : std::to_string(r.active_servers)) +
         cell(sv && r.checked ? std::to_string(r.check_failures) : "") +
         cell(fe ? "" : std::to_string(r.check_up_down));
  return out + "</tr>\n";
}

}  // namespace

std::string to_html(const Snapshot& snapshot, const PageInfo& info) {
  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">";
  out += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(info.refresh_seconds) + "\">";
  const std::string on = info.node.empty() ? "" : " on " + escape(info.node);
  out += "<title>Statistics Report for metalgate" + on + "</title>\n";
  out += std::string(kStyle) + "</head><body>\n<h1>metalgate " + escape(info.version) + on + "</h1>\n";
  out += "<p class=info>Refreshes every " + std::to_string(info.refresh_seconds) +
         " s. <a href=\";csv\">CSV export</a> &middot; <a href=\"/metrics\">Prometheus metrics</a></p>\n";
  std::string current;
  for (const Row& r : snapshot.rows) {
    if (r.name == "FRONTEND" || r.name == "BACKEND" || r.proxy != current) {
      if (!current.empty()) out += "</table>\n";
      current = r.proxy;
      out += "<table class=px id=\"" + escape(r.proxy + (r.type == RowType::kFrontend ? "-fe" : "-be")) +
             "\"><tr><th class=pxname colspan=28>" + escape(r.proxy) + " (" + escape(r.mode) +
             ")</th></tr>\n" + std::string(kColumns);
    }
    out += row_html(r);
  }
  if (!current.empty()) out += "</table>\n";
  if (snapshot.speaker) {
    out +=
        "<table class=px id=\"speaker\"><tr><th class=pxname colspan=6>Service addresses</th></tr>\n"
        "<tr><th>Address</th><th>Service</th><th>Here</th><th>Requests</th><th>Responses</th>"
        "<th>Gratuitous</th></tr>\n";
    for (const AddressRow& a : snapshot.speaker->addresses)
      out += "<tr class=\"" + std::string(a.announced ? "up" : "nocheck") + "\"><td class=name>" +
             escape(a.ip) + "</td>" + cell(a.service) + cell(a.announced ? "yes" : "no") +
             cell(std::to_string(a.requests_received)) + cell(std::to_string(a.responses_sent)) +
             cell(std::to_string(a.gratuitous_sent)) + "</tr>\n";
    out += "</table>\n";
  }
  return out + "</body></html>\n";
}

}  // namespace metalgate::stats
