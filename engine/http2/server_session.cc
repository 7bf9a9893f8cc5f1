#include "engine/http2/server_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>

namespace metalgate::http2 {

namespace {

std::string_view view(const std::uint8_t* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

// A request field: pseudo-headers into their slots, cookie crumbs joined (RFC 9113 §8.2.3), the rest kept.
void add_field(Request& r, std::string_view name, std::string_view value) {
  if (name == ":method") return r.method.assign(value), void();
  if (name == ":scheme") return r.scheme.assign(value), void();
  if (name == ":authority") return r.authority.assign(value), void();
  if (name == ":path") return r.path.assign(value), void();
  if (name == ":protocol") return r.protocol.assign(value), void();  // nghttp2 checked it goes with CONNECT
  if (name.empty() || name.front() == ':') return;
  if (name == "cookie")
    for (Field& f : r.headers)
      if (f.name == "cookie") {
        f.value.append("; ").append(value);
        return;
      }
  r.headers.push_back({std::string(name), std::string(value)});
}

}  // namespace

struct ServerSession::Callbacks {
  static ServerSession& self(void* user) { return *static_cast<ServerSession*>(user); }

  static int begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
      self(user).streams_.try_emplace(frame->hd.stream_id);
    return 0;
  }

  static int header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                    std::size_t namelen, const std::uint8_t* value, std::size_t valuelen, std::uint8_t,
                    void* user) {
    ServerSession& s = self(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
      return 0;  // trailers
    Stream* st = s.find(frame->hd.stream_id);
    if (!st || st->refused) return 0;
    st->header_bytes += namelen + valuelen + 32;
    if (st->header_bytes > s.settings_.max_header_list_size) {
      st->refused = true;
      ++s.counters_.headers_too_large;
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // RST_STREAM; the rest of the block is decoded, not kept
    }
    add_field(st->request, view(name, namelen), view(value, valuelen));
    return 0;
  }

  static int frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    ServerSession& s = self(user);
    const std::int32_t id = frame->hd.stream_id;
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        Stream* st = s.find(id);
        if (!st || st->refused) return 0;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
          ++s.counters_.streams;
          st->request.has_body = !end;
          s.events_.on_request(id, std::move(st->request));
        } else if (end) {
          s.events_.on_request_end(id);  // trailers end the body; HTTP/1 servers are not given them
        }
        return 0;
      }
      case NGHTTP2_DATA:
        if (end && s.find(id)) s.events_.on_request_end(id);
        return 0;
      case NGHTTP2_RST_STREAM:
        ++s.counters_.resets_received;
        return 0;
      default:
        return 0;
    }
  }

  static int data_chunk(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                        std::size_t len, void* user) {
    ServerSession& s = self(user);
    if (s.find(id)) s.events_.on_request_data(id, runtime::ByteView(data, len));
    return 0;
  }

  static int stream_close(nghttp2_session*, std::int32_t id, std::uint32_t error_code, void* user) {
    ServerSession& s = self(user);
    if (s.streams_.erase(id) == 0) return 0;
    s.events_.on_stream_closed(id, error_code);
    return 0;
  }

  static int frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    ServerSession& s = self(user);
    if (frame->hd.type == NGHTTP2_RST_STREAM && frame->rst_stream.error_code == NGHTTP2_PROTOCOL_ERROR)
      ++s.counters_.stream_errors;
    if (frame->hd.type == NGHTTP2_GOAWAY) s.count_goaway(frame->goaway.error_code);
    return 0;
  }

  static ssize_t read_body(nghttp2_session* session, std::int32_t id, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source*, void* user) {
    Stream* st = self(user).find(id);
    if (!st) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return st->body.read(session, id, buf, length, flags);
  }
};

