#include "tandem/prepare/split_ratings.h"

#include <chrono>
#include <filesystem>
#include <sstream>

#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/data/csv_ratings.h"
#include "tandem/data/data_dir.h"
#include "tandem/data/dataset_layout.h"
#include "tandem/data/id_table.h"
#include "tandem/data/time_split.h"

namespace tandem {

namespace fs = std::filesystem;

// The data directory's layout: the configured one, or the one its files show.
DatasetLayout layout_of(const ExperimentConfig& config) {
  if (config.data_format != "auto") return parse_dataset_layout(config.data_format);
  if (config.data_dir.empty()) return DatasetLayout::kMovieLens100K;
  const auto found = detect_dataset_layout(config.data_dir);
  if (!found && !config.explicit_split()) {
    // An unreadable directory looks empty: say why instead.
    const std::string problem = directory_read_problem(config.data_dir);
    TANDEM_CHECK(problem.empty(), config.data_dir << ": " << problem);
    TANDEM_THROW(config.data_dir << " holds no ratings file (u.data, ratings.dat or ratings.csv)");
  }
  return found.value_or(DatasetLayout::kMovieLens100K);
}

namespace {

IdTable table_of(const std::shared_ptr<const std::vector<std::string>>& names) {
  return names ? IdTable(*names) : IdTable();
}

std::shared_ptr<const std::vector<std::string>> names_of(const IdTable& t) {
  return std::make_shared<const std::vector<std::string>>(t.names());
}

// Reads the csv format's files; ids are interned when the config uses a
// vocabulary (strings allowed), parsed as integers otherwise.
SplitRatings load_csv(const ExperimentConfig& c, const IdNames& known) {
  const bool strings = c.id_mode == IdMode::kVocabulary;
  IdTable users = table_of(known.users), items = table_of(known.items);
  IdTable* u = strings ? &users : nullptr;
  IdTable* i = strings ? &items : nullptr;
  const int threads = effective_threads(c);
  SplitRatings out;
  if (c.explicit_split()) {
    out.train = load_csv_ratings(c.train_file, c.csv, u, i, threads);
    out.test = load_csv_ratings(c.test_file, c.csv, u, i, threads);
  } else {
    out.all = load_csv_ratings(c.csv.ratings_file, c.csv, u, i, threads);
  }
  if (!c.csv.items_file.empty()) out.items = load_csv_items(c.csv.items_file, c.csv, i);
  if (strings) {
    out.names = {names_of(users), names_of(items)};
    for (Ratings* r : {&out.all, &out.train, &out.test}) {
      r->user_names = out.names.users;
      r->item_names = out.names.items;
    }
  }
  return out;
}

std::string fraction_text(double f) {
  std::ostringstream o;
  o << f;
  return o.str();
}

}  // namespace

SplitIndices split_indices(const ExperimentConfig& c, const Ratings& all, const std::string& source) {
  if (c.split == SplitStrategy::kRandom) {
    TANDEM_CHECK(c.train_count + c.test_count <= static_cast<int64_t>(all.size()),
                 source << " has " << all.size() << " ratings, fewer than the requested split "
                        << c.train_count << " + " << c.test_count
                        << " (use --train-count/--test-count)");
    return random_split(all.size(), c.seed, static_cast<size_t>(c.train_count),
                        static_cast<size_t>(c.test_count));
  }
  TANDEM_CHECK(all.has_timestamps() && all.size() > 0,
               source << " has no timestamps, which the " << to_string(c.split)
                      << " split needs (with the csv format, map the timestamp column: [data.columns] "
                         "timestamp = ..., or --timestamp-column)");
  SplitIndices s = c.split == SplitStrategy::kLeaveLastOut ? leave_last_out_split(all.users, all.timestamps)
                   : c.time_cut_timestamp ? time_cut_split(all.timestamps, *c.time_cut_timestamp)
                                          : time_fraction_split(all.timestamps, c.time_cut_fraction);
  TANDEM_CHECK(!s.train.empty(), source << ": the " << to_string(c.split)
                                        << " split leaves no training ratings");
  Rng rng(c.seed);
  shuffle(s.train, rng);
  return s;
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Splits out.all as the config says and describes the split in out.source.
void split_loaded(const ExperimentConfig& c, SplitRatings& out, const std::string& path, PrepareSeconds* seconds) {
  const auto split_start = std::chrono::steady_clock::now();
  const SplitIndices split = split_indices(c, out.all, path);
  split_ratings_columns(out.all, split.train, split.test, out.train, out.test, effective_threads(c));
  if (seconds != nullptr) seconds->split = seconds_since(split_start);
  if (c.split == SplitStrategy::kRandom) {
    out.source = path + " (seeded split " + std::to_string(c.train_count) + "/" +
                 std::to_string(c.test_count) + ", seed " + std::to_string(c.seed) + ")";
  } else {
    const std::string how = c.split == SplitStrategy::kLeaveLastOut ? "leave-last-out split"
                            : c.time_cut_timestamp ? "time split before " + std::to_string(*c.time_cut_timestamp)
                                                   : "time split at " + fraction_text(c.time_cut_fraction);
    out.source = path + " (" + how + " " + std::to_string(out.train.size()) + "/" +
                 std::to_string(out.test.size()) + ")";
  }
}

}  // namespace

SplitRatings load_split_ratings(const ExperimentConfig& c, const IdNames& known, PrepareSeconds* seconds) {
  const auto start = std::chrono::steady_clock::now();
  SplitRatings out;
  std::string path;
  const DatasetLayout layout = layout_of(c);
  if (layout == DatasetLayout::kGenericCsv) {
    out = load_csv(c, known);
    path = c.csv.ratings_file;
  } else if (c.explicit_split()) {
    out.train = load_ratings(c.train_file, {}, effective_threads(c));
    out.test = load_ratings(c.test_file, {}, effective_threads(c));
  } else {
    const DatasetFiles files = dataset_files(c.data_dir, layout);
    path = files.ratings;
    out.all = load_ratings(path, files.ratings_format, effective_threads(c));
  }
  if (layout != DatasetLayout::kGenericCsv && !c.data_dir.empty()) {
    const DatasetFiles files = dataset_files(c.data_dir, layout);
    if (fs::exists(files.items)) out.items = load_catalogue(files.items, files.items_format);
  }
  if (seconds != nullptr) seconds->load = seconds_since(start);
  if (c.explicit_split()) {
    out.source = "train " + c.train_file + ", test " + c.test_file;
    return out;
  }
  split_loaded(c, out, path, seconds);
  return out;
}

SplitRatings split_given_ratings(const ExperimentConfig& c, Ratings all, Catalogue items,
                                 const std::string& source) {
  SplitRatings out;
  out.names = {all.user_names, all.item_names};
  out.all = std::move(all);
  out.items = std::move(items);
  split_loaded(c, out, source, nullptr);
  return out;
}

Ratings load_test_ratings(const ExperimentConfig& c, const std::string& path, const IdNames& names) {
  if (c.data_format != "csv") return load_ratings(path, {}, effective_threads(c));
  const bool strings = c.id_mode == IdMode::kVocabulary;
  IdTable users = table_of(names.users), items = table_of(names.items);
  Ratings r = load_csv_ratings(path, c.csv, strings ? &users : nullptr, strings ? &items : nullptr,
                               effective_threads(c));
  if (strings) {
    r.user_names = names_of(users);
    r.item_names = names_of(items);
  }
  return r;
}

}  // namespace tandem
