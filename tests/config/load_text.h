// What the config tests share: one manifest text loaded and finished as "test.yaml", with its diagnostics.
#pragma once

#include <string>

#include "engine/config/manifest_loader.h"

namespace metalgate::config::testing {

struct Loaded {
  ManifestSet set;
  Diagnostics diagnostics;
};

inline Loaded load(const std::string& yaml) {
  Loaded l;
  load_manifest_text(yaml, "test.yaml", l.set, l.diagnostics);
  finish_manifest_set(l.set, l.diagnostics);
  return l;
}

}  // namespace metalgate::config::testing
