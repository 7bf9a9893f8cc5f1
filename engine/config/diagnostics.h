// Errors, warnings and notes about configuration, each naming file:line:column and the field path.
// Loaders collect every problem before anyone acts on the input: all errors are listed at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace metalgate::config {

struct SourceLocation {
  std::string file;
  int line = 0;                   // 1-based; 0 when unknown
  int column = 0;                 // 1-based; 0 when unknown
  std::string to_string() const;  // "file:line:column"
};

enum class Severity { kError, kWarning, kNote };
std::string_view to_string(Severity severity);

struct Diagnostic {
  Severity severity;
  SourceLocation where;
  std::string field;  // e.g. "IPAddressPool metallb-system/haproxy-pool: spec.addresses[0]"
  std::string message;
  std::string to_string() const;  // "file:3:5: error: spec.addresses[0]: ..."
};

class Diagnostics {
 public:
  void error(SourceLocation where, std::string field, std::string message);
  void warning(SourceLocation where, std::string field, std::string message);
  void note(SourceLocation where, std::string field, std::string message);
  void add(Diagnostic d) {
    if (d.severity == Severity::kError) ++errors_;
    items_.push_back(std::move(d));
  }

  bool has_errors() const { return errors_ > 0; }
  std::size_t error_count() const { return errors_; }
  std::size_t count(Severity severity) const;
  const std::vector<Diagnostic>& items() const { return items_; }
  // Errors, then warnings, then notes; each group by file, line and column.
  std::vector<Diagnostic> sorted() const;
  // The items from the `from`-th on: what one load or run added to diagnostics shared by several.
  Diagnostics since(std::size_t from) const;
  // The warnings, sorted, one a line as `validate` prints them (for logs, reports and reload outcomes).
  std::vector<std::string> warning_lines() const;
  // Every diagnostic, one a line, errors first, each group in input order.
  std::string to_string() const;

 private:
  std::vector<Diagnostic> items_;
  std::size_t errors_ = 0;
};

// The name among `candidates` closest to `name` (edit distance), or empty when none is close enough to
// suggest.
std::string closest_name(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace metalgate::config
