// Parsed by hand: OpenSSL reads a ClientHello only inside a server handshake (SSL_CTX_set_client_hello_cb),
// which would answer the client, and a passthrough peek must not.
#include "engine/tls/client_hello.h"

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace metalgate::tls {

namespace {

using Status = ClientHelloPeek::Status;

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
constexpr unsigned kHandshakeRecord = 22;
constexpr unsigned kMaxRecordMinor = 4;          // 0x0304
constexpr std::size_t kRecordHeader = 5;         // type, version, uint16 length
constexpr std::size_t kMaxRecordLength = 16384;  // 2^14 (RFC 8446 §5.1)
constexpr unsigned kClientHelloType = 1;
constexpr std::size_t kMessageHeader = 4;  // msg_type, uint24 length
constexpr std::size_t kServerNameExtension = 0;
constexpr std::size_t kHostNameType = 0;
constexpr std::size_t kMaxHostName = 253;  // without the trailing dot
constexpr std::size_t kMaxLabel = 63;

unsigned byte_at(std::string_view b, std::size_t i) {
  return static_cast<unsigned char>(b[i]);
}

std::string hex(unsigned value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4)
    out += kDigits[(value >> shift) & 0xf];
  return out;
}

std::string at_byte(std::size_t offset) {
  return " at byte " + std::to_string(offset);
}

// The first byte found that proves the input is no ClientHello: its offset in the input, and what is wrong.
struct Failure {
  std::size_t at = kNone;
  std::string why;
  bool failed() const { return at != kNone; }
};

// Where the payload of one record starts, in the reassembled handshake bytes and in the input.
struct Segment {
  std::size_t payload_at;
  std::size_t input_at;
};

// The payload of the consecutive handshake records at the start of the input, cut at the end of the
// ClientHello once its length is known.
struct Reassembly {
  std::string payload;
  std::vector<Segment> segments;
  std::size_t message_size = kNone;  // the handshake header and body, once the header is in
  Failure failure;                   // a record header that proves the input is no hello
};

std::size_t input_offset(const std::vector<Segment>& segments, std::size_t payload_at) {
  std::size_t offset = payload_at;
  for (const Segment& s : segments)
    if (s.payload_at <= payload_at) offset = s.input_at + (payload_at - s.payload_at);
  return offset;
}

// The least input offset the hello can end at when the record at `record_at`, of `length` bytes, carries
// the payload from `payload_at` on and the payload must reach `target` (> payload_at) bytes: within this
// record, or past it after at least one more record header.
std::size_t least_end(std::size_t record_at, std::size_t length, std::size_t payload_at, std::size_t target) {
  const std::size_t rest = target - payload_at;
  return record_at + kRecordHeader + rest + (rest <= length ? 0 : kRecordHeader);
}

std::string past_budget(std::size_t end) {
  return ": the ClientHello would end at byte " + std::to_string(end) + ", past kMaxClientHelloBytes (" +
         std::to_string(kMaxClientHelloBytes) + ")";
}

std::size_t fail(Reassembly& re, std::size_t at, std::string why) {
  re.failure = Failure{at, std::move(why)};
  return kNone;
}

// Learns the handshake message's size from its header, now in the payload of the record at `record_at`.
void learn_message_size(Reassembly& re, std::size_t record_at, std::size_t length, std::size_t payload_at) {
  const std::string_view p = re.payload;
  re.message_size = kMessageHeader + ((byte_at(p, 1) << 16) | (byte_at(p, 2) << 8) | byte_at(p, 3));
  const std::size_t end = least_end(record_at, length, payload_at, re.message_size);
  if (end > kMaxClientHelloBytes)
    fail(re, input_offset(re.segments, 1),
         "handshake length " + std::to_string(re.message_size - kMessageHeader) +
             at_byte(input_offset(re.segments, 1)) + past_budget(end));
}

// Adds the record at `at` to `re`: the offset of the next record, or kNone when the input ends inside this
// one or one of its header bytes proves the input is no hello (re.failure).
std::size_t take_record(std::string_view in, std::size_t at, Reassembly& re) {
  if (at >= in.size()) return kNone;
  if (const unsigned type = byte_at(in, at); type != kHandshakeRecord)
    return fail(re, at, "record type " + hex(type, 2) + at_byte(at) + " is not handshake (22)");
  if (at + 1 >= in.size()) return kNone;
  if (const unsigned major = byte_at(in, at + 1); major != 3)
    return fail(re, at + 1, "record version major " + hex(major, 2) + at_byte(at + 1) + " is not 3");
  if (at + 2 >= in.size()) return kNone;
  if (const unsigned minor = byte_at(in, at + 2); minor > kMaxRecordMinor)
    return fail(re, at + 2, "record version minor " + hex(minor, 2) + at_byte(at + 2) + " is above 4");
  if (at + 4 >= in.size()) return kNone;
  const std::size_t length = (byte_at(in, at + 3) << 8) | byte_at(in, at + 4);
  if (length == 0 || length > kMaxRecordLength)
    return fail(re, at + 3, "record length " + std::to_string(length) + at_byte(at + 3) + " is not 1..16384");
  const std::size_t target = re.message_size != kNone ? re.message_size : kMessageHeader;
  if (const std::size_t end = least_end(at, length, re.payload.size(), target); end > kMaxClientHelloBytes)
    return fail(re, at + 3, "record length " + std::to_string(length) + at_byte(at + 3) + past_budget(end));
  const std::size_t body = at + kRecordHeader;
  const std::size_t got = std::min(length, in.size() - body);
  const std::size_t payload_at = re.payload.size();
  re.segments.push_back(Segment{payload_at, body});
  re.payload.append(in.substr(body, got));
  if (re.message_size == kNone && re.payload.size() >= kMessageHeader)
    learn_message_size(re, at, length, payload_at);
  if (re.payload.size() > re.message_size) re.payload.resize(re.message_size);  // bytes after the hello
  if (re.failure.failed() || got < length) return kNone;
  return body + length;
}

// Reassembles the handshake records until the hello is complete, the input ends, or a record is wrong.
Reassembly reassemble(std::string_view in) {
  Reassembly re;
  std::size_t at = 0;
  while (at != kNone && re.payload.size() < re.message_size)
    at = take_record(in, at, re);
  return re;
}

// A sticky reader of the reassembled handshake message. The first stop (the received bytes end, or a byte
// proves the input is no hello) is kept and every read after it is a no-op giving 0, so the first bad byte
// is the one reported. Every read is bounded by the received payload and by its parent's `limit`.
class Reader {
 public:
  explicit Reader(const Reassembly& re) : re_(re) {}
  bool ok() const { return !stopped_; }
  std::size_t pos() const { return pos_; }
  const Failure& failure() const { return failure_; }

  // Stops at payload offset `at` with a failure reading "<before> at byte N<after>".
  void fail(std::size_t at, const std::string& before, const std::string& after) {
    if (stopped_) return;
    stopped_ = true;
    const std::size_t offset = input_offset(re_.segments, at);
    failure_ = Failure{offset, before + at_byte(offset) + after};
  }

  // An n-byte big-endian integer, `what`, that must end by `limit`.
  std::size_t uint(std::size_t n, std::size_t limit, const std::string& what) {
    if (!fits(n, limit, what)) return 0;
    std::size_t value = 0;
    for (std::size_t i = 0; i < n; ++i)
      value = (value << 8) | byte_at(re_.payload, pos_ + i);
    pos_ += n;
    return value;
  }

  // The length of a vector `what`<min..max> with a `len_bytes` length, that must end by `limit`; returns the
  // payload offset where the vector ends.
  std::size_t vector_end(std::size_t len_bytes, std::size_t min, std::size_t max, std::size_t limit,
                         const std::string& what) {
    const std::size_t at = pos_;
    const std::size_t length = uint(len_bytes, limit, what + " length");
    if (!ok()) return pos_;
    const std::string field = what + " length " + std::to_string(length);
    if (length < min || length > max)
      fail(at, field, " is not " + std::to_string(min) + ".." + std::to_string(max));
    else if (length > limit - pos_)
      fail(at, field, " runs past its enclosing field (" + std::to_string(limit - pos_) + " bytes left)");
    return ok() ? pos_ + length : pos_;
  }

  // Skips the n bytes of `what`, that must end by `limit`.
  void skip(std::size_t n, std::size_t limit, const std::string& what) {
    if (fits(n, limit, what)) pos_ += n;
  }

  // The received part of the next n bytes (which the caller has bounded by their parent).
  std::string_view peek(std::size_t n) const {
    if (!ok()) return {};
    return std::string_view(re_.payload).substr(pos_, std::min(n, re_.payload.size() - pos_));
  }

 private:
  bool fits(std::size_t n, std::size_t limit, const std::string& what) {
    if (!ok()) return false;
    if (n > limit - pos_) {
      fail(pos_, what, " runs past its enclosing field (" + std::to_string(limit - pos_) + " bytes left)");
      return false;
    }
    if (n > re_.payload.size() - pos_) stopped_ = true;  // the hello goes on past the bytes received
    return ok();
  }

  const Reassembly& re_;
  std::size_t pos_ = 0;
  bool stopped_ = false;
  Failure failure_;
};

bool is_letter_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The first byte of `name` (a host name, or the received start of one) that no DNS name has there, and what
// is wrong with it; kNone when there is none. At most kMaxHostName bytes, and one more if it is a final dot.
std::pair<std::size_t, std::string> first_bad_host_byte(std::string_view name) {
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (i >= kMaxHostName && c != '.') return {i, " makes the host name longer than 253 bytes"};
    if (c == '.') {
      if (label == 0) return {i, " starts an empty label"};
      label = 0;
    } else if (!is_letter_or_digit(c) && c != '-') {
      return {i, " is not a letter, digit, '-' or '.'"};
    } else if (++label > kMaxLabel) {
      return {i, " makes a label longer than 63 bytes"};
    }
  }
  return {kNone, {}};
}

