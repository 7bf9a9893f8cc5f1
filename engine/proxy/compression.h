// gzip for response bodies (zlib), streamed: data in, compressed bytes out, a bounded window of state per
// response. HAProxy's rules for when to compress live in the session (Accept-Encoding, status 200-203, not
// already encoded, the listed content types).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/bytes.h"

namespace metalgate::proxy {

class Compressor {
 public:
  explicit Compressor(int level = 1);  // HAProxy's tune.comp.maxlevel default
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  // Appends the compressed form of `data` to `out` (may append nothing while zlib buffers).
  void compress(runtime::ByteView data, std::string& out);
  // Appends the rest and the gzip trailer.
  void finish(std::string& out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Whether a Content-Type ("text/html; charset=utf-8") is one of `types` (compared without parameters).
bool content_type_listed(std::string_view content_type, const std::vector<std::string>& types);

}  // namespace metalgate::proxy
