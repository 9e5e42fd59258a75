// Helpers shared by the data-stage tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "support/error_of.h"
#include "support/temp_dir.h"
#include "tandem/core/error.h"

namespace tandem::testing {

}  // namespace tandem::testing

// EXPECT_CONTAINS(message, "u.data:2:"), printing the whole message on failure.
#define EXPECT_CONTAINS(haystack, needle)                                    \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)          \
      << "  which is: \"" << (haystack) << "\"\n  does not contain: \"" << (needle) << "\""

