#include "scenario/schema/fields.h"

#include "engine/config/duration.h"

namespace metalgate::scenario {

std::optional<std::chrono::milliseconds> duration_field(const config::YamlReader& r, std::string_view key,
                                                        bool required) {
  auto text = r.string(key, required);
  if (!text) return std::nullopt;
  auto d = config::parse_duration(*text);
  if (!d) r[key].error("'" + *text + "' is not a duration (20s, 500ms, 1m)");
  return d;
}

std::optional<net::IpAddress> address_field(const config::YamlReader& r, std::string_view key,
                                            bool required) {
  auto text = r.string(key, required);
  if (!text) return std::nullopt;
  auto a = net::IpAddress::parse(*text);
  if (!a || !a->is_v4()) r[key].error("'" + *text + "' is not an IPv4 address");
  return a;
}

std::optional<double> number_field(const config::YamlReader& r, std::string_view key, double min, double max,
                                   std::string_view what, bool required) {
  auto text = r.string(key, required);
  if (!text) return std::nullopt;
  double value = -1;
  try {
    std::size_t used = 0;
    value = std::stod(*text, &used);
    if (used != text->size()) value = min - 1;
  } catch (...) {
    value = min - 1;
  }
  if (value < min || value > max) {
    r[key].error("'" + *text + "' is not " + std::string(what));
    return std::nullopt;
  }
  return value;
}

std::optional<std::chrono::microseconds> link_delay_field(const config::YamlReader& r, std::string_view key) {
  auto text = r.string(key);
  if (!text) return std::nullopt;
  if (text->size() > 2 && text->substr(text->size() - 2) == "us" &&
      text->find_first_not_of("0123456789") == text->size() - 2 && text->size() <= 14)
    return std::chrono::microseconds(std::stoll(text->substr(0, text->size() - 2)));  // 12 digits fit
  if (auto ms = config::parse_duration(*text)) return std::chrono::duration_cast<std::chrono::microseconds>(*ms);
  r[key].error("'" + *text + "' is not a delay (5us, 1ms)");
  return std::nullopt;
}

bool is_namespaced_name(std::string_view text) {
  const auto slash = text.find('/');
  return slash != 0 && slash != std::string_view::npos && slash + 1 < text.size() &&
         text.find('/', slash + 1) == std::string_view::npos;
}

std::filesystem::path resolve_path(const std::filesystem::path& base, const std::string& path) {
  return std::filesystem::path(path).is_absolute() ? std::filesystem::path(path) : base / path;
}

}  // namespace metalgate::scenario
