// A tiny MovieLens-shaped data directory for tests that train real models in
// milliseconds: 30 users rating items of their own parity among 40 (1200
// ratings, ids from 1), and a u.item of 42 titled items (41 and 42 are never
// rated).
#pragma once

#include <filesystem>
#include <fstream>

#include "tandem/core/random.h"

namespace tandem::testing {

inline void write_tiny_movielens(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::ofstream data(dir / "u.data");
  Rng rng(1);
  for (int i = 0; i < 1200; ++i) {
    const int u = 1 + static_cast<int>(rng.below(30));
    const int m = 1 + static_cast<int>(rng.below(20)) * 2 + (u % 2);
    data << u << '\t' << m << '\t' << 1 + (u + m) % 5 << '\t' << 880000000 + i << '\n';
  }
  std::ofstream items(dir / "u.item");
  for (int m = 1; m <= 42; ++m) items << m << "|Movie " << m << " (199" << m % 10 << ")|x|\n";
}

}  // namespace tandem::testing
