// A tiny MovieLens-shaped data directory for tests that train real models in
// milliseconds: 30 users rating items of their own parity among 40 (1200
// ratings, ids from 1), and a u.item of 42 titled items (41 and 42 are never
// rated).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "tandem/config/experiment_config.h"
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

// write_tiny_movielens' u.item with movie 5 titled as movie 3: one title
// naming two movies, as 18 titles do in MovieLens-100K.
inline void write_tiny_shared_title(const std::filesystem::path& dir) {
  std::ofstream items(dir / "u.item", std::ios::trunc);
  for (int m = 1; m <= 42; ++m) items << m << "|Movie " << (m == 5 ? 3 : m) << "|x|\n";
}

// Side files beside write_tiny_movielens' ratings: users 1..28 have a u.user
// line (29 and 30 do not), items 1..42 a u.item line with genre flags (item 7
// none) and a release date (item 9 none).
inline void write_tiny_side_files(const std::filesystem::path& dir) {
  const char* occupations[] = {"writer", "artist", "doctor", "student"};
  std::ofstream users(dir / "u.user");
  for (int u = 1; u <= 28; ++u)
    users << u << '|' << 15 + 2 * u << '|' << (u % 3 ? 'M' : 'F') << '|' << occupations[u % 4] << '|'
          << 10000 + 137 * u << '\n';
  std::ofstream items(dir / "u.item", std::ios::trunc);
  for (int m = 1; m <= 42; ++m) {
    items << m << "|Movie " << m << '|' << (m == 9 ? "" : "01-Jan-199" + std::to_string(m % 4)) << "||url";
    for (int g = 0; g < 19; ++g) items << '|' << (m != 7 && (g == m % 19 || g == (m * 7) % 19) ? 1 : 0);
    items << '\n';
  }
}

// Every side feature on, small: dim 4, tower MLP [8], 4 timestamp buckets.
inline void enable_all_side_features(ExperimentConfig& c) {
  c.side_features.user = {"age", "gender", "occupation", "zip"};
  c.side_features.item = {"genres", "year"};
  c.side_features.timestamp_buckets = 4;
  c.side_features.feature_dim = 4;
  c.side_features.tower_layers = {8};
}

// A preset shrunk to the tiny data: 1000/200 split, 2 epochs of batch 100,
// dimension 8, head 16-8, k 5, one thread.
inline ExperimentConfig tiny_config(const std::string& preset, const std::filesystem::path& dir) {
  ExperimentConfig c = preset_config(preset);
  c.data_dir = dir.string();
  c.train_count = 1000;
  c.test_count = 200;
  c.batch_size = 100;
  c.epochs = 2;
  c.embedding_dim = 8;
  c.layer_sizes = {16, 8};
  c.k = 5;
  c.threads = 1;
  return c;
}

}  // namespace tandem::testing
