// Which rows of an embedding table one rank holds when the tables are
// sharded over the ranks of a job: row r lives on rank r mod N, as local row
// r / N. Round-robin rather than blocks, so that the hot rows of a catalogue
// sorted by popularity (ids are often assigned in order of first sight)
// spread over every rank.
#pragma once

#include <cstdint>

namespace tandem {

struct TableShard {
  int rank = 0;
  int ranks = 1;

  bool sharded() const { return ranks > 1; }
  int owner(int64_t row) const { return static_cast<int>(row % ranks); }
  int64_t local(int64_t row) const { return row / ranks; }
  int64_t global(int64_t local_row) const { return local_row * ranks + rank; }
  // How many of a table's `global_rows` rows this rank holds.
  int64_t rows_of(int64_t global_rows) const {
    return global_rows <= rank ? 0 : (global_rows - rank + ranks - 1) / ranks;
  }
};

}  // namespace tandem
