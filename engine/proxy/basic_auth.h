// HTTP Basic authentication as the controller's auth-type: basic-auth sets it up (an HAProxy userlist and
// `http-request auth`): users from a Secret whose values are crypt(3) hashes, checked with libcrypt (bcrypt,
// sha512crypt, sha256crypt, md5crypt, yescrypt... whatever the system's libcrypt knows, as HAProxy's
// crypt()).
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace metalgate::proxy {

struct BasicCredentials {
  std::string user;
  std::string password;
};

// The user and password of an Authorization header value "Basic base64(user:password)" (the scheme in any
// case, RFC 7617); nullopt for another scheme, invalid base64, no colon, or a NUL byte in either part.
std::optional<BasicCredentials> parse_basic_authorization(std::string_view value);

// Whether `password` hashes to `hash` under the crypt(3) method and salt `hash` names. A hash libcrypt does
// not know (a plain password, say) matches nothing. Compares in constant time.
bool crypt_matches(std::string_view password, const std::string& hash);

// Whether libcrypt knows `hash`'s method and finds it well formed ($2y$, $6$, $5$, $1$, $y$...); false for a
// plain password or an unknown method. Legacy DES hashes are known but reported as such by `legacy`.
bool crypt_hash_known(const std::string& hash, bool* legacy = nullptr);

// One route policy's user list and realm. Thread-safe: the event loops of one proxy share it.
class BasicAuth {
 public:
  // How many verified credentials are remembered; when full, the memory starts over.
  static constexpr std::size_t kCacheSize = 1024;

  // `users`: user name -> crypt(3) hash. An empty list lets nobody in (a missing Secret fails closed).
  BasicAuth(std::string realm, std::map<std::string, std::string, std::less<>> users);

  // Whether an Authorization header value (nullopt: the request has none) names a user of the list whose
  // password matches. A match is remembered (as a SHA-256 of user and password, never the password), so a
  // client that sends the same credentials again (every request of a keep-alive connection, every
  // connection of a browser) costs a hash lookup instead of a bcrypt verification; failures are not.
  bool allows(std::optional<std::string_view> authorization) const;

  const std::string& realm() const { return realm_; }
  std::size_t users() const { return users_.size(); }
  std::size_t verifications() const;  // crypt(3) calls made so far (tests)

 private:
  std::string realm_;
  std::map<std::string, std::string, std::less<>> users_;
  mutable std::mutex mutex_;  // guards what follows
  mutable std::unordered_set<std::string> verified_;
  mutable std::size_t verifications_ = 0;
};

}  // namespace metalgate::proxy
