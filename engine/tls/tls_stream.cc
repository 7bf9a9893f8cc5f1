#include "engine/tls/tls_stream.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace metalgate::tls {

namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

struct CtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxDeleter>;

// Wire-format ALPN list ("\x08http/1.1").
std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string out;
  for (const auto& p : protocols) {
    out += static_cast<char>(p.size());
    out += p;
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

// ------------------------------------------------------------------------------------------ the stream

class TlsStream final : public runtime::StreamConnection, public runtime::StreamHandler {
 public:
  TlsStream(SSL_CTX* ctx, bool server, std::function<void(const std::string&)> on_failure)
      : on_failure_(std::move(on_failure)) {
    ssl_ = SSL_new(ctx);
    BIO* bio = BIO_new(stream_bio_method());
    BIO_set_data(bio, this);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_, bio, bio);  // one reference for both directions
    if (server)
      SSL_set_accept_state(ssl_);
    else
      SSL_set_connect_state(ssl_);
  }
  ~TlsStream() override {
    *alive_ = false;
    SSL_free(ssl_);
  }

  SSL* ssl() { return ssl_; }
  void set_raw(runtime::StreamConnectionPtr raw) { raw_ = std::move(raw); }
  // Server role: answer ClientHellos from the runtime's background lane (see on_data).
  void defer_key_exchange_to(runtime::Runtime& rt) { background_ = &rt; }
  void set_client_handler(runtime::StreamHandler& handler) { handler_ = &handler; }

  // StreamConnection: the plaintext face.
  // Again (with the TLS connection started): only the handler changes, from the next plaintext on. A
  // connection whose session is chosen by ALPN starts with a chooser (proxy.cc), then with its session.
  void start(runtime::StreamHandler& handler) override {
    handler_ = &handler;
    if (raw_started_) return;
    raw_started_ = true;
    raw_->start(*this);
  }
  void write(runtime::ByteView data) override { encrypt(data, false); }
  void write_more(runtime::ByteView data) override { encrypt(data, true); }
  std::size_t write_backlog() const override { return raw_->write_backlog() + pending_.size(); }
  void shutdown_write() override {
    if (closed_) return;
    SSL_shutdown(ssl_);  // close_notify
    ERR_clear_error();
    flush();
    raw_->shutdown_write();
  }
  void close() override {
    if (closed_) return;
    closed_ = true;
    if (handshake_done_) {
      SSL_shutdown(ssl_);
      ERR_clear_error();
      flush();
    }
    raw_->close();
  }
  void reset() override {
    closed_ = true;
    raw_->reset();
  }
  void set_reading(bool enabled) override { raw_->set_reading(enabled); }
  void ack_promptly() override { raw_->ack_promptly(); }
  // Plaintext exists only here: forwarding is a copy after decryption.
  void forward_to(StreamConnection* destination) override { forward_ = destination; }
  net::SocketAddress local_address() const override { return raw_->local_address(); }
  net::SocketAddress peer_address() const override { return raw_->peer_address(); }
  std::string_view application_protocol() const override {
    const unsigned char* name = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl_, &name, &length);
    return {reinterpret_cast<const char*>(name), length};
  }

  // StreamHandler: the ciphertext side.
  void on_connected() override { advance(); }  // client role: start the handshake
  void on_data(runtime::ByteView data) override {
    if (closed_) return;
    if (background_ && !hello_answered_) {
      // The answer to a ClientHello is the expensive step (key exchange and signature, most of a
      // connection's CPU). It waits while established connections have traffic ready, as HAProxy runs
      // handshakes in its bulk class: their requests are not queued behind a burst of new connections.
      hello_answered_ = true;
      held_.insert(held_.end(), data.begin(), data.end());
      background_->post_background([this, alive = alive_] {
        if (*alive && !closed_) advance_held();
      });
      return;
    }
    if (!held_.empty()) {
      held_.insert(held_.end(), data.begin(), data.end());
      return advance_held();
    }
    // The common case: OpenSSL reads the records straight from the runtime's buffer.
    std::shared_ptr<bool> alive = alive_;
    input_ = data;
    advance();
    if (!*alive) return;
    if (!input_.empty() && !closed_) held_.assign(input_.begin(), input_.end());
    input_ = {};
  }
  void on_peer_shutdown() override {
    if (!closed_ && handler_) handler_->on_peer_shutdown();
  }
  void on_closed(std::error_code reason) override {
    if (closed_) return;
    closed_ = true;
    if (handler_) handler_->on_closed(reason);
  }
  void on_write_drained() override {
    if (!closed_ && handler_ && handshake_done_) handler_->on_write_drained();
  }

 private:
  void advance() {
    std::shared_ptr<bool> alive = alive_;
    if (!handshake_done_) {
      ERR_clear_error();  // SSL_get_error reads the thread's error queue: stale errors would be taken for
                          // ours
      int r = SSL_do_handshake(ssl_);
      flush();
      if (r != 1) {
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
        return fail("TLS handshake failed: " + openssl_error());
      }
      handshake_done_ = true;
      if (!pending_.empty()) {
        SSL_write(ssl_, pending_.data(), static_cast<int>(pending_.size()));
        ERR_clear_error();
        pending_.clear();
        pending_.shrink_to_fit();
        flush();
      }
      if (!server_role() && handler_) {
        handler_->on_connected();
        if (!*alive || closed_) return;
      }
    }
    unsigned char buf[16384];
    while (!closed_) {
      ERR_clear_error();  // the handler may have run other streams' OpenSSL calls since our last one
      int n = SSL_read(ssl_, buf, sizeof buf);
      flush();  // TLS 1.3 may answer (key updates, tickets) before the handler writes
      if (n > 0) {
        runtime::ByteView plain(buf, static_cast<std::size_t>(n));
        if (forward_) {
          forward_->write(plain);
          handler_->on_forwarded(plain.size());
        } else {
          handler_->on_data(plain);
        }
        if (!*alive) return;
        continue;
      }
      int e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
      if (e == SSL_ERROR_ZERO_RETURN) {  // close_notify: the peer sends nothing more
        if (handler_) handler_->on_peer_shutdown();
        return;
      }
      return fail("TLS error: " + openssl_error());
    }
  }

  // advance() over the bytes held back (the ClientHello waiting for the background lane, or what arrived
  // meanwhile); what OpenSSL leaves unread stays held.
  void advance_held() {
    std::shared_ptr<bool> alive = alive_;
    std::vector<std::uint8_t> held;
    held.swap(held_);
    input_ = runtime::ByteView(held.data(), held.size());
    advance();
    if (!*alive) return;
    if (!input_.empty() && !closed_) held_.insert(held_.begin(), input_.begin(), input_.end());
    input_ = {};
  }

  bool server_role() const { return SSL_is_server(ssl_) == 1; }

  void encrypt(runtime::ByteView data, bool more) {
    if (closed_ || data.empty()) return;
    if (!handshake_done_) {
      pending_.insert(pending_.end(), data.begin(), data.end());
      return;
    }
    // A write after our own close_notify fails; what fails must not stay in the thread's error queue, where
    // the next SSL_get_error of any connection of this thread would find it and end that connection.
    if (SSL_write(ssl_, data.data(), static_cast<int>(data.size())) <= 0) ERR_clear_error();
    flush(more);
  }

  // Hands the records OpenSSL wrote during its last call to the wrapped connection. `more`: the caller will
  // write again soon (write_more), so the records may wait for it.
  void flush(bool more = false) {
    std::string& records = records_scratch();
    if (records.empty()) return;
    std::string out;
    out.swap(records);  // the wrapped connection may call back into another stream that writes records
    if (more)
      raw_->write_more(runtime::as_bytes(out));
    else
      raw_->write(runtime::as_bytes(out));
    out.clear();
    if (records.capacity() == 0) records.swap(out);  // keep the buffer for the next call
  }

  // The BIO under the SSL object: reads take from input_, the bytes of the current on_data; writes append
  // to a buffer per thread that flush() empties after each OpenSSL call. So an idle connection holds no
  // buffer, and ciphertext is copied once each way (memory BIOs cost a copy more and keep their largest
  // size for good: 21.9 KB per connection after one 16 KiB answer).
  static std::string& records_scratch() {
    static thread_local std::string records;
    return records;
  }
  static int bio_write(BIO* bio, const char* data, int length) {
    records_scratch().append(data, static_cast<std::size_t>(length));
    (void)bio;
    return length;
  }
  static int bio_read(BIO* bio, char* data, int length) {
    auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (self->input_.empty()) {
      BIO_set_retry_read(bio);
      return -1;
    }
    std::size_t n = std::min(self->input_.size(), static_cast<std::size_t>(length));
    std::memcpy(data, self->input_.data(), n);
    self->input_ = self->input_.subspan(n);
    return static_cast<int>(n);
  }
  static long bio_ctrl(BIO*, int command, long, void*) {
    return command == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered in the BIO itself
  }
  static BIO_METHOD* stream_bio_method() {
    static BIO_METHOD* method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "metalgate stream");
      BIO_meth_set_write(m, bio_write);
      BIO_meth_set_read(m, bio_read);
      BIO_meth_set_ctrl(m, bio_ctrl);
      return m;
    }();
    return method;
  }

  void fail(const std::string& why) {
    ERR_clear_error();
    records_scratch().clear();  // an alert not sent by now is not sent
    closed_ = true;
    if (on_failure_) on_failure_(why);
    raw_->reset();
    if (handler_) handler_->on_closed(std::make_error_code(std::errc::protocol_error));
  }

  SSL* ssl_ = nullptr;
  runtime::ByteView input_;         // ciphertext OpenSSL has yet to read, during advance()
  std::vector<std::uint8_t> held_;  // ciphertext kept for a later advance()
  runtime::StreamConnectionPtr raw_;
  runtime::StreamHandler* handler_ = nullptr;
  runtime::StreamConnection* forward_ = nullptr;
  std::vector<std::uint8_t> pending_;  // plaintext written before the handshake finished
  bool handshake_done_ = false;
  bool closed_ = false;
  bool raw_started_ = false;
  runtime::Runtime* background_ = nullptr;
  bool hello_answered_ = false;  // the first flight has been handed to the background lane
  std::function<void(const std::string&)> on_failure_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// ------------------------------------------------------------------------------------------ server context

