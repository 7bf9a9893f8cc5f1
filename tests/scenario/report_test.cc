// report.html from hand-made result.json: tables instead of JSON dumps, a rate-limited client's denials apart
// from failures (with and without the proposed "denied" fields), fault labels that do not overprint, one
// owner strip per VIP that stays small for 500 VIPs, and every text from the result escaped.
#include "scenario/report/html_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace metalgate::scenario {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

// A 20 s run as the runner writes it today: greedy is rate-limited (its 403s are not in requests.failures),
// browser fails twice at 8 s when the owner crashes.
json small_result() {
  json r = {{"scenario", "report"},
            {"seed", 7},
            {"duration_ms", 20000},
            {"vip", "192.168.1.240"},
            {"passed", true},
            {"owner_timeline",
             {{{"at_ms", 0}, {"owner", ""}},
              {{"at_ms", 100}, {"owner", "node-1"}},
              {{"at_ms", 8100}, {"owner", "node-2"}},
              {{"at_ms", 15000}, {"owner", "node-1+node-2"}},
              {{"at_ms", 15500}, {"owner", "node-2"}}}},
            {"faults", {{{"action", "crash"}, {"at_ms", 8000}, {"node", "node-1"}}}},
            {"failovers",
             {{{"cause", "crash"},
               {"failover_ms", 127},
               {"fault_at_ms", 8000},
               {"node", "node-1"},
               {"vip", "192.168.1.240"}}}},
            {"requests",
             {{"total", 60},
              {"ok", 43},
              {"failed", 17},
              {"p50_ms", 2.05},
              {"p99_ms", 2.7},
              {"on_reused_connections", 20},
              {"by_backend", {{"web-app-0", 20}, {"web-app-1", 23}}},
              {"by_vip_node", {{"node-1", 30}, {"node-2", 28}}},
              {"errors", {{"status 403", 15}, {"timed out", 2}}},
              {"failures",
               {{{"client", "browser"},
                 {"start_ms", 8000.0},
                 {"end_ms", 10000.0},
                 {"error", "timed out"},
                 {"request", "app.example.com/"},
                 {"vip_node", "node-1"}},
                {{"client", "browser"},
                 {"start_ms", 8100.0},
                 {"end_ms", 10100.0},
                 {"error", "timed out"},
                 {"request", "app.example.com/"},
                 {"vip_node", "node-1"}}}}}},
            {"per_second",
             {{{"second", 7}, {"ok", 5}, {"failed", 15}, {"p50_ms", 2.0}, {"p99_ms", 2.6}},
              {{"second", 8}, {"ok", 38}, {"failed", 2}, {"p50_ms", 2.1}, {"p99_ms", 1003.0}}}},
            {"expectations",
             {{{"name", "failover"}, {"passed", true}, {"measured", 127}, {"bound", {{"max_ms", 2000}}}},
              {{"name", "success_ratio"},
               {"passed", true},
               {"measured", 0.9512},
               {"bound", {{"min", 0.9}, {"outside_failover", false}, {"exclude", {"greedy"}}}}},
              {{"name", "rate_limit"},
               {"passed", true},
               {"measured", {{"denied", 15}, {"most_answered_in_a_period", 100}}},
               {"bound", {{"client", "greedy"}, {"limit", 100}, {"period_ms", 10000}}}}}}};
  return r;
}

// The text between `before` and the next `until` at or after `from`, or "" (no std::regex: GCC 12 warns
// falsely inside it under the sanitizers).
std::string between(const std::string& html, const std::string& before, const std::string& until,
                    std::size_t from = 0) {
  auto at = html.find(before, from);
  if (at == std::string::npos) return "";
  at += before.size();
  return html.substr(at, html.find(until, at) - at);
}

// The text of the bar title for one second: "5 answered, 15 expected denials, 0 failed".
std::string second_title(const std::string& html, int second) {
  return between(html, "<title>" + std::to_string(second) + " s: ", "</title>");
}

