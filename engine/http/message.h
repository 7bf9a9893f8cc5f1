// Functions over the protocol-neutral HTTP message (message-t.h): header lookups and token lists, all
// case-insensitive as RFC 9110 says.
#pragma once

#include <optional>
#include <string_view>

#include "engine/http/message-t.h"

namespace metalgate::http {

bool equals_ignore_case(std::string_view a, std::string_view b);
bool starts_with_ignore_case(std::string_view text, std::string_view prefix);

// Whether a comma-separated list (Connection, Accept-Encoding, …) holds `token`, ignoring case and any
// ";params".
bool list_contains(std::string_view list, std::string_view token);
// Whether an Accept-Encoding value accepts `coding` (RFC 9110 §12.5.3): named, or `*`, with a quality above
// 0 ("gzip;q=0" refuses it, and an explicit refusal beats `*`).
bool accepts_coding(std::string_view accept_encoding, std::string_view coding);

// The first header named `name`, or nullopt.
std::optional<std::string_view> find_header(const std::vector<Header>& headers, std::string_view name);

std::string_view version_text(Version v);
// The standard reason phrase for a status code ("Not Found").
std::string_view reason_phrase(int status);

}  // namespace metalgate::http
