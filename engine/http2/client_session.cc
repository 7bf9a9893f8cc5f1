#include "engine/http2/client_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace metalgate::http2 {

namespace {

std::string_view view(const std::uint8_t* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

// The connection's receive window: one slow stream must not hold back the others sharing it, so it is
// wider than a stream's (each stream keeps its own Settings::initial_window_size).
constexpr std::int32_t kConnectionWindow = 1 << 20;

}  // namespace

struct ClientSession::Callbacks {
  static ClientSession& self(void* user) { return *static_cast<ClientSession*>(user); }

  static int header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                    std::size_t namelen, const std::uint8_t* value, std::size_t valuelen, std::uint8_t,
                    void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* st = self(user).find(frame->hd.stream_id);
    if (!st) return 0;
    const std::string_view n = view(name, namelen), v = view(value, valuelen);
    if (st->status > 0) {  // after the final head: trailers
      if (n.empty() || n.front() != ':') st->response_trailers.push_back({std::string(n), std::string(v)});
    } else if (n == ":status") {
      int code = 0;
      std::from_chars(v.data(), v.data() + v.size(), code);
      st->pending_status = code;
    } else if (!n.empty() && n.front() != ':') {
      st->response_fields.push_back({std::string(n), std::string(v)});
    }
    return 0;
  }

  static int frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    ClientSession& s = self(user);
    const std::int32_t id = frame->hd.stream_id;
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_GOAWAY) s.closing_ = true;
    if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK))
      s.settings_received_ = true;
    Stream* st = s.find(id);
    if (!st) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      if (st->status == 0) {
        if (st->pending_status < 200) {  // 1xx: an interim head, not the response
          st->response_fields.clear();
          st->pending_status = 0;
          return 0;
        }
        st->status = st->pending_status;
        s.events_.on_response(id, st->status, std::move(st->response_fields), end);
        if (end && s.find(id)) s.events_.on_response_end(id, {});
      } else if (end) {
        s.events_.on_response_end(id, std::move(st->response_trailers));
      }
    } else if (frame->hd.type == NGHTTP2_DATA && end && st->status > 0) {
      s.events_.on_response_end(id, {});
    }
    return 0;
  }

  static int data_chunk(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                        std::size_t len, void* user) {
    ClientSession& s = self(user);
    if (s.find(id)) s.events_.on_response_data(id, runtime::ByteView(data, len));
    return 0;
  }

  static int stream_close(nghttp2_session*, std::int32_t id, std::uint32_t error_code, void* user) {
    ClientSession& s = self(user);
    if (s.streams_.erase(id) == 0) return 0;
    s.events_.on_stream_closed(id, error_code);
    return 0;
  }

  static ssize_t read_body(nghttp2_session* session, std::int32_t id, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source*, void* user) {
    Stream* st = self(user).find(id);
    if (!st) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return st->body.read(session, id, buf, length, flags);
  }
};

ClientSession::ClientSession(ClientEvents& events, const Settings& settings) : events_(events) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_header_callback(cb, Callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, Callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, Callbacks::data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, Callbacks::stream_close);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);  // the window reopens as the proxy hands bytes on
  nghttp2_option_set_no_closed_streams(opt, 1);
  nghttp2_option_set_max_continuations(opt, settings.max_continuations);
  nghttp2_option_set_max_outbound_ack(opt, settings.max_outbound_ack);
  nghttp2_option_set_max_settings(opt, settings.max_settings);
  nghttp2_session_client_new3(&session_, cb, this, opt, memory_.mem());
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  const nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, settings.max_frame_size},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, settings.header_table_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.max_header_list_size},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries, std::size(entries));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
}

ClientSession::~ClientSession() {
  nghttp2_session_del(session_);
}

std::int32_t ClientSession::submit(const Request& r, bool end_stream) {
  if (closing_) return -1;
  std::vector<nghttp2_nv> nv;
  nv.reserve(r.headers.size() + 5);
  nv.push_back(as_nv(":method", r.method));
  nv.push_back(as_nv(":scheme", r.scheme));
  if (!r.authority.empty()) nv.push_back(as_nv(":authority", r.authority));
  if (!r.path.empty()) nv.push_back(as_nv(":path", r.path));
  if (!r.protocol.empty()) nv.push_back(as_nv(":protocol", r.protocol));
  for (const Field& f : r.headers)
    nv.push_back(as_nv(f.name, f.value));
  nghttp2_data_provider body{};
  body.read_callback = Callbacks::read_body;
  const std::int32_t id =
      nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(), end_stream ? nullptr : &body, nullptr);
  if (id < 0) return -1;
  streams_.try_emplace(id);
  return id;
}

void ClientSession::send_data(std::int32_t stream, runtime::ByteView data) {
  Stream* st = find(stream);
  if (st && st->body.append(data)) st->body.resume_if_deferred(session_, stream);
}

void ClientSession::finish(std::int32_t stream, std::vector<Field> trailers) {
  Stream* st = find(stream);
  if (st && st->body.finish(std::move(trailers))) st->body.resume_if_deferred(session_, stream);
}

void ClientSession::reset(std::int32_t stream, std::uint32_t error_code) {
  if (find(stream)) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, error_code);
}

void ClientSession::consumed(std::int32_t stream, std::size_t bytes) {
  if (bytes > 0) nghttp2_session_consume(session_, stream, bytes);
}

std::size_t ClientSession::buffered(std::int32_t stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.body.buffered();
}

bool ClientSession::receive(runtime::ByteView data) {
  const ssize_t rv = nghttp2_session_mem_recv(session_, data.data(), data.size());
  if (rv >= 0) return true;
  closing_ = true;
  const bool abuse = rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
  nghttp2_session_terminate_session(session_, abuse ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
  return false;
}

void ClientSession::take_outgoing(std::string& out, std::size_t limit) {
  take_frames(session_, out, limit);
}

std::uint32_t ClientSession::max_streams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

bool ClientSession::extended_connect() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) == 1;
}

void ClientSession::release_idle_memory() {
  if (streams_.empty() && nghttp2_session_want_write(session_) == 0) memory_.trim();
}

bool ClientSession::finished() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

ClientSession::Stream* ClientSession::find(std::int32_t stream) {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : &it->second;
}

}  // namespace metalgate::http2
