// Typed scenario fields on top of config::YamlReader: durations, IPv4 addresses, bounded numbers, link delays
// and paths relative to the scenario file. Each problem is an error at the field's file:line:column; the
// result is then empty and reading goes on, so that every error is found in one pass.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "engine/config/yaml_reader.h"
#include "engine/net/ip_address.h"

namespace metalgate::scenario {

std::optional<std::chrono::milliseconds> duration_field(const config::YamlReader& r, std::string_view key,
                                                        bool required = false);
std::optional<net::IpAddress> address_field(const config::YamlReader& r, std::string_view key,
                                            bool required = true);
// A number in [min, max]; `what` completes "'x' is not …" ("a ratio from 0 to 1").
std::optional<double> number_field(const config::YamlReader& r, std::string_view key, double min, double max,
                                   std::string_view what, bool required = false);
// Link delays are microseconds on a LAN: "5us", or any duration ("1ms").
std::optional<std::chrono::microseconds> link_delay_field(const config::YamlReader& r, std::string_view key);
// "namespace/name" (a Service, a Deployment): both parts non-empty, one slash.
bool is_namespaced_name(std::string_view text);
// `path` as written in the scenario: absolute, or relative to the scenario file's folder `base`.
std::filesystem::path resolve_path(const std::filesystem::path& base, const std::string& path);

}  // namespace metalgate::scenario
