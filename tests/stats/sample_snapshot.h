// A snapshot made by hand for the renderers' tests (CSV, Prometheus): an HTTP and a TCP frontend, an HTTP
// backend and one server whose name and last check need quoting, and a speaker owning one address.
#pragma once

#include "engine/stats/snapshot.h"

namespace metalgate::stats::testing {

inline Snapshot sample_snapshot() {
  Snapshot s;
  Row fe;
  fe.proxy = "http";
  fe.name = "FRONTEND";
  fe.mode = "http";
  fe.status = "OPEN";
  fe.sessions = 2;
  fe.sessions_total = 7;
  fe.http_requests = 7;
  fe.responses[2] = 5;
  fe.responses[4] = 1;
  fe.responses[5] = 1;
  s.rows.push_back(fe);
  Row tcp = fe;
  tcp.proxy = "tcp-5432";
  tcp.mode = "tcp";
  s.rows.push_back(tcp);
  Row be;
  be.type = RowType::kBackend;
  be.proxy = "default_web_80";
  be.name = "BACKEND";
  be.mode = "http";
  be.status = "UP";
  be.response_time = {52};
  be.responses[5] = 3;
  be.active_servers = 1;
  be.algorithm = "roundrobin";
  s.rows.push_back(be);
  Row sv = be;
  sv.type = RowType::kServer;
  sv.name = "web \"1\"";
  sv.status = "DRAIN";
  sv.algorithm.clear();
  sv.check_status = "L7OK";
  sv.check_code = 200;
  sv.checked = true;
  sv.check_description = "L7OK 200, with a comma";
  sv.address = "10.0.1.1:8080";
  s.rows.push_back(sv);
  SpeakerRow sp;
  sp.node = "node-a";
  sp.addresses.push_back({"192.168.1.240", "haproxy-ingress/haproxy", true, 4, 4, 6});
  sp.members[0] = 3;
  sp.views_sent = 2;
  sp.views_received = 1;
  sp.traffic = {.datagrams_sent = 40, .bytes_sent = 4000, .datagrams_received = 38, .bytes_received = 3900};
  s.speaker = sp;
  return s;
}

}  // namespace metalgate::stats::testing
