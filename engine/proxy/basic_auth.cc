#include "engine/proxy/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <memory>

#include "engine/http/message.h"

namespace metalgate::proxy {

namespace {

// RFC 4648 base64 with its padding, nothing else (no whitespace, no line breaks); nullopt when invalid.
std::optional<std::string> decode_base64(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=')
    ++pad;
  std::string out;
  std::uint32_t bits = 0;
  int held = 0;
  for (char c : in.substr(0, in.size() - pad)) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out += static_cast<char>((bits >> held) & 0xff);
    }
  }
  return out;
}

// What the cache keeps of verified credentials: SHA-256 of user, NUL, password (neither part holds a NUL).
std::string credential_key(const BasicCredentials& c) {
  std::string text = c.user;
  text += '\0';
  text += c.password;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  OPENSSL_cleanse(text.data(), text.size());
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

}  // namespace

std::optional<BasicCredentials> parse_basic_authorization(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  if (value.size() < 6 || !http::starts_with_ignore_case(value, "basic") ||
      (value[5] != ' ' && value[5] != '\t'))
    return std::nullopt;
  value.remove_prefix(6);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  std::optional<std::string> decoded = decode_base64(value);
  if (!decoded || decoded->find('\0') != std::string::npos) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

bool crypt_matches(std::string_view password, const std::string& hash) {
  if (hash.empty() || password.find('\0') != std::string_view::npos) return false;
  // crypt_data is large (tens of KiB): on the heap, zeroed as crypt_rn requires.
  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password);
  const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (!out) return false;  // a method or setting libcrypt does not know
  const std::size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

bool crypt_hash_known(const std::string& hash, bool* legacy) {
  const int check = crypt_checksalt(hash.c_str());
  if (legacy) *legacy = check == CRYPT_SALT_METHOD_LEGACY;
  // A plain password reads as a legacy DES setting (two salt characters, then anything): refuse it unless it
  // is a whole DES hash (13 characters of the crypt alphabet).
  if (check == CRYPT_SALT_METHOD_LEGACY && hash.front() != '$' && hash.front() != '_' && hash.size() != 13)
    return false;
  return check == CRYPT_SALT_OK || check == CRYPT_SALT_METHOD_LEGACY;
}

BasicAuth::BasicAuth(std::string realm, std::map<std::string, std::string, std::less<>> users)
    : realm_(std::move(realm)), users_(std::move(users)) {}

bool BasicAuth::allows(std::optional<std::string_view> authorization) const {
  if (!authorization || users_.empty()) return false;
  std::optional<BasicCredentials> c = parse_basic_authorization(*authorization);
  if (!c) return false;
  auto user = users_.find(c->user);
  if (user == users_.end()) return false;
  const std::string key = credential_key(*c);
  {
    std::lock_guard lock(mutex_);
    if (verified_.count(key)) return true;
    ++verifications_;
  }
  // Not under the lock: a bcrypt verification takes milliseconds, and other loops' requests must not wait.
  if (!crypt_matches(c->password, user->second)) return false;
  std::lock_guard lock(mutex_);
  if (verified_.size() >= kCacheSize) verified_.clear();
  verified_.insert(key);
  return true;
}

std::size_t BasicAuth::verifications() const {
  std::lock_guard lock(mutex_);
  return verifications_;
}

}  // namespace metalgate::proxy
