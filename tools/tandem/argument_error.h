// An error in the command line itself, found after CLI11's parse: a flag's
// value the settings registry refuses, a flag that needs another, a value
// of the wrong shape. main() prints it as it prints CLI11's own parse
// errors: one `tandem: error: ...` line, then the subcommand's usage hint,
// and exit code 1. Errors about what the flags point at (a missing file, bad
// data) stay plain tandem::Error: the command line was well formed.
#pragma once

#include <sstream>
#include <string>
#include <utility>

#include "tandem/core/error.h"

namespace tandem::cli {

class ArgumentError : public Error {
 public:
  explicit ArgumentError(const std::string& message) : Error(message) {}
};

// fn(), with a tandem::Error it throws turned into an ArgumentError (same
// message): for the checks of a flag's value that live in the libraries.
template <typename Fn>
decltype(auto) as_argument_error(Fn&& fn) {
  try {
    return std::forward<Fn>(fn)();
  } catch (const ArgumentError&) {
    throw;
  } catch (const Error& e) {
    throw ArgumentError(e.what());
  }
}

}  // namespace tandem::cli

// TANDEM_ARGUMENT_CHECK(cond, "--feature '" << f << "' must be NAME=VALUE");
#define TANDEM_ARGUMENT_CHECK(cond, stream_expr)                  \
  do {                                                            \
    if (!(cond)) {                                                \
      std::ostringstream tandem_oss_;                             \
      tandem_oss_ << stream_expr;                                 \
      throw ::tandem::cli::ArgumentError(tandem_oss_.str());      \
    }                                                             \
  } while (0)