struct ServerContext::Impl {
  std::vector<CtxPtr> contexts;  // [0] default
  std::map<std::string, SSL_CTX*> exact;
  std::map<std::string, SSL_CTX*> wildcard;  // "example.com" for "*.example.com"
  std::string alpn;
  Offer offer;
  std::string client_ca_pem;

  SSL_CTX* for_name(const char* name) const {
    if (!name) return nullptr;
    std::string n = lower(name);
    if (auto it = exact.find(n); it != exact.end()) return it->second;
    auto dot = n.find('.');
    if (dot != std::string::npos)
      if (auto it = wildcard.find(n.substr(dot + 1)); it != wildcard.end()) return it->second;
    return nullptr;
  }
};

namespace {

int on_servername(SSL* ssl, int*, void* arg) {
  auto* impl = static_cast<ServerContext::Impl*>(arg);
  if (SSL_CTX* ctx = impl->for_name(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)))
    SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;
}

int on_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
            unsigned int inlen, void* arg) {
  auto* impl = static_cast<ServerContext::Impl*>(arg);
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, reinterpret_cast<const unsigned char*>(impl->alpn.data()),
                            static_cast<unsigned int>(impl->alpn.size()), in,
                            inlen) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN, as HAProxy does
}

// Loads `cert` (leaf, then its chain) and its key into `ctx`; what is wrong, or empty.
std::string use_key_pair(SSL_CTX* ctx, const Certificate& cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(cert.certificate_pem.data(), static_cast<int>(cert.certificate_pem.size())), BIO_free);
  X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf) != 1) {
    X509_free(leaf);
    return cert.source + ": tls.crt is not a PEM certificate (" + openssl_error() + ")";
  }
  X509_free(leaf);
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    SSL_CTX_add0_chain_cert(ctx, extra);
  ERR_clear_error();
  std::unique_ptr<BIO, decltype(&BIO_free)> kbio(
      BIO_new_mem_buf(cert.private_key_pem.data(), static_cast<int>(cert.private_key_pem.size())), BIO_free);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr);
  if (!key) return cert.source + ": tls.key is not a PEM private key (" + openssl_error() + ")";
  const bool used = SSL_CTX_use_PrivateKey(ctx, key) == 1;  // OpenSSL 3 refuses a key of another certificate
  EVP_PKEY_free(key);
  if (!used || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return cert.source + ": tls.key does not match tls.crt";
  }
  return {};
}

