// Structured logging stamped with the runtime's notion of now: in a simulation, log lines carry virtual time.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/runtime/time.h"

namespace metalgate::runtime {

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarning, kError };
std::string_view to_string(LogLevel level);

struct LogField {
  std::string key;
  std::string value;
};

struct LogRecord {
  Instant at;
  LogLevel level;
  std::string_view component;
  std::string_view event;
  const std::vector<LogField>& fields;
};

using LogSink = std::function<void(const LogRecord&)>;

// "12.000100s info speaker ownership-change vip=192.168.1.240 old=node-a new=node-b"
std::string format_log_line(const LogRecord& record);

class Logger {
 public:
  Logger(std::function<Instant()> clock, LogSink sink, LogLevel threshold = LogLevel::kInfo);
  void log(LogLevel level, std::string_view component, std::string_view event,
           std::vector<LogField> fields = {}) const;
  bool enabled(LogLevel level) const { return level >= threshold_; }
  void set_threshold(LogLevel level) { threshold_ = level; }
  void set_sink(LogSink sink) { sink_ = std::move(sink); }

 private:
  std::function<Instant()> clock_;
  LogSink sink_;
  LogLevel threshold_;
};

// A sink that writes format_log_line() to stderr.
LogSink stderr_log_sink();

}  // namespace metalgate::runtime