// A host_name that ends at `end`: checked byte by byte as it arrives, then lower-cased without its final dot.
std::string read_host_name(Reader& r, std::size_t end) {
  const std::size_t start = r.pos();
  if (end - start > kMaxHostName + 1) {
    r.fail(start - 2, "host_name length " + std::to_string(end - start),
           " is over 254 (253 and a final dot)");
    return {};
  }
  const std::string_view received = r.peek(end - start);
  if (const auto [bad, why] = first_bad_host_byte(received); bad != kNone) {
    r.fail(start + bad, "host name byte " + hex(static_cast<unsigned char>(received[bad]), 2), why);
    return {};
  }
  std::string name(received);
  r.skip(end - start, end, "host_name");
  if (!r.ok()) return {};
  if (name.back() == '.') name.pop_back();
  for (char& c : name)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return name;
}

// server_name's extension_data (RFC 6066 §3): a ServerNameList filling it; the first host_name is the name.
// Every entry starts with a 16-bit length, as RFC 6066 requires of future name types.
void read_server_name(Reader& r, std::size_t end, std::string& server_name) {
  const std::size_t list_at = r.pos();
  const std::size_t list_end = r.vector_end(2, 1, 0xffff, end, "server_name_list");
  if (r.ok() && list_end != end)
    r.fail(list_at, "server_name_list length " + std::to_string(list_end - list_at - 2),
           " leaves " + std::to_string(end - list_end) + " bytes of its extension after it");
  bool found = false;
  while (r.ok() && r.pos() < list_end) {
    const std::size_t name_type = r.uint(1, list_end, "name_type");
    const bool host = r.ok() && name_type == kHostNameType;
    const std::size_t name_end = r.vector_end(2, host ? 1 : 0, 0xffff, list_end, host ? "host_name" : "name");
    if (host && !found && r.ok()) {
      server_name = read_host_name(r, name_end);
      found = true;
    }
    r.skip(name_end - r.pos(), name_end, "name");
  }
}

