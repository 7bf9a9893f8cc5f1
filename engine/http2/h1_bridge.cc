#include "engine/http2/h1_bridge.h"

#include <algorithm>
#include <cctype>

#include "engine/http/message.h"
#include "engine/http/parser.h"
#include "engine/http/websocket.h"

namespace metalgate::http2 {

namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Fields HTTP/2 forbids (RFC 9113 §8.2.2): the connection is the stream's business now.
bool connection_specific(std::string_view name) {
  for (std::string_view n : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})
    if (http::equals_ignore_case(name, n)) return true;
  return false;
}

// "name: value\r\n" lines (a chunked body's trailers, as ChunkedDecoder keeps them) as fields.
std::vector<Field> trailer_fields(const std::string& lines) {
  std::vector<Field> out;
  std::size_t at = 0;
  while (at < lines.size()) {
    std::size_t end = lines.find("\r\n", at);
    if (end == std::string::npos) end = lines.size();
    const std::string_view line(lines.data() + at, end - at);
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      if (!connection_specific(line.substr(0, colon)))
        out.push_back({lower(line.substr(0, colon)), std::string(value)});
    }
    at = end + 2;
  }
  return out;
}

}  // namespace

H1Request to_h1(const Request& r, std::string_view new_key) {
  H1Request out;
  out.tunnel = r.method == "CONNECT" && !r.protocol.empty();
  std::string& h = out.head;
  h.reserve(128 + r.path.size() + r.authority.size() + 48 * r.headers.size());
  h.append(out.tunnel ? "GET" : r.method).append(" ");
  h.append(r.path.empty() ? r.authority : r.path);  // CONNECT carries only :authority
  h.append(" HTTP/1.1\r\n");
  if (!r.authority.empty()) append_field(h, "host", r.authority);
  bool has_length = false, has_key = false;
  for (const Field& f : r.headers) {
    if (!r.authority.empty() && f.name == "host") continue;
    if (f.name == "content-length") has_length = true;
    if (f.name == "sec-websocket-key") has_key = true;
    append_field(h, f.name, f.value);
  }
  if (out.tunnel) {
    append_field(h, "connection", "upgrade");
    append_field(h, "upgrade", r.protocol);
    if (http::is_websocket(r.protocol) && !has_key && !new_key.empty())
      append_field(h, "sec-websocket-key", new_key);
  } else if (r.has_body && !has_length) {
    h.append("transfer-encoding: chunked\r\n");
    out.chunked = true;
  }
  h.append("\r\n");
  return out;
}

bool ResponseReader::feed(runtime::ByteView data, Sink& sink) {
  if (state_ == State::kDone) return true;
  if (state_ == State::kBody) return feed_body(data, sink);
  if (state_ == State::kTunnel) {
    if (!data.empty()) sink.on_body(data);
    return true;
  }
  head_.append(runtime::as_chars(data));
  return feed_head(sink);
}

