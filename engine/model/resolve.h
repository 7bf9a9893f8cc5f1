// Turns a ManifestSet into a Model, reporting dangling references and unreachable configuration as
// diagnostics.
#pragma once

#include "engine/config/diagnostics.h"
#include "engine/model/model-t.h"

namespace metalgate::model {

Model resolve_model(config::ManifestSet manifests, const ResolveOptions& options,
                    config::Diagnostics& diagnostics);

// The addresses the model's Services hold: a reload resolves with them as
// ResolveOptions::previous_allocations, so that they stay where they are (as MetalLB keeps an allocation).
ipam::PreviousAllocations held_allocations(const Model& model);

}  // namespace metalgate::model
