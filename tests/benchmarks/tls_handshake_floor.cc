// The floor under a TLS proxy's full handshake: OpenSSL's own server work, with nothing else. Full TLS 1.3
// handshakes (the client offers ALPN h2 and http/1.1 and a server name) run in one process over a pair of
// memory BIOs, no socket, no event loop, no HTTP; only the server's calls are timed (SSL_new, the handshake,
// reading the client's first byte, SSL_free). The server is set up as metalgate's tls::ServerContext sets
// it up (engine/tls/tls_stream.cc: TLS 1.2 at least, released buffers, the server session cache, SNI and
// ALPN callbacks), with OpenSSL's default of two session tickets, and once more without tickets, to show
// what they cost. Any proxy built on this OpenSSL pays at least the first figure per new connection.
//   tls_handshake_floor CERT.pem KEY.pem [HANDSHAKES]
// prints "with_tickets_us without_tickets_us" (server µs per handshake, the median of five batches).
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

double now_us() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static const unsigned char ours[] = "\x02h2\x08http/1.1";
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, ours, sizeof ours - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

int read_server_name(SSL* ssl, int*, void*) {
  return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

SSL_CTX* server_context(const char* cert, const char* key, bool tickets) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    std::exit(2);
  }
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>("metalgate"), 9);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_tlsext_servername_callback(ctx, read_server_name);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  if (!tickets) SSL_CTX_set_num_tickets(ctx, 0);
  return ctx;
}

bool step(SSL* ssl, bool& done) {
  const int r = SSL_do_handshake(ssl);
  if (r == 1) return done = true;
  return SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ;
}

// Server µs per handshake over `n` handshakes.
double batch(SSL_CTX* server, SSL_CTX* client, int n) {
  double server_us = 0;
  for (int i = 0; i < n; ++i) {
    BIO *server_bio = nullptr, *client_bio = nullptr;
    BIO_new_bio_pair(&server_bio, 0, &client_bio, 0);
    SSL* c = SSL_new(client);
    SSL_set_tlsext_host_name(c, "bench.local");
    SSL_set_bio(c, client_bio, client_bio);
    SSL_set_connect_state(c);
    double t0 = now_us();
    SSL* s = SSL_new(server);
    SSL_set_bio(s, server_bio, server_bio);
    SSL_set_accept_state(s);
    server_us += now_us() - t0;
    bool client_done = false, server_done = false;
    while (!client_done || !server_done) {
      if (!client_done && !step(c, client_done)) break;
      t0 = now_us();
      const bool ok = server_done || step(s, server_done);
      server_us += now_us() - t0;
      if (!ok) break;
    }
    if (!client_done || !server_done) {
      ERR_print_errors_fp(stderr);
      std::exit(1);
    }
    SSL_write(c, "x", 1);  // the request's first byte; the client's read takes the tickets
    char byte = 0;
    t0 = now_us();
    const int got = SSL_read(s, &byte, 1);
    SSL_free(s);
    server_us += now_us() - t0;
    SSL_read(c, &byte, 0);
    SSL_free(c);
    if (got != 1) std::exit(1);
  }
  return server_us / n;
}

double median_of_five(SSL_CTX* server, SSL_CTX* client, int n) {
  std::vector<double> v;
  for (int i = 0; i < 5; ++i)
    v.push_back(batch(server, client, n / 5));
  std::sort(v.begin(), v.end());
  return v[2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CERT.pem KEY.pem [HANDSHAKES]\n", argv[0]);
    return 2;
  }
  const int n = argc > 3 ? std::max(5, std::atoi(argv[3])) : 2000;
  SSL_CTX* client = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_alpn_protos(client, reinterpret_cast<const unsigned char*>("\x02h2\x08http/1.1"), 12);
  SSL_CTX* with = server_context(argv[1], argv[2], true);
  SSL_CTX* without = server_context(argv[1], argv[2], false);
  batch(with, client, 50);  // warm-up: the first handshakes fetch OpenSSL's algorithms
  const double with_tickets = median_of_five(with, client, n);
  const double without_tickets = median_of_five(without, client, n);
  std::printf("%.1f %.1f\n", with_tickets, without_tickets);
  SSL_CTX_free(with);
  SSL_CTX_free(without);
  SSL_CTX_free(client);
  return 0;
}
