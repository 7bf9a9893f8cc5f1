// One line per HTTP request in HAProxy's HTTP log format, so existing log tooling (halog, dashboards) reads
// it:
//   client:port [date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes - - TS ac/fc/bc/sc/rc sq/bq
//   "request"
// Timers in milliseconds, -1 for a phase never reached; TS is the two-letter termination state (who ended the
// session and in which phase; termination-t.h names each).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/net/ip_address.h"
#include "engine/proxy/termination-t.h"

namespace metalgate::proxy {

struct AccessRecord {
  net::SocketAddress client;
  std::int64_t unix_ms = 0;  // when the request started (accept or first byte)
  std::string_view frontend;
  std::string_view backend;  // "<NOSRV>"-style names when none
  std::string_view server;
  std::int64_t t_request = -1;   // TR: time to receive the whole request head
  std::int64_t t_queue = -1;     // Tw
  std::int64_t t_connect = -1;   // Tc
  std::int64_t t_response = -1;  // Tr: server response head, after the request was sent
  std::int64_t t_active = -1;    // Ta: the whole request, start to end
  int status = 0;
  std::uint64_t bytes = 0;  // sent to the client, headers included
  Termination termination;
  std::uint32_t active_connections = 0, frontend_connections = 0, backend_connections = 0,
                server_connections = 0, retries = 0;
  std::uint32_t server_queue = 0, backend_queue = 0;
  std::string_view request_line;
};

std::string format_access_record(const AccessRecord& r);
// "26/Nov/2026:09:17:46.123"
std::string format_log_date(std::int64_t unix_ms);

using AccessLogSink = std::function<void(std::string_view line)>;

}  // namespace metalgate::proxy
