// The contract every fuzz target states the same way: outside bytes may be
// refused, but only with a tandem::Error (RequestError included, it derives
// from it). Any other exception escapes LLVMFuzzerTestOneInput, which libFuzzer
// and the replay driver both report as a finding; so do crashes, leaks,
// sanitizer reports and a failed FUZZ_REQUIRE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tandem/core/error.h"

namespace tandem::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs fn(); a tandem::Error is the normal way to refuse bad input, so it is
// swallowed. Returns whether fn() completed (the input was accepted).
template <typename Fn>
bool accepts(Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const tandem::Error&) {
    return false;
  }
}

}  // namespace tandem::fuzz

// An invariant of accepted input. Not assert(): it must hold in Release
// builds too, where the replay tests run.
#define FUZZ_REQUIRE(cond)                                                                  \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)
