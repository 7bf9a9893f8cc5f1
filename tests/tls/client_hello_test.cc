// The ClientHello peek on its own: real hellos written by OpenSSL's own client, hand-built hellos broken one
// field at a time, every prefix of each, and properties over random and mutated bytes (RapidCheck shrinks
// any counterexample).
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/tls/client_hello.h"

namespace metalgate::tls {
namespace {

using namespace std::string_literals;
using Status = ClientHelloPeek::Status;

// ---- Real hellos

// What OpenSSL's own client writes first: SSL_connect on memory BIOs sends its ClientHello and waits to read.
// `server_name`: the SNI (none when null); `max_version`: SSL_set_max_proto_version (0: OpenSSL's highest);
// `alpn`: protocols in ALPN's wire format, length-prefixed (none when empty).
std::string openssl_client_hello(const char* server_name, int max_version = 0, const std::string& alpn = "") {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), rbio, wbio);  // the SSL owns both from here
  if (server_name != nullptr) {
    EXPECT_EQ(SSL_set_tlsext_host_name(ssl.get(), server_name), 1);
  }
  if (max_version != 0) {
    EXPECT_EQ(SSL_set_max_proto_version(ssl.get(), max_version), 1);
  }
  if (!alpn.empty()) {
    EXPECT_EQ(SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(alpn.data()),
                                  static_cast<unsigned>(alpn.size())),
              0);
  }
  const int ret = SSL_connect(ssl.get());
  EXPECT_EQ(ret, -1);
  EXPECT_EQ(SSL_get_error(ssl.get(), ret), SSL_ERROR_WANT_READ);
  std::string hello;
  char buffer[4096];
  for (int n; (n = BIO_read(wbio, buffer, sizeof buffer)) > 0;)
    hello.append(buffer, static_cast<std::size_t>(n));
  return hello;
}

const std::string& real_hello() {
  static const std::string hello = openssl_client_hello("Shop.Example.com");
  return hello;
}

// ---- Hand-built hellos

std::string u8(std::size_t v) {
  return std::string(1, static_cast<char>(v & 0xff));
}
std::string u16(std::size_t v) {
  return u8(v >> 8) + u8(v);
}
std::string u24(std::size_t v) {
  return u8(v >> 16) + u16(v & 0xffff);
}

std::string record(unsigned type, const std::string& payload, unsigned version = 0x0301) {
  return u8(type) + u16(version) + u16(payload.size()) + payload;
}
std::string handshake(unsigned type, const std::string& body) {
  return u8(type) + u24(body.size()) + body;
}
std::string extension(unsigned type, const std::string& data) {
  return u16(type) + u16(data.size()) + data;
}
// A server_name extension whose ServerNameList holds one host_name.
std::string sni(const std::string& name) {
  return extension(0, u16(name.size() + 3) + u8(0) + u16(name.size()) + name);
}

// The ClientHello body field by field, each vector's contents (its length prefix is added).
struct Body {
  std::string version = "\x03\x03"s;
  std::string random = std::string(32, '\x5a');
  std::string session_id;
  std::string cipher_suites = "\x13\x01\xc0\x2f"s;
  std::string compression = "\x00"s;
  std::optional<std::string> extensions = sni("www.example.com") + extension(0x2b, "\x02\x03\x04"s);

  std::string build() const {
    std::string b = version + random + u8(session_id.size()) + session_id + u16(cipher_suites.size()) +
                    cipher_suites + u8(compression.size()) + compression;
    if (extensions) b += u16(extensions->size()) + *extensions;
    return b;
  }
};

// A hello in one handshake record.
std::string hello(const Body& body) {
  return record(22, handshake(1, body.build()));
}
std::string hello_with_extensions(const std::string& extensions) {
  Body b;
  b.extensions = extensions;
  return hello(b);
}

// A hello of `message` handshake bytes (4..2^14), padded with extension 21.
std::string padded_hello(std::size_t message) {
  const std::size_t base = handshake(1, Body().build()).size();
  Body b;
  *b.extensions += extension(21, std::string(message - base - 4, '\0'));
  return hello(b);
}

