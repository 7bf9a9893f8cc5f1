// The CSV is HAProxy 2.6's: the same header, field for field, and each row fills the fields HAProxy fills
// for its type. (tests/stats/live_stats_test.sh compares the header with a running HAProxy's.)
#include "engine/stats/csv.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "tests/stats/sample_snapshot.h"

namespace metalgate::stats {
namespace {

// `show stat` of HAProxy 2.6.12 (Debian 12), first line.
constexpr const char* kHaproxy26Header =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,"
    "weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,"
    "rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,"
    "hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,"
    "lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,"
    "agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,"
    "conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,"
    "srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,"
    "used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,"
    "ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,"
    "h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,"
    "h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,"
    "h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,"
    "h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,";

// Splits one CSV line (HAProxy quotes a field that holds a comma).
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"')
      out.back() += '"', ++i;
    else if (c == '"')
      quoted = !quoted;
    else if (c == ',' && !quoted)
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

std::vector<std::map<std::string, std::string>> parse(const std::string& csv) {
  std::istringstream in(csv);
  std::string header;
  std::getline(in, header);
  const auto names = cells(header.substr(2));
  std::vector<std::map<std::string, std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    const auto values = cells(line);
    EXPECT_EQ(values.size(), names.size()) << line;
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i)
      row[names[i]] = values[i];
    rows.push_back(row);
  }
  return rows;
}

TEST(StatsCsv, TheHeaderIsHaproxy26sFieldForField) {
  const std::string csv = to_csv(testing::sample_snapshot());
  EXPECT_EQ(csv.substr(0, csv.find('\n')), kHaproxy26Header);
}

TEST(StatsCsv, EachRowFillsTheFieldsHaproxyFillsForItsType) {
  const auto rows = parse(to_csv(testing::sample_snapshot()));
  ASSERT_EQ(rows.size(), 4u);
  const auto& fe = rows[0];
  EXPECT_EQ(fe.at("svname"), "FRONTEND");
  EXPECT_EQ(fe.at("type"), "0");
  EXPECT_EQ(fe.at("status"), "OPEN");
  EXPECT_EQ(fe.at("req_tot"), "7");
  EXPECT_EQ(fe.at("hrsp_2xx"), "5");
  EXPECT_EQ(fe.at("hrsp_5xx"), "1");
  EXPECT_EQ(fe.at("qcur"), "");  // a frontend has no queue
  EXPECT_EQ(fe.at("rtime"), "");
  const auto& be = rows[2];
  EXPECT_EQ(be.at("type"), "1");
  EXPECT_EQ(be.at("rtime"), "52");
  EXPECT_EQ(be.at("algo"), "roundrobin");
  EXPECT_EQ(be.at("ereq"), "");  // request errors are the frontend's
  const auto& sv = rows[3];
  EXPECT_EQ(sv.at("type"), "2");
  EXPECT_EQ(sv.at("svname"), "web \"1\"");
  EXPECT_EQ(sv.at("status"), "DRAIN");
  EXPECT_EQ(sv.at("check_status"), "L7OK");
  EXPECT_EQ(sv.at("check_code"), "200");
  EXPECT_EQ(sv.at("last_chk"), "L7OK 200, with a comma");
  EXPECT_EQ(sv.at("addr"), "10.0.1.1:8080");
  EXPECT_EQ(sv.at("mode"), "http");
  EXPECT_EQ(sv.at("algo"), "");
}

}  // namespace
}  // namespace metalgate::stats