// The certificates of a PEM bundle (CA certificates to trust) added to `ctx`'s store; how many.
int add_trusted(SSL_CTX* ctx, const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                BIO_free);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    added += X509_STORE_add_cert(store, ca) == 1;
    X509_free(ca);
  }
  ERR_clear_error();
  return added;
}

Result<CtxPtr> make_server_ctx(const Certificate& cert, ServerContext::Impl& impl) {
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), impl.offer.min_version);
  if (SSL_CTX_set_cipher_list(ctx.get(), impl.offer.ciphers.c_str()) != 1 ||
      (!impl.offer.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx.get(), impl.offer.ciphersuites.c_str()) != 1)) {
    return Failure{cert.source + ": no cipher of the configured list is usable (" + openssl_error() + ")"};
  }
  if (!impl.offer.session_tickets) SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  // Idle connections keep no read/write buffers (memory per idle connection matters at 10k connections).
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_id_context(ctx.get(), reinterpret_cast<const unsigned char*>("metalgate"), 9);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
  if (std::string problem = use_key_pair(ctx.get(), cert); !problem.empty()) return Failure{problem};
  if (!impl.client_ca_pem.empty()) {
    if (add_trusted(ctx.get(), impl.client_ca_pem) == 0)
      return Failure{"the client CA holds no PEM certificate"};
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  SSL_CTX_set_tlsext_servername_callback(ctx.get(), on_servername);
  SSL_CTX_set_tlsext_servername_arg(ctx.get(), &impl);
  if (!impl.alpn.empty()) SSL_CTX_set_alpn_select_cb(ctx.get(), on_alpn, &impl);
  return ctx;
}

}  // namespace

