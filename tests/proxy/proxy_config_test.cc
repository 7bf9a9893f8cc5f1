// The proxy's configuration as built from manifests: what each setting becomes, and each mistake reported
// at the file and line that holds it.
#include "engine/proxy/proxy_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/config/manifest_loader.h"
#include "engine/model/resolve.h"

namespace metalgate::proxy {
namespace {

using ::testing::HasSubstr;

struct Built {
  ProxyConfig config;
  config::Diagnostics diagnostics;
};

// Builds from one Helm values file whose controller.config is `config_yaml` (indented by four spaces).
std::unique_ptr<Built> build(const std::string& config_yaml) {
  auto b = std::make_unique<Built>();
  config::ManifestSet set;
  config::load_manifest_text("controller:\n  config:\n" + config_yaml, "values.yaml", set, b->diagnostics);
  config::finish_manifest_set(set, b->diagnostics);
  auto model = std::make_shared<model::Model>(model::resolve_model(std::move(set), {}, b->diagnostics));
  b->config = build_proxy_config(model, {}, b->diagnostics);
  return b;
}

const config::Diagnostic* find(const config::Diagnostics& d, config::Severity severity, const std::string& text) {
  for (const auto& x : d.items())
    if (x.severity == severity && x.message.find(text) != std::string::npos) return &x;
  return nullptr;
}

TEST(ProxyConfigTls, DefaultsAreTls12AtLeastWithMozillaIntermediateSuitesAndTickets) {
  auto b = build("    maxconn: \"100\"\n");
  EXPECT_EQ(b->config.tls.offer.min_version, 0x0303);
  EXPECT_EQ(b->config.tls.offer.ciphers, tls::kIntermediateCiphers);
  EXPECT_EQ(b->config.tls.offer.ciphers.find("-SHA:"), std::string::npos) << "no CBC suite";
  EXPECT_EQ(b->config.tls.offer.ciphersuites, "");
  EXPECT_TRUE(b->config.tls.offer.session_tickets);
}

TEST(ProxyConfigTls, SslOptionsReadHaproxysBindOptionWords) {
  auto b = build("    ssl-options: \"no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12 no-tls-tickets\"\n");
  EXPECT_FALSE(b->diagnostics.has_errors()) << b->diagnostics.to_string();
  EXPECT_EQ(b->config.tls.offer.min_version, 0x0304);
  EXPECT_FALSE(b->config.tls.offer.session_tickets);
  auto low = build("    ssl-options: \"ssl-min-ver TLSv1.1\"\n");
  EXPECT_EQ(low->config.tls.offer.min_version, 0x0302);
}

TEST(ProxyConfigTls, GlobalConfigSnippetSetsCiphersAndCiphersuites) {
  auto b = build(
      "    global-config-snippet: |\n"
      "      ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256:!aNULL\n"
      "      ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256\n");
  EXPECT_FALSE(b->diagnostics.has_errors()) << b->diagnostics.to_string();
  EXPECT_EQ(b->config.tls.offer.ciphers, "ECDHE-RSA-AES128-GCM-SHA256:!aNULL");
  EXPECT_EQ(b->config.tls.offer.ciphersuites, "TLS_AES_128_GCM_SHA256");
}

TEST(ProxyConfigTls, AnUnknownCipherOrCiphersuiteIsAnErrorAtItsLine) {
  auto b = build(
      "    timeout-client: 5s\n"
      "    global-config-snippet: |\n"
      "      ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA257\n"
      "      ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_512\n");
  const auto* cipher = find(b->diagnostics, config::Severity::kError, "'ECDHE-RSA-AES128-GCM-SHA257' is not a cipher");
  ASSERT_TRUE(cipher) << b->diagnostics.to_string();
  EXPECT_EQ(cipher->where.file, "values.yaml");
  EXPECT_EQ(cipher->where.line, 4);
  EXPECT_THAT(cipher->field, HasSubstr("global-config-snippet"));
  EXPECT_TRUE(find(b->diagnostics, config::Severity::kError, "'TLS_AES_512' is not a TLS 1.3 ciphersuite"));
  EXPECT_EQ(b->config.tls.offer.ciphers, tls::kIntermediateCiphers) << "a refused list changes nothing";
}

TEST(ProxyConfigTls, WordsAndSnippetLinesMetalgateDoesNotReadAreWarned) {
  auto b = build(
      "    ssl-options: \"no-sslv3 strict-sni\"\n"
      "    global-config-snippet: |\n"
      "      tune.ssl.default-dh-param 2048\n"
      "      ssl-default-bind-options ssl-min-ver TLSv9\n");
  EXPECT_TRUE(find(b->diagnostics, config::Severity::kWarning, "'strict-sni' is not read"));
  EXPECT_TRUE(find(b->diagnostics, config::Severity::kWarning, "'tune.ssl.default-dh-param' is not applied"));
  EXPECT_TRUE(find(b->diagnostics, config::Severity::kError, "ssl-min-ver 'TLSv9'"));
}

}  // namespace
}  // namespace metalgate::proxy
