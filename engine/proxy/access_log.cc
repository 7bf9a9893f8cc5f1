#include "engine/proxy/access_log.h"

#include <ctime>

namespace metalgate::proxy {

std::string format_log_date(std::int64_t unix_ms) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%02d/%s/%04d:%02d:%02d:%02d.%03d", tm.tm_mday, kMonths[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string format_access_record(const AccessRecord& r) {
  std::string line;
  line.reserve(200 + r.request_line.size());
  line += r.client.to_string();
  line += " [";
  line += format_log_date(r.unix_ms);
  line += "] ";
  line += r.frontend;
  line += ' ';
  line += r.backend;
  line += '/';
  line += r.server;
  char buf[160];
  std::snprintf(buf, sizeof buf, " %lld/%lld/%lld/%lld/%lld %d %llu - - %c%c-- %u/%u/%u/%u/%u %u/%u \"",
                static_cast<long long>(r.t_request), static_cast<long long>(r.t_queue),
                static_cast<long long>(r.t_connect), static_cast<long long>(r.t_response),
                static_cast<long long>(r.t_active), r.status, static_cast<unsigned long long>(r.bytes),
                r.termination.cause, r.termination.state, r.active_connections, r.frontend_connections,
                r.backend_connections, r.server_connections, r.retries, r.server_queue, r.backend_queue);
  line += buf;
  line += r.request_line;
  line += '"';
  return line;
}

}  // namespace metalgate::proxy
