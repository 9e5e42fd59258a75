// Rating records as read from a file, before any vocabulary is applied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/data/largest_id.h"

namespace tandem {

// Column-wise table of (user, item, rating, timestamp) interactions.
// Ids are the raw integer ids of the file; vocabularies map them to rows.
// When a file's ids are strings (a generic CSV read with vocabulary ids), the
// strings are interned in first-seen order: users[i] is then an index into
// *user_names (likewise items), and the names travel with every selection.
struct Ratings {
  std::vector<int64_t> users;
  std::vector<int64_t> items;
  std::vector<float> ratings;
  std::vector<int64_t> timestamps;  // empty when the source has none
  std::vector<float> weights;       // per-example sample weights; empty = all 1
  std::shared_ptr<const std::vector<std::string>> user_names, item_names;  // null = integer ids
  // The largest user and item id of the file the rows were read from, and
  // where each first appears (set by the parsers; unknown for rows built in
  // memory). A selection keeps them: they locate those ids, which may or may
  // not be among its rows.
  LargestId largest_user, largest_item;

  size_t size() const { return users.size(); }
  bool has_timestamps() const { return timestamps.size() == users.size(); }
  bool has_weights() const { return !weights.empty(); }
  // The weight of row i (1 when the table has none).
  float weight(size_t i) const { return weights.empty() ? 1.0f : weights[i]; }
  void reserve(size_t n);
  void push_back(int64_t user, int64_t item, float rating, int64_t timestamp);
  // The rows listed in `indices`, in that order (with their timestamps and
  // weights when the table has them, and the same id names and largest ids).
  Ratings select(const std::vector<uint32_t>& indices) const;
};

// train = all.select(train_rows), test = all.select(test_rows), freeing each
// of all's columns but users as soon as both halves have it, so that a split
// of tens of millions of rows never holds the table twice. `all` keeps its
// users (which vocabularies read) and loses the other columns.
// With threads > 1 each column's gather is shared between the threads (the
// same result).
void split_ratings_columns(Ratings& all, const std::vector<uint32_t>& train_rows,
                           const std::vector<uint32_t>& test_rows, Ratings& train, Ratings& test,
                           int threads = 1);

// How a ratings file is laid out. The default is MovieLens-100K's u.data.
struct RatingsFormat {
  float min_rating = 1.0f;
  float max_rating = 5.0f;
  std::string separator = "\t";  // "\t" u.data, "::" ratings.dat, "," ratings.csv
  std::string header;             // a first line that must read exactly this; "" = none
};

// MovieLens layouts: 100K's u.data (tab-separated, 1..5 stars), 1M's
// ratings.dat ("::"-separated, 1..5), and latest/20M/25M's ratings.csv
// (header "userId,movieId,rating,timestamp", 0.5..5 in half stars).
RatingsFormat movielens_100k_ratings();
RatingsFormat movielens_1m_ratings();
RatingsFormat movielens_csv_ratings();

// Parses ratings: one interaction per line, four fields user, item, rating,
// timestamp (integers; rating may be a decimal) separated by the format's
// separator, after its header line if it has one. A trailing '\r', empty
// trailing lines and a UTF-8 byte-order mark at the start of the file are
// accepted; a last line without a final newline is read like any other.
// Throws tandem::Error naming `source` and the 1-based line for: a missing
// or different header, wrong field count, a non-numeric or out-of-range
// field, a rating outside the format's range, or a file with no records.
// With threads > 1 the text is cut at line boundaries into one piece per
// thread and the pieces are parsed concurrently: the same rows in the same
// order, and the same error (the first one in the file), as with one thread.
Ratings parse_ratings(std::string_view text, const std::string& source,
                      const RatingsFormat& format = {}, int threads = 1);

// Reads `path` and parses it as above; a missing or unreadable file is an
// error naming the path.
Ratings load_ratings(const std::string& path, const RatingsFormat& format = {}, int threads = 1);

// The rows of `parts` one after the other (each part's columns released as
// they are copied); id names are the first part's, the largest ids the
// largest of all parts'. For joining tables parsed in pieces.
Ratings concatenate_ratings(std::vector<Ratings> parts);

}  // namespace tandem
