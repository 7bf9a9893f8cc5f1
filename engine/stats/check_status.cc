#include "engine/stats/check_status.h"

#include <array>
#include <utility>

namespace metalgate::stats {

namespace {

constexpr std::array<std::pair<CheckStatus, std::string_view>, 7> kNames = {{
    {CheckStatus::kL4Ok, "L4OK"},
    {CheckStatus::kL4Timeout, "L4TOUT"},
    {CheckStatus::kL4Refused, "L4CON"},
    {CheckStatus::kL7Ok, "L7OK"},
    {CheckStatus::kL7Timeout, "L7TOUT"},
    {CheckStatus::kL7Response, "L7RSP"},
    {CheckStatus::kL7Status, "L7STS"},
}};

}  // namespace

std::string_view to_string(CheckStatus status) {
  for (const auto& [s, name] : kNames)
    if (s == status) return name;
  return "";
}

CheckStatus check_status_named(std::string_view word) {
  if (word == "UDPOK") return CheckStatus::kL4Ok;
  if (word == "UDP") return CheckStatus::kL4Refused;
  for (const auto& [s, name] : kNames)
    if (name == word) return s;
  return CheckStatus::kNone;
}

const std::vector<std::string_view>& prometheus_check_states() {
  static const std::vector<std::string_view> k = {"HANA",   "SOCKERR", "L4OK",     "L4TOUT", "L4CON", "L6OK",
                                                  "L6TOUT", "L6RSP",   "L7TOUT",   "L7RSP",  "L7OK",  "L7OKC",
                                                  "L7STS",  "PROCERR", "PROCTOUT", "PROCOK"};
  return k;
}

}  // namespace metalgate::stats