// The handshake payload of a hello in one record, cut into records of the given sizes (or fewer bytes, where
// the payload ends); what is left after them goes in full records of 2^14 bytes.
std::string reframe(const std::string& one_record, const std::vector<std::size_t>& sizes) {
  std::string payload = one_record.substr(5);
  std::string out;
  for (std::size_t i = 0; !payload.empty(); ++i) {
    const std::size_t size = std::min(i < sizes.size() ? sizes[i] : std::size_t{16384}, payload.size());
    out += record(22, payload.substr(0, size));
    payload.erase(0, size);
  }
  return out;
}

// ---- Expectations

std::string describe(const ClientHelloPeek& p) {
  const char* names[] = {"kNeedMore", "kHello", "kNotTls"};
  return std::string(names[static_cast<int>(p.status)]) + " name=\"" + p.server_name + "\" why=\"" + p.why +
         "\"";
}

void expect_hello(const std::string& bytes, const std::string& name) {
  const ClientHelloPeek p = peek_client_hello(bytes);
  EXPECT_EQ(p.status, Status::kHello) << describe(p);
  EXPECT_EQ(p.server_name, name);
  EXPECT_EQ(p.why, "");
}

void expect_not_tls(const std::string& bytes, const std::string& why_part = "") {
  const ClientHelloPeek p = peek_client_hello(bytes);
  EXPECT_EQ(p.status, Status::kNotTls) << describe(p);
  EXPECT_NE(p.why.find(why_part), std::string::npos) << p.why << " should say " << why_part;
  EXPECT_EQ(p.server_name, "");
}

// Every strict prefix asks for more.
void expect_prefixes_need_more(const std::string& bytes) {
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const ClientHelloPeek p = peek_client_hello(std::string_view(bytes).substr(0, n));
    ASSERT_EQ(p.status, Status::kNeedMore) << "prefix of " << n << " bytes: " << describe(p);
  }
}

// A valid DNS name, lower-case, without a trailing dot: written apart from the parser's own check.
bool is_lower_case_dns_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      const std::size_t label = i - label_start;
      if (label == 0 || label > 63) return false;
      label_start = i + 1;
    } else if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
                 name[i] == '-')) {
      return false;
    }
  }
  return true;
}

// ---- OpenSSL's own hellos

TEST(ClientHelloPeek, AnOpensslHelloGivesItsServerNameLowerCased) {
  ASSERT_EQ(real_hello()[0], '\x16');
  expect_hello(real_hello(), "shop.example.com");
}

TEST(ClientHelloPeek, AnOpensslHelloWithoutServerNameGivesAnEmptyName) {
  expect_hello(openssl_client_hello(nullptr), "");
}

TEST(ClientHelloPeek, AnOpensslTls12OnlyHelloGivesItsServerName) {
  const std::string tls12 = openssl_client_hello("legacy.example.com", TLS1_2_VERSION);
  expect_hello(tls12, "legacy.example.com");
  EXPECT_NE(tls12, real_hello());
}

TEST(ClientHelloPeek, AnOpensslHelloWithAlpnGivesItsServerName) {
  expect_hello(openssl_client_hello("api.example.com", 0, "\x02h2\x08http/1.1"s), "api.example.com");
}

TEST(ClientHelloPeek, EveryStrictPrefixOfARealHelloNeedsMore) {
  expect_prefixes_need_more(real_hello());
  expect_hello(real_hello(), "shop.example.com");
}

TEST(ClientHelloPeek, BytesAfterTheHelloAreIgnored) {
  expect_hello(real_hello() + "\x17\x03\x03\x00\x05hello"s, "shop.example.com");
  expect_hello(real_hello() + "GET / HTTP/1.1\r\n", "shop.example.com");
  // The hello's own record may carry more handshake bytes after it.
  const std::string payload = real_hello().substr(5) + "\x0b\x00\x00\x00"s;
  expect_hello(record(22, payload), "shop.example.com");
}

TEST(ClientHelloPeek, AHelloFragmentedOverThreeRecordsIsReassembled) {
  const std::string three = reframe(real_hello(), {3, 60});
  ASSERT_EQ(three.size(), real_hello().size() + 10);
  expect_hello(three, "shop.example.com");
  expect_prefixes_need_more(three);
}

TEST(ClientHelloPeek, ARecordOtherThanHandshakeBeforeTheHelloEndsIsNotTls) {
  const std::string payload = real_hello().substr(5);
  const std::string broken =
      record(22, payload.substr(0, 40)) + record(23, "x") + record(22, payload.substr(40));
  expect_not_tls(broken, "record type 0x17 at byte 45 is not handshake (22)");
}

