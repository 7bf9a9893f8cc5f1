// A stream's outgoing body as both sides of a connection send it (server_session's responses,
// client_session's requests): bytes buffered until nghttp2 asks for them, the end, and the trailers after it;
// and the frames a session has ready. One implementation for both sessions.
#pragma once

#include <nghttp2/nghttp2.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/bytes.h"

namespace metalgate::http2 {

struct Field;

class OutgoingBody {
 public:
  // Bytes to send (copied). false when the body was already finished.
  bool append(runtime::ByteView data);
  // The body is complete; `trailers`, if any, close the stream after it.
  bool finish(std::vector<Field> trailers);
  // nghttp2's data source read: up to `length` bytes into `buf`; at the end the EOF flag and the trailers
  // submitted; NGHTTP2_ERR_DEFERRED while nothing is buffered and the body goes on.
  ssize_t read(nghttp2_session* session, std::int32_t stream, std::uint8_t* buf, std::size_t length,
               std::uint32_t* flags);
  // nghttp2 deferred this stream and bytes (or the end) came since: resume it.
  void resume_if_deferred(nghttp2_session* session, std::int32_t stream);
  std::size_t buffered() const { return out_.size() - offset_; }
  bool finished() const { return done_; }

 private:
  std::string out_;  // not yet framed
  std::size_t offset_ = 0;
  bool done_ = false;
  bool deferred_ = false;
  std::vector<Field> trailers_;
};

// A field as nghttp2 takes it (the views must outlive the call that gets it; nghttp2 copies).
inline nghttp2_nv as_nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

// Appends the frames `session` has ready, at most about `limit` bytes, to `out`.
void take_frames(nghttp2_session* session, std::string& out, std::size_t limit);

}  // namespace metalgate::http2