TEST(Report, ExpectationsAreTablesWithUnitsNotJson) {
  const std::string html = html_report(small_result());
  EXPECT_EQ(count(html, "<table class='exp'>"), 3u);
  json failing = small_result();
  failing["expectations"][0]["passed"] = false;
  EXPECT_THAT(html_report(failing),
              HasSubstr("<table class='exp failed'><caption><span class='fail'>✘ FAIL</span> "
                        "<b>failover</b>"));
  EXPECT_THAT(html, HasSubstr("<b>failover</b>"));
  EXPECT_THAT(html, HasSubstr("<td>failover</td><td class='n'>127 ms</td>"));
  EXPECT_THAT(html, HasSubstr("<td>max</td><td class='n'>2000 ms</td>"));
  EXPECT_THAT(html, HasSubstr("<td>success ratio</td><td class='n'>95.12 %</td>"));
  EXPECT_THAT(html, HasSubstr("<td>min</td><td class='n'>90 %</td>"));
  EXPECT_THAT(html, HasSubstr("<td>exclude</td><td class='n'>greedy</td>"));
  EXPECT_THAT(html, HasSubstr("<td>period</td><td class='n'>10000 ms</td>"));
  EXPECT_THAT(html, HasSubstr("<td>most answered in a period</td><td class='n'>100</td>"));
  // No JSON dump anywhere on the page: no braces after the style sheet, no quoted keys.
  const std::string body = html.substr(html.find("</style>"));
  EXPECT_EQ(body.find('{'), std::string::npos) << body;
  EXPECT_THAT(body, Not(HasSubstr("&quot;")));
}

TEST(Report, RequestSummaryAndClientsAreTables) {
  const std::string html = html_report(small_result());
  EXPECT_THAT(html, HasSubstr("<caption>summary</caption><tr><td>total</td><td class='n'>60</td></tr>"
                              "<tr><td>answered</td><td class='n'>43</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr><td>… expected denials</td><td class='n'>15</td></tr>"
                              "<tr><td>… failures</td><td class='n'>2</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<td>p99 latency</td><td class='n'>2.7 ms</td>"));
  EXPECT_THAT(html,
              HasSubstr("<caption>by backend</caption><tr><td>web-app-0</td><td class='n'>20</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<caption>by VIP node</caption>"));
  EXPECT_THAT(html, HasSubstr("<caption>errors</caption><tr><td>status 403</td><td class='n'>15</td></tr>"));
  // Per client from the failures list and the rate_limit judge: no totals, said so.
  EXPECT_THAT(html, HasSubstr("<td>browser</td><td class='n'>—</td><td class='n'>—</td><td class='n'>0</td>"
                              "<td class='n'>2</td><td>timed out: 2</td>"));
  EXPECT_THAT(html, HasSubstr("<td>greedy <small>(rate-limited)</small></td><td class='n'>—</td><td "
                              "class='n'>—</td><td class='n'>15</td><td class='n'>0</td>"));
  EXPECT_THAT(html, HasSubstr("result.json has no per-client totals"));
}

TEST(Report, ClientsFieldGivesFullPerClientTable) {
  json r = small_result();
  r["clients"] = {{{"client", "greedy"},
                   {"total", 40},
                   {"ok", 25},
                   {"denied", 15},
                   {"failed", 0},
                   {"errors", json::object()}},
                  {{"client", "browser"},
                   {"total", 20},
                   {"ok", 18},
                   {"denied", 0},
                   {"failed", 2},
                   {"errors", {{"timed out", 2}}}}};
  const std::string html = html_report(r);
  EXPECT_THAT(html, HasSubstr("<td>browser</td><td class='n'>20</td><td class='n'>18</td><td class='n'>0</td>"
                              "<td class='n'>2</td><td>timed out: 2</td>"));
  EXPECT_THAT(html, HasSubstr("<td class='n'>40</td><td class='n'>25</td><td class='n'>15</td>"));
  EXPECT_THAT(html, Not(HasSubstr("no per-client totals")));
}

TEST(Report, RateLimitedDenialsAreDrawnApartFromFailures) {
  // Today's result.json: per_second counts greedy's 403s as failed; the complete failures list says which
  // are not denials.
  const std::string html = html_report(small_result());
  EXPECT_THAT(html, HasSubstr("expected denials (403/429 to rate-limited greedy)"));
  EXPECT_EQ(second_title(html, 7), "5 answered, 15 expected denials, 0 failed");
  EXPECT_EQ(second_title(html, 8), "38 answered, 0 expected denials, 2 failed");
  EXPECT_THAT(html, HasSubstr("class='denied'"));
  EXPECT_THAT(html, HasSubstr("derived: per_second.failed minus the failures listed"));
}

TEST(Report, ProposedDeniedFieldIsUsedAsIs) {
  json r = small_result();
  r["per_second"][0]["denied"] = 12;  // says 3 of the 15 were real failures, whatever the list says
  r["per_second"][1]["denied"] = 0;
  const std::string html = html_report(r);
  EXPECT_EQ(second_title(html, 7), "5 answered, 12 expected denials, 3 failed");
  EXPECT_EQ(second_title(html, 8), "38 answered, 0 expected denials, 2 failed");
  EXPECT_THAT(html, HasSubstr("from per_second.denied"));
}

