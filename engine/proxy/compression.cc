#include "engine/proxy/compression.h"

#include <zlib.h>

#include "engine/http/message.h"

namespace metalgate::proxy {

struct Compressor::State {
  z_stream z{};
};

Compressor::Compressor(int level) : state_(std::make_unique<State>()) {
  // windowBits 15 + 16: a gzip wrapper; memLevel 8 as zlib's default.
  deflateInit2(&state_->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

Compressor::~Compressor() {
  deflateEnd(&state_->z);
}

namespace {
void run(z_stream& z, int flush, std::string& out) {
  unsigned char buf[16384];
  do {
    z.next_out = buf;
    z.avail_out = sizeof buf;
    deflate(&z, flush);
    out.append(reinterpret_cast<const char*>(buf), sizeof buf - z.avail_out);
  } while (z.avail_out == 0);
}
}  // namespace

void Compressor::compress(runtime::ByteView data, std::string& out) {
  if (data.empty()) return;
  state_->z.next_in = const_cast<Bytef*>(data.data());
  state_->z.avail_in = static_cast<uInt>(data.size());
  // Z_SYNC_FLUSH so the client sees data as it comes (a slow stream must not stall in zlib's buffer).
  run(state_->z, Z_SYNC_FLUSH, out);
}

void Compressor::finish(std::string& out) {
  state_->z.next_in = nullptr;
  state_->z.avail_in = 0;
  run(state_->z, Z_FINISH, out);
}

bool content_type_listed(std::string_view content_type, const std::vector<std::string>& types) {
  auto semi = content_type.find(';');
  if (semi != std::string_view::npos) content_type = content_type.substr(0, semi);
  // RFC 9110's optional whitespace before the parameters: spaces and tabs.
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t'))
    content_type.remove_suffix(1);
  for (const auto& t : types)
    if (http::equals_ignore_case(content_type, t)) return true;
  return false;
}

}  // namespace metalgate::proxy
