// Rating records as read from a file, before any vocabulary is applied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

// Column-wise table of (user, item, rating, timestamp) interactions.
// Ids are the raw integer ids of the file; vocabularies map them to rows.
struct Ratings {
  std::vector<int64_t> users;
  std::vector<int64_t> items;
  std::vector<float> ratings;
  std::vector<int64_t> timestamps;

  size_t size() const { return users.size(); }
  void reserve(size_t n);
  void push_back(int64_t user, int64_t item, float rating, int64_t timestamp);
  // The rows listed in `indices`, in that order.
  Ratings select(const std::vector<uint32_t>& indices) const;
};

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
// separator, after its header line if it has one. A trailing '\r' and empty
// trailing lines are accepted. Throws tandem::Error naming `source` and the
// 1-based line for: a missing or different header, wrong field count, a
// non-numeric or out-of-range field, a rating outside the format's range, or
// a file with no records.
Ratings parse_ratings(std::string_view text, const std::string& source,
                      const RatingsFormat& format = {});

// Reads `path` and parses it as above; a missing or unreadable file is an
// error naming the path.
Ratings load_ratings(const std::string& path, const RatingsFormat& format = {});

}  // namespace tandem