ServerContext::ServerContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerContext::~ServerContext() = default;

Result<std::unique_ptr<ServerContext>> ServerContext::create(const ServerSettings& settings) {
  if (settings.certificates.empty()) return Failure{"no certificate"};
  auto impl = std::make_unique<Impl>();
  impl->alpn = alpn_wire(settings.alpn);
  impl->offer = settings.offer;
  impl->client_ca_pem = settings.client_ca_pem;
  for (const auto& cert : settings.certificates) {
    auto made = make_server_ctx(cert, *impl);
    if (!made) return Failure{made.error()};
    CtxPtr ctx = std::move(*made);
    SSL_CTX* raw = ctx.get();
    impl->contexts.push_back(std::move(ctx));
    for (const auto& h : cert.hosts) {
      std::string host = lower(h);
      if (host.rfind("*.", 0) == 0)
        impl->wildcard.emplace(host.substr(2), raw);
      else
        impl->exact.emplace(host, raw);
    }
  }
  // Tickets are encrypted with the default context's keys whichever certificate SNI chose, so resumption
  // works across names; share them.
  unsigned char keys[80];
  if (SSL_CTX_get_tlsext_ticket_keys(impl->contexts[0].get(), keys, sizeof keys) == 1)
    for (std::size_t i = 1; i < impl->contexts.size(); ++i)
      SSL_CTX_set_tlsext_ticket_keys(impl->contexts[i].get(), keys, sizeof keys);
  return std::unique_ptr<ServerContext>(new ServerContext(std::move(impl)));
}

runtime::StreamConnectionPtr ServerContext::wrap(runtime::Runtime& rt, runtime::StreamConnectionPtr raw,
                                                 std::function<void(const std::string&)> on_failure) {
  auto s = std::make_unique<TlsStream>(impl_->contexts[0].get(), true, std::move(on_failure));
  s->set_raw(std::move(raw));
  s->defer_key_exchange_to(rt);
  return s;
}

std::string unknown_cipher(const std::string& list, bool ciphersuites) {
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  std::string element;
  auto known = [&] {
    if (element.empty() || element[0] == '@') return true;  // @STRENGTH, @SECLEVEL=n
    if (ciphersuites) return SSL_CTX_set_ciphersuites(ctx.get(), element.c_str()) == 1;
    if (element[0] == '!' || element[0] == '-') return true;  // removing a name selects nothing to check
    std::string name = element[0] == '+' ? element.substr(1) : element;
    return SSL_CTX_set_cipher_list(ctx.get(), name.c_str()) == 1;
  };
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i < list.size() && list[i] != ':' && list[i] != ',' && list[i] != ' ') {
      element += list[i];
      continue;
    }
    if (!known()) {
      ERR_clear_error();
      return element;
    }
    element.clear();
  }
  return {};
}

// ------------------------------------------------------------------------------------------ client