// ---- Not TLS at the first byte that says so

TEST(ClientHelloPeek, PlainHttpIsNotTlsAfterItsFirstByte) {
  const ClientHelloPeek p = peek_client_hello("G");
  EXPECT_EQ(p.status, Status::kNotTls);
  EXPECT_EQ(p.why, "record type 0x47 at byte 0 is not handshake (22)");
  expect_not_tls("GET / HTTP/1.1\r\n", "record type 0x47 at byte 0");
  EXPECT_EQ(peek_client_hello("").status, Status::kNeedMore);
  EXPECT_EQ(peek_client_hello("\x16"s).status, Status::kNeedMore);
}

TEST(ClientHelloPeek, AnSslv2StyleHelloIsNotTls) {
  expect_not_tls("\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10"s, "record type 0x80 at byte 0");
}

TEST(ClientHelloPeek, RecordVersionsOutside3_0To3_4AreNotTls) {
  expect_not_tls("\x16\x02"s, "record version major 0x02 at byte 1 is not 3");
  expect_not_tls("\x16\x03\x05"s, "record version minor 0x05 at byte 2 is above 4");
  for (unsigned version : {0x0300u, 0x0301u, 0x0303u, 0x0304u})
    expect_hello(record(22, handshake(1, Body().build()), version), "www.example.com");
}

TEST(ClientHelloPeek, RecordLengthZeroOrAbove2To14IsNotTls) {
  expect_not_tls("\x16\x03\x01\x00\x00"s, "record length 0 at byte 3 is not 1..16384");
  expect_not_tls("\x16\x03\x01\x40\x01"s, "record length 16385 at byte 3 is not 1..16384");
  EXPECT_EQ(peek_client_hello("\x16\x03\x01\x40\x00"s).status, Status::kNeedMore);
  // A zero-length record in the middle of a fragmented hello too.
  const std::string payload = real_hello().substr(5);
  expect_not_tls(record(22, payload.substr(0, 10)) + record(22, "") + record(22, payload.substr(10)),
                 "record length 0 at byte 18");
}

TEST(ClientHelloPeek, AHandshakeOtherThanClientHelloIsNotTls) {
  expect_not_tls(record(22, handshake(2, Body().build())),
                 "handshake type 2 at byte 5 is not client_hello (1)");
  expect_not_tls("\x16\x03\x03\x00\x30\x02"s, "handshake type 2 at byte 5");
}

TEST(ClientHelloPeek, ALegacyVersionOtherThan3xIsNotTls) {
  Body b;
  b.version = "\x02\x00"s;
  expect_not_tls(hello(b), "legacy_version 0x0200 at byte 9 is not 3.x");
}

TEST(ClientHelloPeek, ASessionIdOver32BytesIsNotTls) {
  Body b;
  b.session_id = std::string(32, 's');
  expect_hello(hello(b), "www.example.com");
  b.session_id = std::string(33, 's');
  expect_not_tls(hello(b), "session_id length 33 at byte 43 is not 0..32");
  expect_not_tls(hello(b).substr(0, 44), "session_id length 33");
}

TEST(ClientHelloPeek, AnOddOrEmptyCipherSuitesListIsNotTls) {
  Body b;
  b.cipher_suites = "\x13\x01\x00"s;
  expect_not_tls(hello(b), "cipher_suites length 3 at byte 44 is odd");
  b.cipher_suites = "";
  expect_not_tls(hello(b), "cipher_suites length 0 at byte 44 is not 2..65534");
}

TEST(ClientHelloPeek, EmptyCompressionMethodsAreNotTls) {
  Body b;
  b.compression = "";
  expect_not_tls(hello(b), "legacy_compression_methods length 0");
}

TEST(ClientHelloPeek, AHelloWithoutAnExtensionsBlockIsAHelloWithoutName) {
  Body b;
  b.extensions.reset();
  expect_hello(hello(b), "");
  expect_prefixes_need_more(hello(b));
  b.extensions = "";
  expect_hello(hello(b), "");
}