bool ResponseReader::feed_head(Sink& sink) {
  while (state_ == State::kHead) {
    http::ResponseHead resp;
    http::ParseError error;
    const http::Limits limits{1 << 20, 10000};  // the session has already held the server to its own limits
    auto outcome = http::parse_response(head_.data(), head_.size(), limits, request_was_head_, resp, error);
    if (outcome == http::ParseOutcome::kIncomplete) return true;
    if (outcome == http::ParseOutcome::kError || (resp.status == 101 && !tunnel_)) return false;
    const std::size_t length = resp.head_length;
    if (resp.status >= 100 && resp.status < 200 &&
        resp.status != 101) {  // interim: HTTP/2 clients need not see it
      head_.erase(0, length);
      continue;
    }
    std::vector<Field> fields;
    fields.reserve(resp.headers.size());
    for (const http::Header& f : resp.headers)
      if (!connection_specific(f.name) &&
          !(resp.status == 101 && http::equals_ignore_case(f.name, "sec-websocket-accept")))
        fields.push_back({lower(f.name), std::string(f.value)});
    if (tunnel_ && resp.status == 101) {  // switched (the session checked the accept): the stream's 200
      state_ = State::kTunnel;
      sink.on_head(200, std::move(fields), false);
      std::string rest = head_.substr(length);
      std::string().swap(head_);
      if (!rest.empty()) sink.on_body(runtime::as_bytes(rest));
      return true;
    }
    if (tunnel_ && resp.status < 300) {  // not switched, yet a 2xx would open the client's tunnel
      state_ = State::kDone;
      sink.on_head(502, {}, true);
      return true;
    }
    framing_ = resp.facts.framing;
    left_ = resp.facts.content_length;
    const bool empty =
        framing_ == http::BodyFraming::kNone || (framing_ == http::BodyFraming::kContentLength && left_ == 0);
    state_ = empty ? State::kDone : State::kBody;
    sink.on_head(resp.status, std::move(fields), empty);
    std::string rest = head_.substr(length);
    std::string().swap(head_);
    if (!rest.empty() && state_ == State::kBody) return feed_body(runtime::as_bytes(rest), sink);
  }
  return true;
}

bool ResponseReader::feed_body(runtime::ByteView data, Sink& sink) {
  switch (framing_) {
    case http::BodyFraming::kContentLength: {
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left_, data.size()));
      if (take > 0) sink.on_body(data.first(take));
      left_ -= take;
      if (left_ == 0) {
        state_ = State::kDone;
        sink.on_end({});
      }
      return true;
    }
    case http::BodyFraming::kChunked: {
      auto r = chunks_.feed(data, [&](runtime::ByteView piece) { sink.on_body(piece); });
      if (r.error) return false;
      if (r.done) {
        state_ = State::kDone;
        sink.on_end(trailer_fields(chunks_.trailers()));
      }
      return true;
    }
    default:  // until close
      if (!data.empty()) sink.on_body(data);
      return true;
  }
}

bool ResponseReader::close(Sink& sink) {
  if (state_ == State::kDone) return true;
  if (state_ == State::kTunnel || (state_ == State::kBody && framing_ == http::BodyFraming::kUntilClose)) {
    state_ = State::kDone;
    sink.on_end({});
    return true;
  }
  return false;
}

// ------------------------------------------------------------------ towards servers

bool RequestReader::feed(runtime::ByteView data, Sink& sink) {
  if (state_ == State::kBody) return feed_body(data, sink);
  if (state_ == State::kTunnel) {
    if (!data.empty()) sink.on_request_body(data);
    return true;
  }
  head_.append(runtime::as_chars(data));
  return feed_head(sink);
}

