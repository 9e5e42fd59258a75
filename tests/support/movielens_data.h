// Where the real MovieLens-100K is, for every test that reads it, and the
// rule for when it is missing. One copy, so the unit tests that read the
// real files and the end-to-end tests agree on both.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tandem::testing {

// MovieLens-100K: $TANDEM_DATA, else ../shared/data/ml-100k beside the source
// tree ($TANDEM_SOURCE_DIR, set by ctest; else the working directory).
inline std::string movielens_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("TANDEM_DATA"); env && *env) return env;
  const char* src = std::getenv("TANDEM_SOURCE_DIR");
  const fs::path root = src ? fs::path(src) : fs::current_path();
  return (root / ".." / "shared" / "data" / "ml-100k").lexically_normal().string();
}

inline bool have_movielens() {
  return std::filesystem::exists(std::filesystem::path(movielens_dir()) / "u.data");
}

// Missing data fails the test (CI must never silently skip the checks on the
// real data) unless TANDEM_ALLOW_MISSING_DATA=1, which skips it.
#define TANDEM_REQUIRE_MOVIELENS()                                                        \
  do {                                                                                    \
    if (!::tandem::testing::have_movielens()) {                                           \
      const char* allow = std::getenv("TANDEM_ALLOW_MISSING_DATA");                       \
      if (allow && std::string(allow) == "1") GTEST_SKIP() << "MovieLens-100K not found"; \
      FAIL() << "MovieLens-100K not found at " << ::tandem::testing::movielens_dir()      \
             << " (set TANDEM_DATA)";                                                     \
    }                                                                                     \
  } while (0)

}  // namespace tandem::testing