ServerSession::ServerSession(ServerEvents& events, const Settings& settings)
    : events_(events), settings_(settings) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, Callbacks::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, Callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, Callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, Callbacks::data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, Callbacks::stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb, Callbacks::frame_send);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);  // the window reopens as the proxy hands bytes on
  nghttp2_option_set_no_closed_streams(opt, 1);      // no priority tree to keep closed streams for
  nghttp2_option_set_max_continuations(opt, settings.max_continuations);
  nghttp2_option_set_stream_reset_rate_limit(opt, settings.reset_burst, settings.reset_rate);
  nghttp2_option_set_max_outbound_ack(opt, settings.max_outbound_ack);
  nghttp2_option_set_max_settings(opt, settings.max_settings);
  // Answers are encoded as HAProxy encodes them: static table and literals, no dynamic table. It would keep
  // copies of the last answer's fields on every idle connection (about 1 KB with nginx's).
  nghttp2_option_set_max_deflate_dynamic_table_size(opt, 0);
  nghttp2_session_server_new3(&session_, cb, this, opt, memory_.mem());
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  const nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, settings.max_frame_size},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, settings.header_table_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.max_header_list_size},
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, settings.extended_connect ? 1u : 0u},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries, std::size(entries));
}

ServerSession::~ServerSession() {
  nghttp2_session_del(session_);
}

bool ServerSession::receive(runtime::ByteView data) {
  const ssize_t rv = nghttp2_session_mem_recv(session_, data.data(), data.size());
  if (rv >= 0) return true;
  if (!goaway_counted_) {
    // Errors nghttp2 returns without counting a GOAWAY of its own: a flood of ACKs to send (PING,
    // SETTINGS), a flood of CONTINUATION frames, a bad preface.
    if (rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS)
      ++counters_.floods;
    else
      ++counters_.connection_errors;
    goaway_counted_ = true;
  }
  const bool abuse = rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
  nghttp2_session_terminate_session(session_, abuse ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
  return false;
}

void ServerSession::count_goaway(std::uint32_t error_code) {
  if (error_code == NGHTTP2_NO_ERROR || goaway_counted_) return;
  goaway_counted_ = true;
  // nghttp2's own GOAWAYs: ENHANCE_YOUR_CALM for floods; INTERNAL_ERROR when the stream reset rate limit
  // tripped (our callbacks never fail, so that is the only INTERNAL_ERROR it sends).
  if (error_code == NGHTTP2_ENHANCE_YOUR_CALM ||
      (error_code == NGHTTP2_INTERNAL_ERROR && counters_.resets_received > 0))
    ++counters_.floods;
  else
    ++counters_.connection_errors;
}

void ServerSession::take_outgoing(std::string& out, std::size_t limit) {
  take_frames(session_, out, limit);
}

void ServerSession::respond(std::int32_t stream, int status, const std::vector<Field>& headers,
                            bool end_stream) {
  const std::string code = std::to_string(status);
  static const std::string kStatus = ":status";
  std::vector<nghttp2_nv> nv;
  nv.reserve(headers.size() + 1);
  nv.push_back(as_nv(kStatus, code));
  for (const Field& f : headers)
    nv.push_back(as_nv(f.name, f.value));
  nghttp2_data_provider body{};
  body.read_callback = Callbacks::read_body;
  nghttp2_submit_response(session_, stream, nv.data(), nv.size(), end_stream ? nullptr : &body);
}

void ServerSession::send_data(std::int32_t stream, runtime::ByteView data) {
  Stream* st = find(stream);
  if (st && st->body.append(data)) st->body.resume_if_deferred(session_, stream);
}

void ServerSession::finish(std::int32_t stream, std::vector<Field> trailers) {
  Stream* st = find(stream);
  if (st && st->body.finish(std::move(trailers))) st->body.resume_if_deferred(session_, stream);
}

void ServerSession::reset(std::int32_t stream, std::uint32_t error_code) {
  if (find(stream)) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, error_code);
}

void ServerSession::consumed(std::int32_t stream, std::size_t bytes) {
  if (bytes > 0) nghttp2_session_consume(session_, stream, bytes);
}

std::size_t ServerSession::buffered(std::int32_t stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.body.buffered();
}

void ServerSession::shut_down() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
}

void ServerSession::release_idle_memory() {
  if (streams_.empty() && nghttp2_session_want_write(session_) == 0) memory_.trim();
}

bool ServerSession::finished() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

ServerSession::Stream* ServerSession::find(std::int32_t stream) {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : &it->second;
}

}  // namespace metalgate::http2
