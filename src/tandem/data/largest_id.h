// The largest id of a column and the line of the file it first appears on.
// With integer ids an embedding table has max id + 1 rows, so one stray
// large id (a typo, a hash, two columns swapped) decides the table's size;
// when that size is refused later (too many rows to index, above the memory
// budget), the error names the file and line to fix. The parsers record it
// for a cost of one comparison per row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tandem {

struct LargestId {
  int64_t id = -1;     // -1: no id seen, or the rows were not read from a file
  std::string source;  // the file the id was read from
  size_t line = 0;     // the first line holding `id`; 0 when unknown

  // Records `value`, read on line `at`; an id equal to the largest so far
  // keeps the earlier line.
  void see(int64_t value, size_t at) {
    if (value > id) {
      id = value;
      line = at;
    }
  }
  // The largest of this and `later`, which was read after it (an equal id
  // keeps this one's line).
  void merge(const LargestId& later) {
    if (later.id > id) *this = later;
  }
  // "source:line" when `value` is this id and its line is known, else "".
  std::string place_of(int64_t value) const {
    if (value != id || line == 0 || source.empty()) return "";
    return source + ":" + std::to_string(line);
  }
};

}  // namespace tandem
