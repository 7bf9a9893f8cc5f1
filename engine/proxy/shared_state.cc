#include "engine/proxy/shared_state.h"

#include "engine/tls/tls_stream.h"

namespace metalgate::proxy {

Result<std::unique_ptr<tls::ServerContext>> make_tls_context(const ProxyConfig& config) {
  if (config.tls.certificates.empty()) return std::unique_ptr<tls::ServerContext>();
  tls::ServerSettings settings;
  for (const auto& c : config.tls.certificates)
    settings.certificates.push_back({c.hosts, c.certificate_pem, c.private_key_pem, c.source});
  settings.offer = config.tls.offer;
  settings.alpn = config.tls.alpn;
  return tls::ServerContext::create(settings);
}

Result<std::shared_ptr<SharedProxyState>> SharedProxyState::create(const ProxyConfig& config) {
  auto tls = make_tls_context(config);
  if (!tls) return Failure{tls.error()};
  std::shared_ptr<SharedProxyState> state(new SharedProxyState());
  for (const auto& b : config.backends)
    state->servers_.push_back(std::make_unique<SharedServer[]>(b.servers.size()));
  for (auto period : config.rate_periods)
    state->rate_tables_.push_back(
        std::make_shared<RateTable>(std::chrono::duration_cast<runtime::Duration>(period)));
  state->tls_ = std::move(*tls);
  return state;
}

SharedProxyState::~SharedProxyState() = default;

}  // namespace metalgate::proxy