bool RequestReader::feed_head(Sink& sink) {
  http::RequestHead req;
  http::ParseError error;
  const http::Limits limits{1 << 20, 10000};  // written by the session, which held the client to its limits
  auto outcome = http::parse_request(head_.data(), head_.size(), limits, req, error);
  if (outcome == http::ParseOutcome::kIncomplete) return true;
  if (outcome == http::ParseOutcome::kError || req.method == "CONNECT") return false;
  Request r;
  r.method = std::string(req.method);
  r.scheme = scheme_;
  r.authority = std::string(req.host);
  r.path = req.absolute_form() ? std::string(req.path()) : std::string(req.target);
  websocket_key_.clear();
  const std::string upgrade = lower(http::find_header(req.headers, "upgrade").value_or(""));
  // RFC 8441 §5: the Upgrade request's CONNECT form. Not h2c (curl --http2 over plain HTTP asks for it):
  // the server already speaks HTTP/2, so that request goes as a plain one, its Upgrade dropped, as before.
  if (req.facts.upgrade && req.method == "GET" && upgrade != "h2c") {
    r.method = "CONNECT";
    r.protocol = upgrade;
  }
  for (const http::Header& f : req.headers) {
    std::string name = lower(f.name);
    if (name == "host" || name == "content-length" || connection_specific(name)) continue;
    if (name == "te" && !http::equals_ignore_case(f.value, "trailers")) continue;  // RFC 9113 §8.2.2
    if (!r.protocol.empty() && name == "sec-websocket-key") {  // HTTP/2 carries no key (RFC 8441 §5)
      websocket_key_ = std::string(f.value);
      continue;
    }
    r.headers.push_back({std::move(name), std::string(f.value)});
  }
  if (!r.protocol.empty()) {
    std::string rest = head_.substr(req.head_length);
    std::string().swap(head_);
    r.has_body = true;
    state_ = State::kTunnel;
    sink.on_request(std::move(r), false);
    if (!rest.empty()) sink.on_request_body(runtime::as_bytes(rest));
    return true;
  }
  chunked_ = req.facts.framing == http::BodyFraming::kChunked;
  left_ = req.facts.framing == http::BodyFraming::kContentLength ? req.facts.content_length : 0;
  if (req.facts.framing == http::BodyFraming::kContentLength)
    r.headers.push_back({"content-length", std::to_string(left_)});
  const bool empty = !chunked_ && left_ == 0;
  r.has_body = !empty;
  std::string rest = head_.substr(req.head_length);
  std::string().swap(head_);
  sink.on_request(std::move(r), empty);
  if (empty) return rest.empty();  // nothing may follow until the response ends
  state_ = State::kBody;
  chunks_.reset();
  return rest.empty() || feed_body(runtime::as_bytes(rest), sink);
}

bool RequestReader::feed_body(runtime::ByteView data, Sink& sink) {
  if (!chunked_) {
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left_, data.size()));
    if (take > 0) sink.on_request_body(data.first(take));
    left_ -= take;
    if (left_ > 0) return true;
    state_ = State::kHead;
    sink.on_request_end({});
    return take == data.size();
  }
  auto r = chunks_.feed(data, [&](runtime::ByteView piece) { sink.on_request_body(piece); });
  if (r.error) return false;
  if (!r.done) return true;
  state_ = State::kHead;
  sink.on_request_end(trailer_fields(chunks_.trailers()));
  return r.consumed == data.size();
}

void ResponseWriter::head(int status, const std::vector<Field>& fields, bool end_stream, std::string& out) {
  if (!upgrade_.empty() && status >= 200 && status < 300) {  // the extended CONNECT's tunnel is open
    switched_ = true;
    out.append("HTTP/1.1 101 Switching Protocols\r\n");
    append_field(out, "connection", "upgrade");
    append_field(out, "upgrade", upgrade_);
    if (!key_.empty()) append_field(out, "sec-websocket-accept", http::websocket_accept(key_));
    for (const Field& f : fields)
      if (f.name != "content-length") append_field(out, f.name, f.value);
    out.append("\r\n");
    return;
  }
  out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ");
  out.append(http::reason_phrase(status)).append("\r\n");
  bool has_length = false;
  for (const Field& f : fields) {
    if (f.name == "content-length") has_length = true;
    append_field(out, f.name, f.value);
  }
  const bool bodiless = request_was_head_ || status == 204 || status == 304;
  if (end_stream && !has_length && !bodiless) out.append("content-length: 0\r\n");
  chunked_ = !end_stream && !has_length && !bodiless;
  if (chunked_) out.append("transfer-encoding: chunked\r\n");
  out.append("\r\n");
}

void ResponseWriter::body(runtime::ByteView data, std::string& out) {
  if (ended_ || data.empty()) return;
  if (chunked_ && !switched_)
    http::append_chunk(out, data);
  else
    out.append(runtime::as_chars(data));
}

void ResponseWriter::end(const std::vector<Field>& trailers, std::string& out) {
  if (ended_) return;
  ended_ = true;
  if (!chunked_ || switched_) return;
  std::string lines;
  for (const Field& f : trailers)
    append_field(lines, f.name, f.value);
  http::append_last_chunk(out, lines);
}

}  // namespace metalgate::http2
