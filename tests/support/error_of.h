// The message of the tandem::Error a call throws, for tests of any stage.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tandem/core/error.h"

namespace tandem::testing {

// The message of the tandem::Error thrown by fn; a test failure if fn throws
// nothing.
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ::tandem::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a tandem::Error";
  return "";
}

}  // namespace tandem::testing
