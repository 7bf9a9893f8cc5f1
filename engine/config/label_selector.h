// Kubernetes label selectors: matchLabels plus matchExpressions (In, NotIn, Exists, DoesNotExist).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace metalgate::config {

using Labels = std::map<std::string, std::string>;

struct LabelRequirement {
  enum class Operator { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Operator op = Operator::kIn;
  std::vector<std::string> values;
};

struct LabelSelector {
  Labels match_labels;
  std::vector<LabelRequirement> match_expressions;
  // An empty selector matches everything, as in Kubernetes.
  bool matches(const Labels& labels) const;
  bool empty() const { return match_labels.empty() && match_expressions.empty(); }
  std::string to_string() const;  // "app=web,tier in (a,b)"
  // to_string() with each expression's values sorted: equal for selectors MetalLB counts as duplicates.
  std::string canonical() const;
};

// to_string() of one expression with its values sorted, for MetalLB's duplicate-expression check.
std::string canonical(const LabelRequirement& requirement);

}  // namespace metalgate::config