namespace {

CtxPtr make_client_context(const ClientSettings& settings) {
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (settings.min_version) SSL_CTX_set_min_proto_version(ctx.get(), settings.min_version);
  if (settings.max_version) SSL_CTX_set_max_proto_version(ctx.get(), settings.max_version);
  if (settings.security_level >= 0) SSL_CTX_set_security_level(ctx.get(), settings.security_level);
  if (!settings.ciphers.empty()) SSL_CTX_set_cipher_list(ctx.get(), settings.ciphers.c_str());
  if (!settings.ca_pem.empty()) {
    add_trusted(ctx.get(), settings.ca_pem);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  // Checked when the configuration was built (client_key_pair_problem); a pair that fails here is left out.
  if (!settings.certificate_pem.empty())
    use_key_pair(ctx.get(), {{}, settings.certificate_pem, settings.private_key_pem, "client certificate"});
  if (!settings.alpn.empty()) {
    std::string wire = alpn_wire(settings.alpn);
    SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()));
  }
  return ctx;
}

struct SessionDeleter {
  void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionDeleter>;

// A client context and, when clients resume, the last session ticket per server (name and address).
struct ClientContext {
  CtxPtr ctx;
  std::map<std::string, SessionPtr> sessions;
};

using SessionSlot = std::pair<ClientContext*, std::string>;  // where a connection's new sessions go

void free_session_slot(void*, void* slot, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<SessionSlot*>(slot);
}

int session_slot_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_session_slot);
  return index;
}

// OpenSSL hands over each new session (in TLS 1.3 after the handshake, in a ticket); keep the newest.
int keep_session(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<SessionSlot*>(SSL_get_ex_data(ssl, session_slot_index()));
  if (!slot) return 0;
  slot->first->sessions[slot->second].reset(session);
  return 1;  // the reference is ours now
}

// An SSL_CTX costs far more to build than a handshake (OpenSSL 3 fetches its algorithms anew for each), so
// clients with the same settings share one. Per thread: an SSL_CTX's setters are not thread-safe.
ClientContext& client_context(const ClientSettings& settings) {
  thread_local std::map<std::string, ClientContext> contexts;
  std::string key = std::to_string(settings.min_version) + '/' + std::to_string(settings.max_version) + '/' +
                    std::to_string(settings.security_level) + '/' + settings.ciphers + '/' + settings.ca_pem + '/' +
                    settings.certificate_pem + '/' + (settings.resume_sessions ? "resume/" : "/");
  for (const auto& protocol : settings.alpn)
    key += protocol + ',';
  auto it = contexts.find(key);
  if (it == contexts.end()) {
    it = contexts.emplace(key, ClientContext{make_client_context(settings), {}}).first;
    if (settings.resume_sessions) {
      SSL_CTX_set_session_cache_mode(it->second.ctx.get(),
                                     SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
      SSL_CTX_sess_set_new_cb(it->second.ctx.get(), keep_session);
    }
  }
  return it->second;
}

}  // namespace

runtime::StreamConnectionPtr connect_client(runtime::Runtime& rt, const net::SocketAddress& remote,
                                            runtime::StreamHandler& handler, const ClientSettings& settings,
                                            std::function<void(const std::string&)> on_failure,
                                            const runtime::ConnectOptions& options) {
  ClientContext& context = client_context(settings);
  SSL_CTX* ctx = context.ctx.get();
  auto s = std::make_unique<TlsStream>(ctx, false, std::move(on_failure));  // SSL holds a reference
  if (!settings.server_name.empty()) {
    SSL_set_tlsext_host_name(s->ssl(), settings.server_name.c_str());
    if (!settings.ca_pem.empty()) SSL_set1_host(s->ssl(), settings.server_name.c_str());
  }
  if (settings.resume_sessions) {
    std::string peer = settings.server_name + '@' + remote.to_string();
    auto known = context.sessions.find(peer);
    if (known != context.sessions.end()) SSL_set_session(s->ssl(), known->second.get());
    SSL_set_ex_data(s->ssl(), session_slot_index(), new SessionSlot(&context, peer));
  }
  s->set_client_handler(handler);
  s->set_raw(rt.connect(remote, *s, options));
  return s;
}

std::string client_key_pair_problem(const Certificate& cert) {
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  return use_key_pair(ctx.get(), cert);
}

bool has_certificate(const std::string& pem) {
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  return add_trusted(ctx.get(), pem) > 0;
}

}  // namespace metalgate::tls
