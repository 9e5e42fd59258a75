// Writes a Ratings table as a MovieLens u.data file, the format load_ratings
// reads, so generated or filtered logs can be fed to every command that takes
// --data, --train or --test.
#pragma once

#include <string>

#include "tandem/data/ratings.h"

namespace tandem {

// One line per row: user \t item \t rating \t timestamp \n. A rating is printed
// as an integer when integral ("4"), otherwise in the shortest form that
// reads back to the same float ("3.5"), so load_ratings(path) gives back
// identical columns. An empty table gives an empty file (which load_ratings,
// like for any empty u.data, rejects).
//
// Atomic: the lines go to path + ".tmp", which is synced and then renamed
// over `path`, so a reader never sees a half-written file and a failed write
// leaves any old `path` untouched. Two writers of the same path at once are
// not supported (they share the ".tmp" name).
//
// Throws tandem::Error naming `path` for: columns of different lengths, a
// negative id or timestamp or a non-finite rating (with the row), and any
// I/O failure (with the system's reason).
// `format` chooses the separator and a header line (movielens_csv_ratings()
// writes ML-latest's ratings.csv); its rating range is not checked here.
void write_ratings(const Ratings& r, const std::string& path, const RatingsFormat& format = {});

}  // namespace tandem
