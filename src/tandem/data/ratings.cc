#include "tandem/data/ratings.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "tandem/core/error.h"
#include "tandem/core/thread_pool.h"
#include "tandem/data/chunked_text.h"
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

namespace {

// out[j] = in[indices[j]]; the indices were checked by the caller. With a
// pool, each worker fills its own contiguous range of out (a pure copy: the
// result does not depend on the thread count).
template <typename T>
std::vector<T> gather(const std::vector<T>& in, const std::vector<uint32_t>& indices,
                      ThreadPool* pool = nullptr) {
  std::vector<T> out(indices.size());
  T* o = out.data();
  const T* src = in.data();
  const uint32_t* idx = indices.data();
  const auto n = static_cast<int64_t>(indices.size());
  if (pool == nullptr || pool->size() == 1) {
    for (int64_t j = 0; j < n; ++j) o[j] = src[idx[j]];
    return out;
  }
  pool->run([&](int w) {
    const Range r = split_range(n, pool->size(), w);
    for (int64_t j = r.begin; j < r.end; ++j) o[j] = src[idx[j]];
  });
  return out;
}

void check_indices(const std::vector<uint32_t>& indices, size_t rows) {
  uint32_t max = 0;
  for (const uint32_t i : indices) max = std::max(max, i);
  TANDEM_CHECK(indices.empty() || max < rows,
               "ratings row " << max << " selected from a table of " << rows << " rows");
}

}  // namespace

// Column by column rather than row by row: each pass reads one column in the
// order of `indices`, which on a shuffled split of millions of rows is what
// costs (cache misses), and writes a pre-sized vector without push_back.
Ratings Ratings::select(const std::vector<uint32_t>& indices) const {
  check_indices(indices, size());
  Ratings out;
  out.users = gather(users, indices);
  out.items = gather(items, indices);
  out.ratings = gather(ratings, indices);
  if (has_timestamps()) out.timestamps = gather(timestamps, indices);
  if (has_weights()) out.weights = gather(weights, indices);
  out.user_names = user_names;
  out.item_names = item_names;
  out.largest_user = largest_user;
  out.largest_item = largest_item;
  return out;
}

void split_ratings_columns(Ratings& all, const std::vector<uint32_t>& train_rows,
                           const std::vector<uint32_t>& test_rows, Ratings& train, Ratings& test,
                           int threads) {
  check_indices(train_rows, all.size());
  check_indices(test_rows, all.size());
  const bool with_time = all.has_timestamps(), with_weights = all.has_weights();
  std::optional<ThreadPool> pool;
  if (threads > 1) pool.emplace(threads);
  ThreadPool* p = pool ? &*pool : nullptr;
  train = Ratings{};
  test = Ratings{};
  train.users = gather(all.users, train_rows, p);
  test.users = gather(all.users, test_rows, p);
  const auto take = [&](auto& column, auto& train_column, auto& test_column) {
    train_column = gather(column, train_rows, p);
    test_column = gather(column, test_rows, p);
    std::decay_t<decltype(column)>().swap(column);  // free it now: lower peak memory
  };
  take(all.items, train.items, test.items);
  take(all.ratings, train.ratings, test.ratings);
  if (with_time) take(all.timestamps, train.timestamps, test.timestamps);
  if (with_weights) take(all.weights, train.weights, test.weights);
  train.user_names = test.user_names = all.user_names;
  train.item_names = test.item_names = all.item_names;
  train.largest_user = test.largest_user = all.largest_user;
  train.largest_item = test.largest_item = all.largest_item;
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
                      << quote_field(field));
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

namespace {

// The records of `text` (a whole file after its header, or one piece of it
// whose lines are numbered after `lines_before`) appended to `out`.
data_detail::LineWalk parse_ratings_lines(std::string_view text, size_t lines_before,
                                          const std::string& source, const RatingsFormat& format,
                                          Ratings& out) {
  const std::string_view sep = format.separator;
  const char* sep_name = sep == "\t" ? "tab" : sep == "," ? "comma" : "'::'";
  // One record per newline is a tight upper bound for well-formed files and
  // saves the four vectors from regrowing on a 100K-line file.
  out.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  return data_detail::for_each_line(
      text, source,
      [&](std::string_view line, size_t line_no) {
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
        out.largest_user.see(user, line_no);
        out.largest_item.see(item, line_no);
      },
      lines_before);
}

// dst followed by src's values; src is released.
template <typename T>
void append_column(std::vector<T>& dst, std::vector<T>& src) {
  dst.insert(dst.end(), src.begin(), src.end());
  std::vector<T>().swap(src);
}

}  // namespace

Ratings concatenate_ratings(std::vector<Ratings> parts) {
  Ratings out;
  if (parts.empty()) return out;
  out.user_names = parts.front().user_names;
  out.item_names = parts.front().item_names;
  for (const Ratings& p : parts) {
    out.largest_user.merge(p.largest_user);
    out.largest_item.merge(p.largest_item);
  }
  // Column by column, releasing each part's column once copied: the peak is
  // the parts plus one whole column, not the table twice.
  const auto join = [&parts](auto member, auto& column) {
    size_t total = 0;
    for (const Ratings& p : parts) total += (p.*member).size();
    column.reserve(total);
    for (Ratings& p : parts) append_column(column, p.*member);
  };
  join(&Ratings::users, out.users);
  join(&Ratings::items, out.items);
  join(&Ratings::ratings, out.ratings);
  join(&Ratings::timestamps, out.timestamps);
  join(&Ratings::weights, out.weights);
  return out;
}

Ratings parse_ratings(std::string_view text, const std::string& source, const RatingsFormat& format,
                      int threads) {
  if (!format.header.empty()) text = data_detail::skip_header(text, format.header, source);
  const size_t first_line = format.header.empty() ? 0 : 1;
  Ratings out;
  if (threads <= 1) {
    parse_ratings_lines(text, first_line, source, format, out);
  } else {
    ThreadPool pool(threads);
    out = concatenate_ratings(data_detail::parse_in_pieces<Ratings>(
        text, source, first_line, pool, [&](std::string_view piece, size_t lines_before, Ratings& part) {
          return parse_ratings_lines(piece, lines_before, source, format, part);
        }));
  }
  TANDEM_CHECK(out.size() > 0, source << ": no ratings found (the file is empty or blank)");
  out.largest_user.source = out.largest_item.source = source;
  return out;
}

Ratings load_ratings(const std::string& path, const RatingsFormat& format, int threads) {
  return parse_ratings(data_detail::read_file(path, "ratings"), path, format, threads);
}

}  // namespace tandem
