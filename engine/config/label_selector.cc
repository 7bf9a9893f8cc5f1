#include "engine/config/label_selector.h"

#include <algorithm>

namespace metalgate::config {

bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& r : match_expressions) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool in = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case LabelRequirement::Operator::kIn:
        if (!in) return false;
        break;
      case LabelRequirement::Operator::kNotIn:
        if (in) return false;
        break;
      case LabelRequirement::Operator::kExists:
        if (!has) return false;
        break;
      case LabelRequirement::Operator::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

std::string LabelSelector::to_string() const {
  std::string s;
  auto sep = [&] {
    if (!s.empty()) s += ",";
  };
  for (const auto& [k, v] : match_labels) {
    sep();
    s += k + "=" + v;
  }
  for (const auto& r : match_expressions) {
    sep();
    switch (r.op) {
      case LabelRequirement::Operator::kExists:
        s += r.key;
        continue;
      case LabelRequirement::Operator::kDoesNotExist:
        s += "!" + r.key;
        continue;
      case LabelRequirement::Operator::kIn:
        s += r.key + " in (";
        break;
      case LabelRequirement::Operator::kNotIn:
        s += r.key + " notin (";
        break;
    }
    for (std::size_t i = 0; i < r.values.size(); ++i)
      s += (i ? "," : "") + r.values[i];
    s += ")";
  }
  return s.empty() ? "(everything)" : s;
}

std::string canonical(const LabelRequirement& requirement) {
  LabelSelector one;
  one.match_expressions.push_back(requirement);
  std::sort(one.match_expressions[0].values.begin(), one.match_expressions[0].values.end());
  return one.to_string();
}

std::string LabelSelector::canonical() const {
  LabelSelector sorted = *this;
  for (auto& r : sorted.match_expressions)
    std::sort(r.values.begin(), r.values.end());
  return sorted.to_string();
}

}  // namespace metalgate::config
