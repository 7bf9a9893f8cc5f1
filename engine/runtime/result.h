// What can fail to start or to load returns a Result: the value, or why there is none. One error style for
// factories instead of constructors with error out-parameters, so nothing half-built is ever used: a caller
// that has a Result without a value has no object to call.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace metalgate {

// Why something did not happen, in words fit for a log line or a diagnostic.
struct Failure {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: a value converts, as with std::expected
  Result(Failure failure) : state_(std::move(failure)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& operator*() { return std::get<0>(state_); }
  const T& operator*() const { return std::get<0>(state_); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }
  // Empty when ok().
  const std::string& error() const {
    static const std::string none;
    return ok() ? none : std::get<1>(state_).message;
  }

 private:
  std::variant<T, Failure> state_;
};

}  // namespace metalgate
