// libFuzzer target for the configuration pipeline: arbitrary text read as a manifest file (Kubernetes objects
// and Helm values, one or more YAML documents), then the cross-object checks, the model and the proxy's
// configuration, as `metalgate validate` runs them. Nothing may crash or let an exception escape (yaml-cpp's
// included: the loader turns malformed YAML into diagnostics), and every diagnostic must say something.
// A line "#%file" in the input starts a second file, so that checks across files run too.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "engine/config/manifest_loader.h"
#include "engine/model/resolve.h"
#include "engine/proxy/proxy_config.h"

using namespace metalgate;

static void check(bool ok) {
  if (!ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  config::Diagnostics d;
  config::ManifestSet set;
  const auto cut = text.find("\n#%file\n");
  if (cut == std::string_view::npos) {
    config::load_manifest_text(text, "fuzz.yaml", set, d);
  } else {
    config::load_manifest_text(text.substr(0, cut), "a.yaml", set, d);
    config::load_manifest_text(text.substr(cut + 8), "b.yaml", set, d);
  }
  config::finish_manifest_set(set, d);
  auto model = std::make_shared<const model::Model>(model::resolve_model(std::move(set), {}, d));
  proxy::BuildOptions options;
  std::uint8_t n = 0;
  options.place_endpoint = [&n](const routing::ResolvedEndpoint&) -> std::optional<net::IpAddress> {
    return net::IpAddress::v4(10, 0, 0, ++n);
  };
  (void)proxy::build_proxy_config(model, options, d);
  for (const auto& diagnostic : d.items()) {
    check(!diagnostic.message.empty());
    check(!diagnostic.to_string().empty());
  }
  (void)d.to_string();
  return 0;
}
