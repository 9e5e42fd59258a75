#include "cmd_options_data.h"

#include <filesystem>

#include "tandem/data/csv_ratings.h"

namespace tandem::cli {

void DataOptions::add_to(CLI::App& app) {
  app.add_option("--format", format,
                 "Data format: auto, movielens-100k, movielens-1m, movielens-csv, or csv (a "
                 "generic delimited file: --ratings-file and the column flags)")
      ->check(CLI::IsMember({"auto", "movielens-100k", "movielens-1m", "movielens-csv", "csv"}));
  app.add_option("--ratings-file", ratings_file, "csv format: the ratings file");
  app.add_option("--items-file", items_file,
                 "csv format: an items file with ids and titles (optional); --item-features name its columns");
  app.add_option("--users-file", users_file,
                 "csv format: a users file with ids (optional); --user-features name its columns");
  app.add_option("--list-separator", list_separator,
                 "csv format: splits a side-feature field into several values (a bag), e.g. '|'");
  app.add_option("--separator", separator,
                 "csv format: auto (from the extension, else the first line), comma, tab, or one character");
  app.add_flag("--no-header", no_header, "csv format: the files have no header line (columns by index)");
  const char* col = " column: header name or 0-based index";
  app.add_option("--user-column", user_column, std::string("csv format: user id") + col + " (default 0)");
  app.add_option("--item-column", item_column, std::string("csv format: item id") + col + " (default 1)");
  app.add_option("--rating-column", rating_column,
                 std::string("csv format: rating") + col + " (default none: implicit feedback, rating 1)");
  app.add_option("--timestamp-column", timestamp_column, std::string("csv format: timestamp") + col);
  app.add_option("--weight-column", weight_column,
                 std::string("csv format: per-example sample weight") + col + " (default none: 1)");
  app.add_option("--item-id-column", item_id_column, std::string("csv format: items file's id") + col + " (default 0)");
  app.add_option("--title-column", title_column, std::string("csv format: items file's title") + col + " (default 1)");
  app.add_option("--user-id-column", user_id_column, std::string("csv format: users file's id") + col + " (default 0)");
  app.add_option("--item-key", item_key,
                 "What an item's embedding row stands for: id (each item id) or title (each "
                 "distinct title, as TFRS's StringLookup over movie titles; the tfrs preset's "
                 "default; needs vocabulary ids)")
      ->check(CLI::IsMember({"id", "title"}));
  app.add_option("--split", split,
                 "random (seeded, --train-count/--test-count), leave-last-out (per user, the latest "
                 "rating tests) or time (the earliest --time-cut-fraction train)")
      ->check(CLI::IsMember({"random", "leave-last-out", "time"}));
  app.add_option("--time-cut-fraction", time_cut_fraction,
                 "time split: fraction of ratings, earliest first, that train (default 0.8)");
  app.add_option("--time-cut-timestamp", time_cut_timestamp,
                 "time split: ratings before this timestamp train, the rest test (instead of the fraction)");
}

void DataOptions::apply(ExperimentConfig& c) const {
  namespace fs = std::filesystem;
  if (!format.empty()) c.data_format = format;
  if (!item_key.empty()) c.item_key = parse_item_key(item_key);
  CsvRatingsSpec& s = c.csv;
  if (!ratings_file.empty()) s.ratings_file = fs::absolute(ratings_file).lexically_normal().string();
  if (!items_file.empty()) s.items_file = fs::absolute(items_file).lexically_normal().string();
  if (!users_file.empty()) s.users_file = fs::absolute(users_file).lexically_normal().string();
  if (!list_separator.empty()) s.list_separator = list_separator;
  if (!separator.empty()) s.separator = separator;
  if (no_header) s.header = false;
  const std::pair<const std::optional<std::string>*, ColumnRef*> columns[] = {
      {&user_column, &s.user},         {&item_column, &s.item},
      {&rating_column, &s.rating},     {&timestamp_column, &s.timestamp},
      {&weight_column, &s.weight},     {&item_id_column, &s.item_id},
      {&title_column, &s.item_title},   {&user_id_column, &s.user_file_id}};
  for (const auto& [flag, ref] : columns)
    if (*flag) *ref = parse_column_ref(**flag);
  if (!split.empty()) c.split = parse_split_strategy(split);
  if (time_cut_fraction) c.time_cut_fraction = *time_cut_fraction;
  if (time_cut_timestamp) c.time_cut_timestamp = *time_cut_timestamp;
}

}  // namespace tandem::cli
