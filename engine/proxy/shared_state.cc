#include "engine/proxy/shared_state.h"

#include "engine/tls/tls_stream.h"

namespace metalgate::proxy {

std::unique_ptr<tls::ServerContext> make_tls_context(const ProxyConfig& config, std::string& error) {
  if (config.tls.certificates.empty()) return nullptr;
  tls::ServerSettings settings;
  for (const auto& c : config.tls.certificates)
    settings.certificates.push_back({c.hosts, c.certificate_pem, c.private_key_pem, c.source});
  settings.offer = config.tls.offer;
  settings.alpn = config.tls.alpn;
  return tls::ServerContext::create(settings, error);
}

SharedProxyState::SharedProxyState(const ProxyConfig& config, std::string& error) {
  for (const auto& b : config.backends)
    servers_.push_back(std::make_unique<SharedServer[]>(b.servers.size()));
  for (auto period : config.rate_periods)
    rate_tables_.push_back(
        std::make_shared<RateTable>(std::chrono::duration_cast<runtime::Duration>(period)));
  tls_ = make_tls_context(config, error);
}

SharedProxyState::~SharedProxyState() = default;

}  // namespace metalgate::proxy
