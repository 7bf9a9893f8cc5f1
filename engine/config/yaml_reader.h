// Typed, position-aware reading of one YAML node for the manifest loaders. Every problem becomes a diagnostic
// naming file:line:column and the field path ("spec.addresses[1]"); reading goes on so that all errors are
// found.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/diagnostics.h"

namespace metalgate::config {

class YamlReader {
 public:
  // `context` names the object ("Service default/web"); `path` is the field path inside it.
  YamlReader(YAML::Node node, std::string file, std::string context, Diagnostics& diagnostics,
             std::string path = "", SourceLocation fallback = {});

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  SourceLocation where() const;
  Diagnostics& diagnostics() const { return *diagnostics_; }
  void set_context(std::string context) { context_ = std::move(context); }

  bool present() const { return node_.IsDefined() && !node_.IsNull(); }
  bool has(std::string_view key) const;
  YamlReader operator[](std::string_view key) const;
  // The elements of a list; an error (and nothing) when present but not a list.
  std::vector<YamlReader> items() const;
  // The entries of a mapping as (key, reader); an error when present but not a mapping.
  std::vector<std::pair<std::string, YamlReader>> entries() const;

  // Scalars. `required` makes absence an error; a wrong type is always an error.
  std::optional<std::string> scalar(bool required = false) const;
  std::optional<std::string> string(std::string_view key, bool required = false) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                      bool required = false) const;
  std::vector<std::string> string_list(std::string_view key) const;
  // A string-to-string map (labels, annotations, ConfigMap data): any scalar value is taken as its text.
  std::map<std::string, std::string> string_map(std::string_view key) const;

  // Requires a mapping; reports keys outside `known` (with the closest known name) as errors and repeated
  // keys. `tolerated` keys are accepted and ignored: real Kubernetes fields metalgate does not use.
  bool expect_map(const std::vector<std::string_view>& known,
                  const std::vector<std::string_view>& tolerated = {}) const;
  // The same, but unknown keys are only warnings (for files whose schema is open, like Helm values).
  bool expect_map_lenient(const std::vector<std::string_view>& known,
                          const std::vector<std::string_view>& tolerated = {}) const;

  // Where `key` itself stands in this mapping (for problems with the key rather than its value).
  SourceLocation key_where(std::string_view key) const;

  void error(std::string message) const;
  void warning(std::string message) const;
  void note(std::string message) const;
  std::string field() const;  // "Service default/web: spec.ports[0]"

 private:
  bool check_map(const std::vector<std::string_view>& known, const std::vector<std::string_view>& tolerated,
                 bool strict) const;
  YamlReader child(YAML::Node node, std::string path) const;

  YAML::Node node_;
  std::string file_;
  std::string context_;
  Diagnostics* diagnostics_;
  std::string path_;
  SourceLocation fallback_;
};

// Where a yaml-cpp exception points, for malformed documents.
SourceLocation location_of(const YAML::Mark& mark, const std::string& file);

}  // namespace metalgate::config
