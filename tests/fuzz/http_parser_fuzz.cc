// libFuzzer target for the HTTP/1 head parser and the chunked decoder: any bytes in, and the parser must
// neither crash nor read outside its input, and what it accepts must be self-consistent (views inside the
// buffer, the head length within the input, framing facts that agree with each other).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/http/chunked.h"
#include "engine/http/parser.h"

using namespace metalgate;

static void check(bool ok) {
  if (!ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string buffer(reinterpret_cast<const char*>(data), size);
  http::Limits limits;
  limits.max_head_bytes = 4096;
  limits.max_headers = 32;

  http::RequestHead request;
  http::ParseError error;
  if (http::parse_request(buffer.data(), buffer.size(), limits, request, error) == http::ParseOutcome::kComplete) {
    const char* begin = buffer.data();
    const char* end = begin + request.head_length;
    check(request.head_length <= buffer.size());
    check(request.method.data() >= begin && request.method.data() + request.method.size() <= end);
    check(request.target.data() >= begin && request.target.data() + request.target.size() <= end);
    for (const auto& h : request.headers) {
      check(h.name.data() >= begin && h.name.data() + h.name.size() <= end);
      check(h.value.data() >= begin && h.value.data() + h.value.size() <= end);
      for (char c : h.value) check(c != '\r' && c != '\n' && c != '\0');
    }
    check(request.headers.size() <= limits.max_headers);
    if (request.facts.close_after) check(request.facts.framing == http::BodyFraming::kChunked);
    if (request.facts.framing == http::BodyFraming::kContentLength) check(request.facts.content_length > 0);
    (void)request.path();
  }

  http::ResponseHead response;
  std::string copy(reinterpret_cast<const char*>(data), size);
  if (http::parse_response(copy.data(), copy.size(), limits, size % 2 == 0, response, error) ==
      http::ParseOutcome::kComplete) {
    check(response.head_length <= copy.size());
    check(response.status >= 0 && response.status <= 999);
  }

  // The chunked decoder over the same bytes, fed in two pieces: never consumes more than it was given, the
  // data it reports is a part of its input, and check() on the same bytes (a look-ahead that leaves the
  // decoder as it is) predicts exactly what feed() then does.
  http::ChunkedDecoder decoder;
  std::size_t split = size ? data[0] % (size + 1) : 0;
  std::size_t consumed = 0;
  std::string decoded;
  http::ChunkedDecoder::Result last;
  for (auto piece : {runtime::ByteView(data, split), runtime::ByteView(data + split, size - split)}) {
    const auto predicted = decoder.check(piece);
    auto r = decoder.feed(piece, [&](runtime::ByteView v) {
      check(v.data() >= piece.data() && v.data() + v.size() <= piece.data() + piece.size());
      decoded.append(runtime::as_chars(v));
    });
    check(predicted.consumed == r.consumed && predicted.done == r.done && predicted.error == r.error &&
          std::string_view(predicted.why) == std::string_view(r.why));
    check(r.consumed <= piece.size());
    check(!(r.done && r.error));
    check(r.error == (*r.why != '\0'));
    consumed += r.consumed;
    last = r;
    if (r.done || r.error) break;
  }
  check(consumed <= size);
  check(decoded.size() <= consumed);

  // reframe() over the same split appends the same body in canonical framing; a fresh decoder reads that back
  // without error, to the same data and trailers, and ends exactly where the original ended.
  http::ChunkedDecoder reframer;
  std::string framed;
  std::size_t reframed_consumed = 0;
  for (auto piece : {runtime::ByteView(data, split), runtime::ByteView(data + split, size - split)}) {
    auto r = reframer.reframe(piece, framed);
    reframed_consumed += r.consumed;
    if (r.done || r.error) break;
  }
  check(reframed_consumed == consumed);
  http::ChunkedDecoder reader;
  std::string redecoded;
  auto again = reader.feed(runtime::as_bytes(framed),
                           [&](runtime::ByteView v) { redecoded.append(runtime::as_chars(v)); });
  check(!again.error);
  check(again.consumed == framed.size());
  check(redecoded == decoded);
  check(again.done == (last.done && !last.error));
  if (again.done) check(reader.trailers() == decoder.trailers());
  return 0;
}
