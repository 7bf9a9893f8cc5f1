// /metrics: HAProxy's exporter names and labels, the two additions the tutorial's dashboard needs, MetalLB's
// speaker metrics, and a well-formed exposition (every sample after its HELP and TYPE, labels escaped).
// promtool and a real Prometheus read it in tests/stats/live_stats_test.sh.
#include "engine/stats/prometheus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "tests/stats/sample_snapshot.h"

namespace metalgate::stats {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StatsPrometheus, NamesAndLabelsAreHaproxysWithTheDashboardsFrontendAndBackendLabels) {
  const std::string m = to_prometheus(testing::sample_snapshot());
  EXPECT_THAT(m, HasSubstr("haproxy_frontend_http_requests_total{proxy=\"http\",frontend=\"http\"} 7\n"));
  EXPECT_THAT(m, HasSubstr("haproxy_frontend_current_sessions{proxy=\"http\",frontend=\"http\"} 2\n"));
  EXPECT_THAT(
      m,
      HasSubstr("haproxy_frontend_http_responses_total{proxy=\"http\",frontend=\"http\",code=\"5xx\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("haproxy_backend_http_responses_total{proxy=\"default_web_80\",backend=\"default_"
                           "web_80\",code=\"5xx\"} 3\n"));
  EXPECT_THAT(m, HasSubstr("haproxy_backend_response_time_average_seconds{proxy=\"default_web_80\",backend="
                           "\"default_web_80\"} 0.052000\n"));
  EXPECT_THAT(
      m, HasSubstr(
             "haproxy_backend_status{proxy=\"default_web_80\",backend=\"default_web_80\",state=\"UP\"} 1\n"));
  EXPECT_THAT(
      m,
      HasSubstr("haproxy_backend_active_servers{proxy=\"default_web_80\",backend=\"default_web_80\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("haproxy_server_status{proxy=\"default_web_80\",server=\"web "
                           "\\\"1\\\"\",backend=\"default_web_80\",state=\"DRAIN\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("haproxy_server_check_status{proxy=\"default_web_80\",server=\"web "
                           "\\\"1\\\"\",backend=\"default_web_80\",state=\"L7OK\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("haproxy_server_check_status{proxy=\"default_web_80\",server=\"web "
                           "\\\"1\\\"\",backend=\"default_web_80\",state=\"L4CON\"} 0\n"));
}

TEST(StatsPrometheus, TheDashboardsResponseTimeSeriesIsServedForHttpBackends) {
  const std::string m = to_prometheus(testing::sample_snapshot());
  EXPECT_THAT(m, HasSubstr("haproxy_backend_http_response_time_average_seconds{proxy=\"default_web_80\","
                           "backend=\"default_web_80\"} 0.052000\n"));
}

TEST(StatsPrometheus, HttpSeriesAreLeftOutForTcpFrontends) {
  const std::string m = to_prometheus(testing::sample_snapshot());
  EXPECT_THAT(m, Not(HasSubstr("haproxy_frontend_http_requests_total{proxy=\"tcp-5432\"")));
  EXPECT_THAT(m,
              HasSubstr("haproxy_frontend_current_sessions{proxy=\"tcp-5432\",frontend=\"tcp-5432\"} 2\n"));
}

TEST(StatsPrometheus, TheSpeakerHasMetalLBsNamesAndTheMembershipGauges) {
  const std::string m = to_prometheus(testing::sample_snapshot());
  EXPECT_THAT(m, HasSubstr("metallb_layer2_requests_received{ip=\"192.168.1.240\"} 4\n"));
  EXPECT_THAT(m, HasSubstr("metallb_layer2_responses_sent{ip=\"192.168.1.240\"} 4\n"));
  EXPECT_THAT(m, HasSubstr("metallb_layer2_gratuitous_sent{ip=\"192.168.1.240\"} 6\n"));
  EXPECT_THAT(m, HasSubstr("metallb_speaker_announced{ip=\"192.168.1.240\",node=\"node-a\",protocol="
                           "\"layer2\",service=\"haproxy-ingress/haproxy\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("metalgate_membership_members{state=\"alive\"} 3\n"));
}

TEST(StatsPrometheus, MembershipTrafficIsCountedEachWayAsMemberlistsUdpMetrics) {
  const std::string m = to_prometheus(testing::sample_snapshot());
  EXPECT_THAT(m, HasSubstr("metalgate_membership_datagrams_total{direction=\"sent\"} 40\n"));
  EXPECT_THAT(m, HasSubstr("metalgate_membership_datagrams_total{direction=\"received\"} 38\n"));
  EXPECT_THAT(m, HasSubstr("metalgate_membership_bytes_total{direction=\"sent\"} 4000\n"));
  EXPECT_THAT(m, HasSubstr("metalgate_membership_bytes_total{direction=\"received\"} 3900\n"));
  EXPECT_THAT(m, HasSubstr("metalgate_membership_views_total{direction=\"sent\"} 2\n"));
  EXPECT_THAT(m, HasSubstr("metalgate_membership_views_total{direction=\"received\"} 1\n"));
}

TEST(StatsPrometheus, EverySampleFollowsItsFamilysHelpAndTypeAndNoFamilyRepeats) {
  std::istringstream in(to_prometheus(testing::sample_snapshot()));
  std::set<std::string> families;
  std::string current;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(families.insert(current).second) << "repeated family " << current;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_EQ(line.substr(7, current.size()), current);
      continue;
    }
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name, current) << line;
  }
  EXPECT_GT(families.size(), 60u);
}

}  // namespace
}  // namespace metalgate::stats
