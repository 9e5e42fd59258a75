// Splits that respect time: leave-last-out (per user, the latest interaction
// is the test one) and a global time cut (the past trains, the future tests).
// Both are deterministic functions of the columns: no seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/data/split.h"

namespace tandem {

// How the train/test split is made.
enum class SplitStrategy {
  kRandom,        // seeded shuffle, then train_count + test_count (the tutorials')
  kLeaveLastOut,  // per user, the latest interaction goes to test
  kTime,          // earliest interactions train, the rest test
};
// "random", "leave-last-out", "time".
std::string to_string(SplitStrategy s);
// The names above; anything else is an error listing them.
SplitStrategy parse_split_strategy(const std::string& name);

// For every user with at least two interactions, the one with the largest
// timestamp goes to test; ties go to the row that comes last in the table
// (file order), so the result does not depend on how a sort orders equal
// keys. Users with a single interaction stay in train (a test pair whose
// user was never trained teaches nothing about the model). Both index lists
// are ascending. Errors: columns of different lengths, more than 2^32-1 rows.
SplitIndices leave_last_out_split(const std::vector<int64_t>& users,
                                  const std::vector<int64_t>& timestamps);

// The earliest round(n * train_fraction) interactions by timestamp train, the
// rest test; equal timestamps keep their table order, so every test timestamp
// is >= every train timestamp and the split is fully determined. The fraction
// must be in (0, 1]. Both index lists are ascending.
SplitIndices time_fraction_split(const std::vector<int64_t>& timestamps, double train_fraction);

// Interactions with timestamp < cut train, the others test. Ascending lists.
SplitIndices time_cut_split(const std::vector<int64_t>& timestamps, int64_t cut);

}  // namespace tandem
