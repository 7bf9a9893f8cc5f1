#include "engine/http2/outgoing_body.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>

#include "engine/http2/server_session.h"

namespace metalgate::http2 {

bool OutgoingBody::append(runtime::ByteView data) {
  if (done_) return false;
  out_.append(reinterpret_cast<const char*>(data.data()), data.size());
  return true;
}

bool OutgoingBody::finish(std::vector<Field> trailers) {
  if (done_) return false;
  done_ = true;
  trailers_ = std::move(trailers);
  return true;
}

ssize_t OutgoingBody::read(nghttp2_session* session, std::int32_t stream, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags) {
  const std::size_t n = std::min(length, buffered());
  if (n == 0 && !done_) {
    deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  std::memcpy(buf, out_.data() + offset_, n);
  offset_ += n;
  if (offset_ < out_.size()) return static_cast<ssize_t>(n);
  out_.clear();
  offset_ = 0;
  if (!done_) return static_cast<ssize_t>(n);
  *flags |= NGHTTP2_DATA_FLAG_EOF;
  if (!trailers_.empty()) {
    *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    std::vector<nghttp2_nv> nv;
    nv.reserve(trailers_.size());
    for (const Field& f : trailers_)
      nv.push_back(as_nv(f.name, f.value));
    nghttp2_submit_trailer(session, stream, nv.data(), nv.size());
  }
  return static_cast<ssize_t>(n);
}

void OutgoingBody::resume_if_deferred(nghttp2_session* session, std::int32_t stream) {
  if (!deferred_) return;
  deferred_ = false;
  nghttp2_session_resume_data(session, stream);
}

void take_frames(nghttp2_session* session, std::string& out, std::size_t limit) {
  const std::size_t start = out.size();
  while (out.size() - start < limit) {
    const std::uint8_t* frame = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session, &frame);
    if (n <= 0) break;
    out.append(reinterpret_cast<const char*>(frame), static_cast<std::size_t>(n));
  }
}

}  // namespace metalgate::http2