// extensions up to `end`: each type at most once (RFC 8446 §4.2), each extension_data inside the block.
void read_extensions(Reader& r, std::size_t end, std::string& server_name) {
  std::bitset<0x10000> seen;
  while (r.ok() && r.pos() < end) {
    const std::size_t type_at = r.pos();
    const std::size_t type = r.uint(2, end, "extension type");
    if (r.ok() && seen.test(type))
      r.fail(type_at, "extension type " + std::to_string(type), " appears a second time");
    if (r.ok()) seen.set(type);
    const std::size_t data_end = r.vector_end(2, 0, 0xffff, end, "extension_data");
    if (r.ok() && type == kServerNameExtension) read_server_name(r, data_end, server_name);
    r.skip(data_end - r.pos(), data_end, "extension_data");
  }
}

// The handshake message: true once the whole ClientHello is read and valid.
bool read_client_hello(Reader& r, std::string& server_name) {
  if (const std::size_t type = r.uint(1, kNone, "handshake type"); r.ok() && type != kClientHelloType)
    r.fail(0, "handshake type " + std::to_string(type), " is not client_hello (1)");
  const std::size_t end = kMessageHeader + r.uint(3, kNone, "handshake length");
  if (const std::size_t version = r.uint(2, end, "legacy_version"); r.ok() && (version >> 8) != 3)
    r.fail(kMessageHeader, "legacy_version " + hex(static_cast<unsigned>(version), 4), " is not 3.x");
  r.skip(32, end, "random");
  const std::size_t session_end = r.vector_end(1, 0, 32, end, "session_id");
  r.skip(session_end - r.pos(), end, "session_id");
  const std::size_t suites_at = r.pos();
  const std::size_t suites_end = r.vector_end(2, 2, 0xfffe, end, "cipher_suites");
  if (r.ok() && (suites_end - suites_at) % 2 != 0)
    r.fail(suites_at, "cipher_suites length " + std::to_string(suites_end - suites_at - 2), " is odd");
  r.skip(suites_end - r.pos(), end, "cipher_suites");
  const std::size_t compression_end = r.vector_end(1, 1, 0xff, end, "legacy_compression_methods");
  r.skip(compression_end - r.pos(), end, "legacy_compression_methods");
  if (!r.ok() || r.pos() == end) return r.ok();  // no extensions block, as before TLS 1.3 a hello may end
  // extensions<0..2^16-1> (RFC 5246): RFC 8446's <8..> holds only for TLS 1.3 clients, not told apart here.
  const std::size_t extensions_at = r.pos();
  const std::size_t extensions_end = r.vector_end(2, 0, 0xffff, end, "extensions");
  if (r.ok() && extensions_end != end)
    r.fail(extensions_at, "extensions length " + std::to_string(extensions_end - extensions_at - 2),
           " leaves " + std::to_string(end - extensions_end) + " bytes of the ClientHello after it");
  read_extensions(r, extensions_end, server_name);
  return r.ok() && r.pos() == end;
}

}  // namespace

ClientHelloPeek peek_client_hello(std::string_view bytes) {
  const Reassembly re = reassemble(bytes);
  Reader r(re);
  std::string server_name;
  const bool complete = read_client_hello(r, server_name);
  // The record layer and the message each stop at their first bad byte; the earlier of the two is the one.
  const Failure& first = r.failure().at <= re.failure.at ? r.failure() : re.failure;
  ClientHelloPeek peek;
  if (first.failed()) {
    peek.status = Status::kNotTls;
    peek.why = first.why;
  } else if (complete) {
    peek.status = Status::kHello;
    peek.server_name = std::move(server_name);
  }
  return peek;
}

}  // namespace metalgate::tls
