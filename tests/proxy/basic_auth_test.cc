// Basic authentication's parts: the Authorization header, crypt(3) verification through libcrypt, and the
// memory of verified credentials.
#include "engine/proxy/basic_auth.h"

#include <crypt.h>
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace metalgate::proxy {
namespace {

// A crypt(3) hash of `password` with a fresh salt of the method `prefix` names ("$2y$", "$6$"...), at the
// method's cheapest cost so that tests stay quick.
std::string hash_of(const std::string& password, const char* prefix) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  const unsigned long cost = std::string(prefix) == "$2y$" ? 4 : 0;
  if (!crypt_gensalt_rn(prefix, cost, nullptr, 0, salt, sizeof salt)) return "";
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password.c_str(), salt, data.get(), sizeof(crypt_data));
  return out ? out : "";
}

TEST(BasicAuthorization, ReadsUserAndPasswordOfTheBasicScheme) {
  auto c = parse_basic_authorization("Basic Ym9iOnMzY3JldA==");  // bob:s3cret
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "bob");
  EXPECT_EQ(c->password, "s3cret");
  c = parse_basic_authorization("basic  YWxpY2U6YTpiOmM=  ");  // alice:a:b:c, any case, extra blanks
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "a:b:c") << "the user ends at the first colon";
  c = parse_basic_authorization("Basic Ym9iOg==");  // bob: with an empty password
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "");
}

TEST(BasicAuthorization, RefusesOtherSchemesBadBase64NoColonAndNulBytes) {
  EXPECT_FALSE(parse_basic_authorization("Bearer Ym9iOnMzY3JldA=="));
  EXPECT_FALSE(parse_basic_authorization("BasicYm9iOnMzY3JldA=="));
  EXPECT_FALSE(parse_basic_authorization("Basic Ym9iOnMzY3JldA="));   // not a multiple of 4
  EXPECT_FALSE(parse_basic_authorization("Basic Ym9i*nMzY3JldA=="));  // not the alphabet
  EXPECT_FALSE(parse_basic_authorization("Basic Ym9i"));              // "bob": no colon
  EXPECT_FALSE(parse_basic_authorization("Basic Ym9iOgBh"));          // "bob:\0a"
  EXPECT_FALSE(parse_basic_authorization(""));
}

TEST(CryptMatches, VerifiesBcryptSha512Sha256Md5AndYescryptHashes) {
  for (const char* method : {"$2y$", "$2b$", "$6$", "$5$", "$1$", "$y$"}) {
    const std::string hash = hash_of("correct horse", method);
    ASSERT_FALSE(hash.empty()) << method;
    EXPECT_TRUE(crypt_matches("correct horse", hash)) << hash;
    EXPECT_FALSE(crypt_matches("correct horsE", hash)) << hash;
    EXPECT_FALSE(crypt_matches("", hash)) << hash;
    EXPECT_TRUE(crypt_hash_known(hash)) << hash;
  }
  // As `openssl passwd -6 -salt abc secret` writes it.
  const std::string openssl =
      "$6$abc$IdWKNKTJEb8LxY7CGg8YBXlvtfZzFw7Mp/r6niK9YB2mdvgY..TKjv1T..8RadRt2qvUHYRLr/TsVArtr91iR1";
  EXPECT_TRUE(crypt_matches("secret", openssl));
}

TEST(CryptMatches, APlainPasswordOrAnUnknownMethodMatchesNothing) {
  EXPECT_FALSE(crypt_matches("bobPassword", "bobPassword"));
  EXPECT_FALSE(crypt_hash_known("bobPassword"));
  EXPECT_FALSE(crypt_matches("x", "$9$nothing$here"));
  EXPECT_FALSE(crypt_hash_known("$9$nothing$here"));
  EXPECT_FALSE(crypt_matches("x", ""));
  bool legacy = false;
  EXPECT_TRUE(crypt_hash_known("abiQ6Ep3EYTHc", &legacy));  // a whole DES hash: known, but legacy
  EXPECT_TRUE(legacy);
}

TEST(BasicAuthList, LetsInListedUsersWithTheirPasswordOnly) {
  BasicAuth auth("Admin-Area", {{"bob", hash_of("s3cret", "$2y$")}, {"alice", hash_of("wonder", "$6$")}});
  EXPECT_TRUE(auth.allows("Basic Ym9iOnMzY3JldA=="));   // bob:s3cret
  EXPECT_TRUE(auth.allows("Basic YWxpY2U6d29uZGVy"));   // alice:wonder
  EXPECT_FALSE(auth.allows("Basic Ym9iOndvbmRlcg=="));  // bob:wonder
  EXPECT_FALSE(auth.allows("Basic Y2Fyb2w6czNjcmV0"));  // carol:s3cret, not listed
  EXPECT_FALSE(auth.allows(std::nullopt));
  EXPECT_FALSE(auth.allows("Bearer Ym9iOnMzY3JldA=="));
}

TEST(BasicAuthList, AnEmptyListLetsNobodyIn) {
  BasicAuth auth("Protected-Content", {});
  EXPECT_FALSE(auth.allows("Basic Ym9iOnMzY3JldA=="));
}

TEST(BasicAuthList, RemembersVerifiedCredentialsButNotFailures) {
  BasicAuth auth("r", {{"bob", hash_of("s3cret", "$2y$")}});
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(auth.allows("Basic Ym9iOnMzY3JldA=="));
  EXPECT_EQ(auth.verifications(), 1u) << "one bcrypt verification, then the memory";
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(auth.allows("Basic Ym9iOndvbmRlcg=="));
  EXPECT_EQ(auth.verifications(), 4u) << "a wrong password is verified every time";
}

TEST(BasicAuthList, IsSafeToShareBetweenEventLoops) {
  BasicAuth auth("r", {{"bob", hash_of("s3cret", "$6$")}});
  std::vector<std::thread> loops;
  std::atomic<int> allowed{0};
  for (int t = 0; t < 4; ++t)
    loops.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        allowed += auth.allows("Basic Ym9iOnMzY3JldA==") ? 1 : 0;
    });
  for (auto& l : loops)
    l.join();
  EXPECT_EQ(allowed, 200);
}

}  // namespace
}  // namespace metalgate::proxy
