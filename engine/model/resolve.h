// Turns a ManifestSet into a Model, reporting dangling references and unreachable configuration as
// diagnostics.
#pragma once

#include "engine/config/diagnostics.h"
#include "engine/model/model-t.h"

namespace metalgate::model {

Model resolve_model(config::ManifestSet manifests, const ResolveOptions& options,
                    config::Diagnostics& diagnostics);

}  // namespace metalgate::model