TEST(ClientHelloPeek, AnExtensionRunningPastItsBlockIsNotTls) {
  expect_not_tls(hello_with_extensions(u16(0x0a) + u16(20) + "abcd"),
                 "extension_data length 20 at byte 56 runs past its enclosing field (4 bytes left)");
  expect_not_tls(hello_with_extensions(sni("a.example.com") + "\x00"s), "extension type at byte");
}

TEST(ClientHelloPeek, LengthsThatDoNotFitTheirParentAreNotTls) {
  // The handshake message longer than the hello's bytes claim: the session_id runs past its end.
  const std::string body = Body().build();
  expect_not_tls(record(22, u8(1) + u24(34) + body.substr(0, 34)),
                 "session_id length at byte 43 runs past its enclosing field (0 bytes left)");
  // Bytes left in the message after the extensions block.
  Body b;
  const std::string payload = handshake(1, b.build() + "zz");
  expect_not_tls(record(22, payload), "leaves 2 bytes of the ClientHello after it");
  // A ServerNameList shorter than its extension.
  expect_not_tls(hello_with_extensions(extension(0, u16(8) + u8(0) + u16(5) + "a.com" + "x")),
                 "leaves 1 bytes of its extension after it");
  // A host_name longer than its list.
  expect_not_tls(hello_with_extensions(extension(0, u16(8) + u8(0) + u16(6) + "a.com")),
                 "host_name length 6");
  // An empty server_name extension (what a server sends back, never a client).
  expect_not_tls(hello_with_extensions(extension(0, "")), "server_name_list length");
}

TEST(ClientHelloPeek, AHostNameWithASpaceOrANulIsNotTls) {
  expect_not_tls(hello_with_extensions(sni("shop example.com")),
                 "host name byte 0x20 at byte 67 is not a letter, digit, '-' or '.'");
  expect_not_tls(hello_with_extensions(sni("shop\0.example.com"s)), "host name byte 0x00 at byte 67");
  EXPECT_EQ(peek_client_hello(hello_with_extensions(sni("shop example.com")).substr(0, 67)).status,
            Status::kNeedMore);
  expect_not_tls(hello_with_extensions(sni("shop example.com")).substr(0, 68), "host name byte 0x20");
}

TEST(ClientHelloPeek, AHostNameThatIsNoDnsNameIsNotTls) {
  for (const std::string& bad : {"."s, ".example.com"s, "a..example.com"s, "example.com.."s,
                                 "a_b.example.com"s, std::string(64, 'a') + ".com", "\xc3\xa9t\xc3\xa9.fr"s})
    expect_not_tls(hello_with_extensions(sni(bad)), "host name byte");
  const std::string label(63, 'x');
  const std::string too_long = label + "." + label + "." + label + "." + std::string(62, 'y');
  ASSERT_EQ(too_long.size(), 254u);
  expect_not_tls(hello_with_extensions(sni(too_long)),
                 "host name byte 0x79 at byte 316 makes the host name longer than 253 bytes");
  expect_not_tls(hello_with_extensions(sni(std::string(255, 'a'))), "host_name length 255");
  expect_not_tls(hello_with_extensions(extension(0, u16(3) + u8(0) + u16(0))), "host_name length 0");
}

TEST(ClientHelloPeek, TheLongestHostNamesAreAccepted) {
  const std::string label(63, 'x');
  const std::string longest = label + "." + label + "." + label + "." + std::string(61, 'y');
  ASSERT_EQ(longest.size(), 253u);
  expect_hello(hello_with_extensions(sni(longest)), longest);
  expect_hello(hello_with_extensions(sni(longest + ".")), longest);
}

TEST(ClientHelloPeek, ATrailingDotIsDroppedAndTheNameLowerCased) {
  expect_hello(hello_with_extensions(sni("WWW.Example.COM.")), "www.example.com");
  expect_hello(hello_with_extensions(sni("xn--bcher-kva.example")), "xn--bcher-kva.example");
}

TEST(ClientHelloPeek, AnExtensionTypeSeenTwiceIsNotTls) {
  expect_not_tls(hello_with_extensions(sni("a.example.com") + sni("b.example.com")),
                 "extension type 0 at byte 76 appears a second time");
  expect_not_tls(hello_with_extensions(sni("a.example.com") + extension(0x2b, "") + extension(0x2b, "")),
                 "extension type 43");
}

