// Time values as the HAProxy controller writes them: "5s", "100ms", "1m", "2h", "1d", or a bare number of
// milliseconds ("5000", as ConfigMaps in the wild use).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace metalgate::config {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);  // "5s", "1m", "250ms"
// "true/false", "yes/no", "on/off", "enabled/disabled", "1/0" as the controller accepts them.
std::optional<bool> parse_bool(std::string_view text);

}  // namespace metalgate::config
