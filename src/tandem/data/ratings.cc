#include "tandem/data/ratings.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "tandem/core/error.h"
#include "tandem/data/text_file.h"

namespace tandem {

void Ratings::reserve(size_t n) {
  users.reserve(n);
  items.reserve(n);
  ratings.reserve(n);
  timestamps.reserve(n);
}

void Ratings::push_back(int64_t user, int64_t item, float rating, int64_t timestamp) {
  users.push_back(user);
  items.push_back(item);
  ratings.push_back(rating);
  timestamps.push_back(timestamp);
}

Ratings Ratings::select(const std::vector<uint32_t>& indices) const {
  Ratings out;
  const bool with_time = has_timestamps(), with_weights = has_weights();
  out.users.reserve(indices.size());
  out.items.reserve(indices.size());
  out.ratings.reserve(indices.size());
  if (with_time) out.timestamps.reserve(indices.size());
  if (with_weights) out.weights.reserve(indices.size());
  for (const uint32_t i : indices) {
    TANDEM_CHECK(i < size(), "ratings row " << i << " selected from a table of " << size()
                                            << " rows");
    out.users.push_back(users[i]);
    out.items.push_back(items[i]);
    out.ratings.push_back(ratings[i]);
    if (with_time) out.timestamps.push_back(timestamps[i]);
    if (with_weights) out.weights.push_back(weights[i]);
  }
  out.user_names = user_names;
  out.item_names = item_names;
  return out;
}

namespace {

float parse_rating(std::string_view field, const RatingsFormat& format,
                   const std::string& source, size_t line) {
  float value = 0.0f;
  const char* first = field.data();
  const char* last = first + field.size();
  const auto [ptr, ec] = std::from_chars(first, last, value);
  // from_chars accepts "nan" and "inf"; neither is a rating.
  TANDEM_CHECK(ec == std::errc() && ptr == last && std::isfinite(value),
               source << ":" << line << ": field 3 (rating) is not a number: "
                      << data_detail::quoted(field));
  TANDEM_CHECK(value >= format.min_rating && value <= format.max_rating,
               source << ":" << line << ": rating " << field << " out of range ["
                      << format.min_rating << ", " << format.max_rating << "]");
  return value;
}

}  // namespace

RatingsFormat movielens_100k_ratings() { return {}; }

RatingsFormat movielens_1m_ratings() {
  RatingsFormat f;
  f.separator = "::";
  return f;
}

RatingsFormat movielens_csv_ratings() {
  RatingsFormat f;
  f.min_rating = 0.5f;
  f.separator = ",";
  f.header = "userId,movieId,rating,timestamp";
  return f;
}

Ratings parse_ratings(std::string_view text, const std::string& source,
                      const RatingsFormat& format) {
  Ratings out;
  if (!format.header.empty()) text = data_detail::skip_header(text, format.header, source);
  const size_t first_line = format.header.empty() ? 0 : 1;
  const std::string_view sep = format.separator;
  const char* sep_name = sep == "\t" ? "tab" : sep == "," ? "comma" : "'::'";
  // One record per newline is a tight upper bound for well-formed files and
  // saves the four vectors from regrowing on a 100K-line file.
  out.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  data_detail::for_each_line(text, source, [&](std::string_view line, size_t line_no) {
    line_no += first_line;
    std::string_view f[4];
    const size_t n = data_detail::split_fields(line, sep, f, 4);
    TANDEM_CHECK(n == 4, source << ":" << line_no << ": expected 4 " << sep_name
                                << "-separated fields (user, item, rating, timestamp), found " << n);
    const int64_t user = data_detail::parse_id(f[0], 1, "user", source, line_no);
    const int64_t item = data_detail::parse_id(f[1], 2, "item", source, line_no);
    const float rating = parse_rating(f[2], format, source, line_no);
    // Timestamps are seconds since 1970; none precede it, so the same
    // non-negative integer rule as for ids applies.
    const int64_t timestamp = data_detail::parse_id(f[3], 4, "timestamp", source, line_no);
    out.push_back(user, item, rating, timestamp);
  });
  TANDEM_CHECK(out.size() > 0, source << ": no ratings found (the file is empty or blank)");
  return out;
}

Ratings load_ratings(const std::string& path, const RatingsFormat& format) {
  return parse_ratings(data_detail::read_file(path, "ratings"), path, format);
}

}  // namespace tandem