TEST(ClientHelloPeek, TheFirstHostNameOfTheListIsTaken) {
  const std::string list = u8(7) + u16(3) + "abc" + u8(0) + u16(5) + "first" + u8(0) + u16(6) + "second";
  expect_hello(hello_with_extensions(extension(0, u16(list.size()) + list)), "first");
}

TEST(ClientHelloPeek, AHelloEndingPastTheBudgetIsNotTlsAsSoonAsItsLengthSaysSo) {
  // A 24-bit handshake length far past the budget: known at byte 8.
  expect_not_tls("\x16\x03\x01\x40\x00\x01\xff\xff\xff"s, "handshake length 16777215 at byte 6");
  EXPECT_EQ(peek_client_hello("\x16\x03\x01\x40\x00\x01\xff\xff"s).status, Status::kNeedMore);
}

TEST(ClientHelloPeek, AMaximalHelloFitsInFourRecordsButNotInFive) {
  const std::string full = padded_hello(16384);  // 2^14 handshake bytes: exactly one full record
  ASSERT_EQ(full.size(), 16384u + 5);
  expect_hello(full, "www.example.com");
  const std::string four = reframe(full, {4096, 4096, 4096});
  ASSERT_EQ(four.size(), kMaxClientHelloBytes);
  expect_hello(four, "www.example.com");
  // Known at the fourth record's length: a fifth must follow.
  expect_not_tls(reframe(full, {4096, 4096, 4096, 4000}),
                 "record length 4000 at byte 12306: the ClientHello would end at byte 16409, past "
                 "kMaxClientHelloBytes (16404)");
  // A hello of 3000 bytes in records of one byte each would take 18000 bytes: refused 2679 records in.
  const std::string ones = reframe(padded_hello(3000), std::vector<std::size_t>(3000, 1));
  ASSERT_EQ(ones.size(), 18000u);
  expect_not_tls(ones, "record length 1 at byte 16077: the ClientHello would end at byte 16405");
}

// ---- Properties

// A valid hello as random as the grammar allows, with the name it should give.
struct GeneratedHello {
  std::string bytes;
  std::string name;
};

rc::Gen<std::string> dns_names() {
  return rc::gen::exec([] {
    const int labels = *rc::gen::inRange(1, 5);
    std::string name;
    for (int i = 0; i < labels; ++i) {
      if (i > 0) name += '.';
      const int length = *rc::gen::inRange(1, 12);
      for (int j = 0; j < length; ++j)
        name += *rc::gen::element('a', 'Z', 'q', '0', '9', '-', 'M', 'x');
    }
    return name;
  });
}

rc::Gen<GeneratedHello> valid_hellos() {
  return rc::gen::exec([] {
    GeneratedHello g;
    Body b;
    b.random = *rc::gen::container<std::string>(32, rc::gen::arbitrary<char>());
    b.session_id = std::string(*rc::gen::inRange<std::size_t>(0, 33), 'i');
    b.cipher_suites = std::string(2 * *rc::gen::inRange<std::size_t>(1, 30), '\x13');
    std::vector<std::string> extensions;
    for (unsigned type : *rc::gen::container<std::set<unsigned>>(rc::gen::inRange(1u, 0x10000u)))
      extensions.push_back(extension(type, std::string(*rc::gen::inRange<std::size_t>(0, 20), 'e')));
    if (*rc::gen::arbitrary<bool>()) {
      std::string name = *dns_names();
      const bool trailing_dot = *rc::gen::arbitrary<bool>();
      extensions.insert(extensions.begin() + *rc::gen::inRange<std::size_t>(0, extensions.size() + 1),
                        sni(trailing_dot ? name + "." : name));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
      g.name = name;
    }
    std::string joined;
    for (const std::string& e : extensions)
      joined += e;
    if (!joined.empty() || *rc::gen::arbitrary<bool>())
      b.extensions = joined;
    else
      b.extensions.reset();
    g.bytes = reframe(hello(b),
                      *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(1, 80)));
    return g;
  });
}

