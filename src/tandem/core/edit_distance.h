// Levenshtein distance, for "did you mean" suggestions (subcommands,
// setting keywords).
#pragma once

#include <cstddef>
#include <string_view>

namespace tandem {

// The number of single-character insertions, deletions and substitutions
// that turn `a` into `b`.
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace tandem
