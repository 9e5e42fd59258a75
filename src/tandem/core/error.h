// The one exception type of the project. Every error carries enough context
// (file, line, field, id...) for a user to act on it; it is caught and printed
// at the CLI/server edge only.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace tandem {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace tandem

// TANDEM_THROW("file " << path << ":" << line << ": bad rating " << r);
#define TANDEM_THROW(stream_expr)                  \
  do {                                             \
    std::ostringstream tandem_oss_;                \
    tandem_oss_ << stream_expr;                    \
    throw ::tandem::Error(tandem_oss_.str());      \
  } while (0)

// TANDEM_CHECK(cond, "what went wrong, with context " << value);
#define TANDEM_CHECK(cond, stream_expr)            \
  do {                                             \
    if (!(cond)) TANDEM_THROW(stream_expr);        \
  } while (0)
