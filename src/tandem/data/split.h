// The seeded shuffle/split shared by every variant of one run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tandem {

struct SplitIndices {
  std::vector<uint32_t> train;  // indices into the ratings table
  std::vector<uint32_t> test;
};

// Shuffles 0..n-1 with `seed` (tandem::Rng + Fisher-Yates, so the same on
// every platform), then takes the first `train_count` as train and the next
// `test_count` as test (like tf.data shuffle().take().skip()).
// train_count + test_count must not exceed n (error otherwise).
SplitIndices random_split(size_t n, uint64_t seed, size_t train_count, size_t test_count);

}  // namespace tandem
