#include "engine/config/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace metalgate::config {

std::string SourceLocation::to_string() const {
  std::string s = file.empty() ? "<input>" : file;
  if (line > 0) s += ":" + std::to_string(line);
  if (line > 0 && column > 0) s += ":" + std::to_string(column);
  return s;
}

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
  }
  return "?";
}

std::string Diagnostic::to_string() const {
  std::string s = where.to_string() + ": " + std::string(config::to_string(severity)) + ": ";
  if (!field.empty()) s += field + ": ";
  return s + message;
}

void Diagnostics::error(SourceLocation where, std::string field, std::string message) {
  items_.push_back({Severity::kError, std::move(where), std::move(field), std::move(message)});
  ++errors_;
}
void Diagnostics::warning(SourceLocation where, std::string field, std::string message) {
  items_.push_back({Severity::kWarning, std::move(where), std::move(field), std::move(message)});
}
void Diagnostics::note(SourceLocation where, std::string field, std::string message) {
  items_.push_back({Severity::kNote, std::move(where), std::move(field), std::move(message)});
}

std::size_t Diagnostics::count(Severity severity) const {
  return static_cast<std::size_t>(std::count_if(items_.begin(), items_.end(),
                                                [&](const Diagnostic& d) { return d.severity == severity; }));
}

Diagnostics Diagnostics::since(std::size_t from) const {
  Diagnostics out;
  for (std::size_t i = from; i < items_.size(); ++i)
    out.add(items_[i]);
  return out;
}

std::vector<std::string> Diagnostics::warning_lines() const {
  std::vector<std::string> out;
  for (const auto& x : sorted())
    if (x.severity == Severity::kWarning) out.push_back(x.to_string());
  return out;
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.severity, a.where.file, a.where.line, a.where.column) <
           std::tie(b.severity, b.where.file, b.where.line, b.where.column);
  });
  return out;
}

std::string Diagnostics::to_string() const {
  std::string out;
  for (const auto& d : sorted())
    out += d.to_string() + "\n";
  return out;
}

static std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_name(std::string_view name, const std::vector<std::string_view>& candidates) {
  std::string best;
  std::size_t best_distance = SIZE_MAX;
  for (auto c : candidates) {
    std::size_t d = edit_distance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // Suggest only plausible typos: a third of the name's length, at least 2 edits.
  std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  if (best_distance > limit) return {};
  return best;
}

}  // namespace metalgate::config
