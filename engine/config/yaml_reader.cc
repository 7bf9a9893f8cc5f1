#include "engine/config/yaml_reader.h"

#include <charconv>
#include <set>

namespace metalgate::config {

SourceLocation location_of(const YAML::Mark& mark, const std::string& file) {
  if (mark.is_null() || mark.line < 0) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

YamlReader::YamlReader(YAML::Node node, std::string file, std::string context, Diagnostics& diagnostics,
                       std::string path, SourceLocation fallback)
    : node_(std::move(node)),
      file_(std::move(file)),
      context_(std::move(context)),
      diagnostics_(&diagnostics),
      path_(std::move(path)),
      fallback_(std::move(fallback)) {}

SourceLocation YamlReader::where() const {
  if (node_.IsDefined()) {
    auto loc = location_of(node_.Mark(), file_);
    if (loc.line > 0) return loc;
  }
  return fallback_.file.empty() ? SourceLocation{file_, 0, 0} : fallback_;
}

std::string YamlReader::field() const {
  if (context_.empty()) return path_;
  if (path_.empty()) return context_;
  return context_ + ": " + path_;
}

SourceLocation YamlReader::key_where(std::string_view key) const {
  if (node_.IsDefined() && node_.IsMap())
    for (auto it = node_.begin(); it != node_.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) return location_of(it->first.Mark(), file_);
  return where();
}

void YamlReader::error(std::string message) const {
  diagnostics_->error(where(), field(), std::move(message));
}
void YamlReader::warning(std::string message) const {
  diagnostics_->warning(where(), field(), std::move(message));
}
void YamlReader::note(std::string message) const {
  diagnostics_->note(where(), field(), std::move(message));
}

YamlReader YamlReader::child(YAML::Node node, std::string path) const {
  return YamlReader(std::move(node), file_, context_, *diagnostics_, std::move(path), where());
}

bool YamlReader::has(std::string_view key) const {
  if (!node_.IsDefined() || !node_.IsMap()) return false;
  auto v = node_[std::string(key)];
  return v.IsDefined() && !v.IsNull();
}

YamlReader YamlReader::operator[](std::string_view key) const {
  std::string p = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  if (!node_.IsDefined() || !node_.IsMap()) return child(YAML::Node(YAML::NodeType::Undefined), std::move(p));
  return child(node_[std::string(key)], std::move(p));
}

std::vector<YamlReader> YamlReader::items() const {
  std::vector<YamlReader> out;
  if (!present()) return out;
  if (!node_.IsSequence()) {
    error("must be a list");
    return out;
  }
  for (std::size_t i = 0; i < node_.size(); ++i)
    out.push_back(child(node_[i], path_ + "[" + std::to_string(i) + "]"));
  return out;
}

std::vector<std::pair<std::string, YamlReader>> YamlReader::entries() const {
  std::vector<std::pair<std::string, YamlReader>> out;
  if (!present()) return out;
  if (!node_.IsMap()) {
    error("must be a mapping");
    return out;
  }
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
    std::string p = path_.empty() ? key : path_ + "." + key;
    out.emplace_back(key, child(it->second, p));
  }
  return out;
}

std::optional<std::string> YamlReader::scalar(bool required) const {
  if (!present()) {
    if (required) error("is required");
    return std::nullopt;
  }
  if (!node_.IsScalar()) {
    error(node_.IsMap() ? "must be a single value, not a mapping" : "must be a single value, not a list");
    return std::nullopt;
  }
  return node_.Scalar();
}

std::optional<std::string> YamlReader::string(std::string_view key, bool required) const {
  return (*this)[key].scalar(required);
}

std::optional<bool> YamlReader::boolean(std::string_view key) const {
  auto r = (*this)[key];
  auto s = r.scalar();
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "True" || *s == "TRUE") return true;
  if (*s == "false" || *s == "False" || *s == "FALSE") return false;
  r.error("must be true or false, not '" + *s + "'");
  return std::nullopt;
}

std::optional<std::int64_t> YamlReader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                                bool required) const {
  auto r = (*this)[key];
  auto s = r.scalar(required);
  if (!s) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size()) {
    r.error("must be a whole number, not '" + *s + "'");
    return std::nullopt;
  }
  if (v < min || v > max) {
    r.error("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", not " + *s);
    return std::nullopt;
  }
  return v;
}

std::vector<std::string> YamlReader::string_list(std::string_view key) const {
  std::vector<std::string> out;
  for (const auto& item : (*this)[key].items())
    if (auto s = item.scalar(true)) out.push_back(*s);
  return out;
}

std::map<std::string, std::string> YamlReader::string_map(std::string_view key) const {
  std::map<std::string, std::string> out;
  auto r = (*this)[key];
  for (auto& [k, v] : r.entries()) {
    if (!v.present()) {
      out[k] = "";
      continue;
    }
    if (auto s = v.scalar()) {
      if (!out.emplace(k, *s).second) v.error("appears twice");
    }
  }
  return out;
}

bool YamlReader::expect_map(const std::vector<std::string_view>& known,
                            const std::vector<std::string_view>& tolerated) const {
  return check_map(known, tolerated, true);
}

bool YamlReader::expect_map_lenient(const std::vector<std::string_view>& known,
                                    const std::vector<std::string_view>& tolerated) const {
  return check_map(known, tolerated, false);
}

bool YamlReader::check_map(const std::vector<std::string_view>& known,
                           const std::vector<std::string_view>& tolerated, bool strict) const {
  if (!present()) return false;
  if (!node_.IsMap()) {
    error("must be a mapping");
    return false;
  }
  std::vector<std::string_view> all(known);
  all.insert(all.end(), tolerated.begin(), tolerated.end());
  std::set<std::string> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!it->first.IsScalar()) {
      child(it->first, path_).error("keys must be plain names");
      continue;
    }
    const std::string& key = it->first.Scalar();
    std::string p = path_.empty() ? key : path_ + "." + key;
    YamlReader at = child(it->first, p);
    if (!seen.insert(key).second) {
      at.error("appears twice");
      continue;
    }
    if (std::find(all.begin(), all.end(), key) != all.end()) continue;
    std::string message = "unknown field '" + key + "'";
    std::string suggestion = closest_name(key, all);
    if (!suggestion.empty()) message += " (did you mean '" + suggestion + "'?)";
    if (strict)
      at.error(message);
    else
      at.warning(message);
  }
  return true;
}

}  // namespace metalgate::config