TEST(Report, TruncatedFailureListLeavesTheRestUnattributed) {
  json r = small_result();
  json list = json::array();
  for (int i = 0; i < 100; ++i)
    list.push_back({{"client", "browser"}, {"start_ms", 8000.0 + i}, {"error", "timed out"}});
  r["requests"]["failures"] = list;
  r["requests"]["failed"] = 300;  // 100 listed + 15 denied != 300: more failures than the list holds
  r["per_second"][0]["failed"] = 40;
  const std::string html = html_report(r);
  EXPECT_EQ(second_title(html, 7), "5 answered, 0 expected denials, 0 failed, 40 failed or denied");
  EXPECT_EQ(second_title(html, 8), "38 answered, 0 expected denials, 2 failed");
  EXPECT_THAT(html, HasSubstr("failed or denied (not separable)"));
  EXPECT_THAT(html, HasSubstr("counts are lower bounds"));
}

TEST(Report, WithoutRateLimitEveryFailureIsAFailure) {
  json r = small_result();
  r["expectations"].erase(2);
  const std::string html = html_report(r);
  EXPECT_EQ(second_title(html, 7), "5 answered, 0 expected denials, 15 failed");
  EXPECT_THAT(html, Not(HasSubstr("expected denials (")));
}

// The rows the fault labels went to, in document order.
std::vector<int> label_rows(const std::string& html) {
  std::vector<int> rows;
  const std::string mark = "class='fault' data-row='";
  for (auto at = html.find(mark); at != std::string::npos; at = html.find(mark, at + 1))
    rows.push_back(std::stoi(between(html, mark, "'", at)));
  return rows;
}

TEST(Report, CloseFaultLabelsAreStaggeredFarOnesShareARow) {
  json r = small_result();
  r["faults"] = {{{"action", "crash"}, {"at_ms", 8000}, {"node", "node-1"}},
                 {{"action", "nic_down"}, {"at_ms", 8010}, {"node", "node-2"}},
                 {{"action", "heal"}, {"at_ms", 16000}}};
  const std::string html = html_report(r);
  EXPECT_EQ(label_rows(html), (std::vector<int>{0, 1, 0}));
  EXPECT_THAT(html, HasSubstr(">1 crash node-1</text>"));
  EXPECT_THAT(html, HasSubstr(">2 nic_down node-2</text>"));
  // Numbered in the faults table too.
  EXPECT_THAT(html,
              HasSubstr("<tr><td class='n'>2</td><td class='n'>8.01 s</td><td>nic_down node-2</td></tr>"));
}

