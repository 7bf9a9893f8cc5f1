#include "engine/runtime/log.h"

#include <cstdio>

namespace metalgate::runtime {

std::string format_instant(Instant t) {
  auto ns = t.time_since_epoch().count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%06llds", static_cast<long long>(ns / 1000000000),
                static_cast<long long>((ns % 1000000000) / 1000));
  return buf;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

std::string format_log_line(const LogRecord& r) {
  std::string line = format_instant(r.at);
  line += ' ';
  line += to_string(r.level);
  line += ' ';
  line += r.component;
  line += ' ';
  line += r.event;
  for (const auto& f : r.fields) {
    line += ' ';
    line += f.key;
    line += '=';
    bool quote = f.value.empty() || f.value.find(' ') != std::string::npos;
    if (quote) line += '"';
    line += f.value;
    if (quote) line += '"';
  }
  return line;
}

Logger::Logger(std::function<Instant()> clock, LogSink sink, LogLevel threshold)
    : clock_(std::move(clock)), sink_(std::move(sink)), threshold_(threshold) {}

void Logger::log(LogLevel level, std::string_view component, std::string_view event,
                 std::vector<LogField> fields) const {
  if (!enabled(level) || !sink_) return;
  sink_(LogRecord{clock_(), level, component, event, fields});
}

LogSink stderr_log_sink() {
  return [](const LogRecord& r) {
    auto line = format_log_line(r);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

}  // namespace metalgate::runtime
