// `metalgate validate PATH...`: load manifests, resolve the model, print it (text or JSON) with every
// diagnostic.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "engine/config/diagnostics.h"
#include "engine/model/model-t.h"

namespace metalgate::cli {

struct ValidateOptions {
  std::vector<std::string> paths;
  bool json = false;
  std::string state_file;  // previous allocations to keep (optional)
};

// What the proxy speaks, from its configuration built off the model.
struct ProtocolFacts {
  std::vector<std::string> https_alpn;   // what HTTPS frontends offer, in order (tls-alpn)
  std::vector<std::string> h2_backends;  // backends whose servers are spoken to in HTTP/2 (server-proto h2)
};

// The loaded and resolved manifests with every diagnostic: what `validate` prints, and what the Python
// module's validate() returns.
struct ValidateOutcome {
  std::shared_ptr<const model::Model> model;
  config::Diagnostics diagnostics;
  bool valid = false;
  ProtocolFacts protocols;
};
ValidateOutcome validate_manifests(const ValidateOptions& options);

// Exit codes: 0 valid, 1 invalid (every error listed).
int run_validate(const ValidateOptions& options, std::ostream& out, std::ostream& err);

// `protocols` (ValidateOutcome::protocols): what HTTPS frontends offer, shown when TLS is configured, and
// which backends are spoken to in HTTP/2.
std::string format_model_text(const model::Model& model, const config::Diagnostics& diagnostics,
                              const ProtocolFacts& protocols = {});
std::string format_model_json(const model::Model& model, const config::Diagnostics& diagnostics, bool valid,
                              const ProtocolFacts& protocols = {});

}  // namespace metalgate::cli