TEST(Report, ManyFaultsAtOnceFallBackToNumbers) {
  json r = small_result();
  r["faults"] = json::array();
  for (int i = 0; i < 10; ++i)
    r["faults"].push_back({{"action", "crash"}, {"at_ms", 5000 + i}, {"node", "node-" + std::to_string(i)}});
  const std::string html = html_report(r);
  // Six full labels in six rows, then the numbers of the rest merged into one label in a seventh row; the
  // faults table names them.
  EXPECT_EQ(label_rows(html), (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_THAT(html, HasSubstr(">6 crash node-5</text>"));
  EXPECT_THAT(html, HasSubstr(">7–10</text>"));
  EXPECT_THAT(html, HasSubstr("<td>crash node-9</td>"));
}

TEST(Report, PartitionGroupsAndRestartAllReadAsText) {
  json r = small_result();
  r["faults"] = {{{"action", "partition"}, {"at_ms", 4000}, {"groups", {{"node-3"}, {"node-1", "node-2"}}}},
                 {{"action", "restart"}, {"at_ms", 12000}, {"node", "all"}, {"nodes", {"node-2"}}}};
  const std::string html = html_report(r);
  EXPECT_THAT(html, HasSubstr(">1 partition node-3 | node-1, node-2</text>"));
  EXPECT_THAT(html, HasSubstr(">2 restart all (node-2)</text>"));
}

TEST(Report, OwnerTimelineFallbackDrawsOneStripWithTheOwnersNamed) {
  const std::string html = html_report(small_result());
  EXPECT_EQ(count(html, "<g class='strip'>"), 1u);
  EXPECT_THAT(html, HasSubstr(">192.168.1.240</text>"));
  EXPECT_THAT(html, HasSubstr(">node-1</text>"));  // written in its segment
  EXPECT_THAT(html, HasSubstr("fill='#d62728'"));  // node-1+node-2: several owners
  EXPECT_THAT(html, HasSubstr("several nodes"));
}

json many_vips(int n) {
  json r = small_result();
  r["owners"] = json::array();
  for (int v = 0; v < n; ++v) {
    json timeline = json::array();
    timeline.push_back({{"at_ms", 0}, {"owner", ""}});
    for (int c = 0; c < 8; ++c)
      timeline.push_back(
          {{"at_ms", 100 + c * 2400 + v}, {"owner", "node-" + std::to_string((v + c) % 12 + 1)}});
    r["owners"].push_back({{"vip", "10.0." + std::to_string(v / 250) + "." + std::to_string(v % 250 + 1)},
                           {"timeline", timeline}});
  }
  return r;
}

TEST(Report, OwnersFieldDrawsAStripPerVip) {
  const std::string html = html_report(many_vips(3));
  EXPECT_EQ(count(html, "<g class='strip'>"), 3u);
  EXPECT_THAT(html, HasSubstr(">10.0.0.3</text>"));
  EXPECT_THAT(html, Not(HasSubstr(">192.168.1.240</text>")));  // owner_timeline is the fallback only
  EXPECT_THAT(
      html,
      HasSubstr(
          "node-9</span><span class='key'><i style='background:#17becf'></i>node-10<"));  // legend: natural
                                                                                          // order
}

TEST(Report, FiveHundredVipStripsStayCompact) {
  const auto start = std::chrono::steady_clock::now();
  const std::string html = html_report(many_vips(500));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(count(html, "<g class='strip'>"), 500u);
  EXPECT_LT(html.size(), 700u * 1024) << "500 VIPs x 8 owner changes";
  EXPECT_LT(took, std::chrono::seconds(2));
  // Labels only every 10th strip (2 px each), numbered so that a row can be found.
  EXPECT_EQ(count(html, "<text class='vip'"), 50u);
  EXPECT_THAT(html, HasSubstr(">#11 10.0.0.11</text>"));
  const std::string height = between(html, "<svg width='1110' height='", "'");
  ASSERT_FALSE(height.empty());
  EXPECT_LT(std::stod(height), 1400) << "2 px per strip";
}

TEST(Report, SeveralOwnersAreATableOfVipIntervalAndNodes) {
  json r = small_result();
  EXPECT_THAT(html_report(r), Not(HasSubstr("VIPs with several owners")));
  r["several_owners"] = {{{"vip", "192.168.100.7"}, {"from_ms", 2300}, {"to_ms", 2500},
                          {"nodes", {"node-12", "node-40"}}}};
  const std::string html = html_report(r);
  EXPECT_THAT(html, HasSubstr("VIPs with several owners"));
  EXPECT_THAT(html, HasSubstr("<td>192.168.100.7</td><td class='n'>2.3 s</td><td class='n'>2.5 s</td>"
                              "<td>node-12, node-40</td>"));
}

TEST(Report, EverythingFromTheResultIsEscaped) {
  json r = small_result();
  r["scenario"] = "<script>alert(1)</script>";
  r["vip"] = "a'b\"c";
  r["faults"][0]["node"] = "<img src=x>";
  r["expectations"][0]["name"] = "fail<over>";
  r["requests"]["errors"]["<b>&"] = 1;
  r["warnings"] = {"values.yaml: <i>bold</i>"};
  const std::string html = html_report(r);
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("<i>bold")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr(">a&#39;b&quot;c</text>"));
  EXPECT_THAT(html, HasSubstr("crash &lt;img src=x&gt;"));
  EXPECT_THAT(html, HasSubstr("fail&lt;over&gt;"));
  EXPECT_THAT(html, HasSubstr("&lt;b&gt;&amp;"));
  EXPECT_EQ(xml_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(Report, SelfContainedAndTolerantOfMissingFields) {
  const std::string html = html_report(small_result());
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("://")));  // no URL at all: nothing to fetch
  EXPECT_THAT(html, Not(HasSubstr(" src=")));
  EXPECT_THAT(html, Not(HasSubstr(" href=")));
  const std::string empty = html_report(json::object());
  EXPECT_THAT(empty, HasSubstr("</html>"));
  const std::string odd =
      html_report({{"expectations", 3}, {"per_second", {{{"second", "x"}}}}, {"faults", "no"}});
  EXPECT_THAT(odd, HasSubstr("</html>"));
}

}  // namespace
}  // namespace metalgate::scenario