// The answers for every prefix: once one is kHello or kNotTls, every longer prefix gives that same answer.
void check_monotone(const std::string& bytes) {
  std::optional<ClientHelloPeek> decided;
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const ClientHelloPeek p = peek_client_hello(std::string_view(bytes).substr(0, n));
    RC_ASSERT(p.status == Status::kNeedMore || p.status == Status::kHello || p.status == Status::kNotTls);
    if (p.status != Status::kNotTls) RC_ASSERT(p.why.empty());
    if (p.status == Status::kNotTls) RC_ASSERT(!p.why.empty());
    if (p.status != Status::kHello) RC_ASSERT(p.server_name.empty());
    if (p.status == Status::kHello && !p.server_name.empty())
      RC_ASSERT(is_lower_case_dns_name(p.server_name));
    if (decided) {
      RC_ASSERT(p.status == decided->status);
      RC_ASSERT(p.server_name == decided->server_name);
      RC_ASSERT(p.why == decided->why);
    } else if (p.status != Status::kNeedMore) {
      decided = p;
    }
  }
}

RC_GTEST_PROP(ClientHelloPeekProperties, AnyBytesGiveOneOfTheThreeAnswersAndAreMonotone,
              (const std::string& bytes)) {
  check_monotone(bytes);
  check_monotone("\x16\x03\x01"s + bytes);  // past the record header's first bytes too
}

RC_GTEST_PROP(ClientHelloPeekProperties, EveryPrefixOfAValidHelloNeedsMoreAndTheWholeGivesItsName, ()) {
  const GeneratedHello g = *valid_hellos();
  for (std::size_t n = 0; n < g.bytes.size(); ++n)
    RC_ASSERT(peek_client_hello(std::string_view(g.bytes).substr(0, n)).status == Status::kNeedMore);
  const std::string suffix = *rc::gen::arbitrary<std::string>();
  for (const std::string& whole : {g.bytes, g.bytes + suffix}) {
    const ClientHelloPeek p = peek_client_hello(whole);
    RC_ASSERT(p.status == Status::kHello);
    RC_ASSERT(p.server_name == g.name);
  }
}

RC_GTEST_PROP(ClientHelloPeekProperties, AValidHelloCutAnywhereGivesNeedMoreOrItsAnswer, ()) {
  const GeneratedHello g = *valid_hellos();
  const std::string bytes = g.bytes + *rc::gen::arbitrary<std::string>();
  check_monotone(bytes);
}

RC_GTEST_PROP(ClientHelloPeekProperties, FlippingOneByteOfARealHelloNeverCrashesAndNamesOnlyDnsNames, ()) {
  std::string bytes = real_hello();
  const std::size_t at = *rc::gen::inRange<std::size_t>(0, bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ *rc::gen::inRange(1, 256));
  check_monotone(bytes);
}

RC_GTEST_PROP(ClientHelloPeekProperties, FlippingBytesOfAValidHelloNeverCrashesAndNamesOnlyDnsNames, ()) {
  std::string bytes = (*valid_hellos()).bytes;
  const int flips = *rc::gen::inRange(1, 4);
  for (int i = 0; i < flips; ++i) {
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, bytes.size());
    bytes[at] = static_cast<char>(bytes[at] ^ *rc::gen::inRange(1, 256));
  }
  check_monotone(bytes);
}

// The budget is exact: a hello is taken when it ends within kMaxClientHelloBytes and refused otherwise, so
// no input of kMaxClientHelloBytes bytes is left undecided.
RC_GTEST_PROP(ClientHelloPeekProperties, AHelloIsTakenIfAndOnlyIfItEndsWithinTheBudget, ()) {
  const std::size_t message = *rc::gen::inRange<std::size_t>(200, 16385);
  const std::size_t size =
      *rc::gen::oneOf(rc::gen::element<std::size_t>(1, 2, 7, 4096, 4097, 5462, 8192, 16384),
                      rc::gen::inRange<std::size_t>(1, 16385));
  const std::string bytes =
      reframe(padded_hello(message), std::vector<std::size_t>(message / size + 1, size));
  const ClientHelloPeek whole = peek_client_hello(bytes);
  RC_ASSERT(whole.status == (bytes.size() <= kMaxClientHelloBytes ? Status::kHello : Status::kNotTls));
  if (bytes.size() > kMaxClientHelloBytes) {
    RC_ASSERT(whole.why.find("past kMaxClientHelloBytes") != std::string::npos);
    RC_ASSERT(peek_client_hello(std::string_view(bytes).substr(0, kMaxClientHelloBytes)).status ==
              Status::kNotTls);
  }
}

}  // namespace
}  // namespace metalgate::tls
