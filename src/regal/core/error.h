#pragma once
// regal::Error and REGAL_CHECK: every bad input becomes one exception whose
// message names the file / field / value and what was expected. The CLI
// catches it, prints the message on one line and exits non-zero.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace regal {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

}  // namespace regal

// REGAL_CHECK(cond, "expected ", a, " but got ", b): throws regal::Error with
// the parts concatenated when cond is false.
#define REGAL_CHECK(cond, ...)                                   \
  do {                                                           \
    if (!(cond)) {                                               \
      throw ::regal::Error(::regal::detail::concat(__VA_ARGS__)); \
    }                                                            \
  } while (false)

#define REGAL_FAIL(...) throw ::regal::Error(::regal::detail::concat(__VA_ARGS__))
