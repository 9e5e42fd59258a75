#include "tandem/prepare/prepared_data.h"

#include <algorithm>
#include <chrono>
#include <initializer_list>

#include "tandem/core/error.h"
#include "tandem/core/thread_pool.h"
#include "tandem/data/id_set.h"

namespace tandem {

std::vector<int64_t> index_of_rows(const std::vector<int32_t>& rows, int64_t table_rows) {
  std::vector<int64_t> index(static_cast<size_t>(table_rows), -1);
  for (size_t i = 0; i < rows.size(); ++i) index[static_cast<size_t>(rows[i])] = static_cast<int64_t>(i);
  return index;
}

std::vector<int64_t> RetrievalCatalogue::index_of_rows(int64_t table_rows) const {
  return tandem::index_of_rows(rows, table_rows);
}

nlohmann::json TestCoverage::to_json() const {
  return {{"pairs", pairs},
          {"evaluated", evaluated},
          {"skipped_unknown", skipped_unknown},
          {"mapped_to_oov", mapped_to_oov},
          {"user_unseen_in_train", user_unseen_in_train},
          {"item_unseen_in_train", item_unseen_in_train}};
}

namespace {

int64_t max_of(const std::vector<int64_t>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

// The items file's catalogue (possibly empty), extended by any training item
// it lacks (titled by id) so that every trained item can be retrieved.
Catalogue build_catalogue(Catalogue cat, const Ratings& train) {
  IdSet known(std::max(max_of(cat.item_ids), max_of(train.items)), cat.size() + train.size());
  for (int64_t id : cat.item_ids) known.insert(id);
  std::vector<int64_t> extra;
  for (int64_t id : train.items) {
    if (known.insert(id)) extra.push_back(id);
  }
  std::sort(extra.begin(), extra.end());
  for (int64_t id : extra) {
    cat.item_ids.push_back(id);
    cat.titles.push_back("item " + (train.item_names ? (*train.item_names)[static_cast<size_t>(id)]
                                                     : std::to_string(id)));
  }
  return cat;
}

// Where `id` was read: the first of `candidates` (the largest ids of the
// files it may come from, recorded while parsing) whose largest id it is;
// its line is unknown (0) when none is.
LargestId locate(int64_t id, std::initializer_list<const LargestId*> candidates) {
  for (const LargestId* c : candidates)
    if (!c->place_of(id).empty()) return *c;
  LargestId unknown;
  unknown.id = id;
  return unknown;
}

// The identity vocabulary of ids 0..largest.id. An id too large for one is
// refused here rather than in Vocabulary::identity, so that the error names
// the file and line that hold it.
Vocabulary identity_vocabulary(const LargestId& largest, const char* role) {
  const std::string place = largest.place_of(largest.id);
  TANDEM_CHECK(largest.id < Vocabulary::kMaxRows,
               (place.empty() ? "" : place + ": ")
                   << role << " id " << largest.id
                   << " is too large for integer ids: its embedding table would need " << largest.id + 1
                   << " rows, and at most " << Vocabulary::kMaxRows
                   << " are supported; ids that are not small integers need the vocabulary id mode "
                      "([features] ids = \"vocabulary\" in a config file, or --preset tfrs)");
  return Vocabulary::identity(largest.id);
}

// TFRS's StringLookup(vocabulary=np.unique(titles)): the distinct titles in
// byte order get rows 1..n, and every item id its title's row.
Vocabulary title_vocabulary(const Catalogue& cat) {
  std::vector<std::string> titles = cat.titles;
  std::sort(titles.begin(), titles.end());
  titles.erase(std::unique(titles.begin(), titles.end()), titles.end());
  std::vector<int32_t> rows(cat.size());
  for (size_t i = 0; i < cat.size(); ++i) {
    const auto it = std::lower_bound(titles.begin(), titles.end(), cat.titles[i]);
    rows[i] = static_cast<int32_t>(it - titles.begin()) + 1;
  }
  return Vocabulary::keyed(cat.item_ids, std::move(rows));
}

// The catalogue's entries with their rows: one entry per row (the first in
// file order), and, where rows repeat, every entry's row as the candidates.
RetrievalCatalogue retrieval_catalogue(Catalogue cat, const Vocabulary& items) {
  RetrievalCatalogue out;
  std::vector<int32_t> all_rows;
  all_rows.reserve(cat.size());
  for (int64_t id : cat.item_ids) all_rows.push_back(*items.find(id));
  std::vector<bool> listed(static_cast<size_t>(items.rows()), false);
  bool shared = false;
  for (size_t i = 0; i < cat.size(); ++i) {
    const auto r = static_cast<size_t>(all_rows[i]);
    if (listed[r]) {
      shared = true;
      continue;
    }
    listed[r] = true;
    out.items.item_ids.push_back(cat.item_ids[i]);
    out.items.titles.push_back(std::move(cat.titles[i]));
    out.rows.push_back(all_rows[i]);
  }
  if (shared) out.candidate_rows = std::move(all_rows);
  return out;
}

}  // namespace

void encode_test(const Ratings& test, const Ratings* train, const Vocabulary& users,
                 const Vocabulary& items, LabelTransform transform, PreparedData& out) {
  // Sized for the training ids' range; the test's ids may lie outside it.
  IdSet train_users(train ? max_of(train->users) : -1, train ? train->size() : 0);
  IdSet train_items(train ? max_of(train->items) : -1, train ? train->size() : 0);
  if (train != nullptr) {
    for (int64_t id : train->users) train_users.insert(id);
    for (int64_t id : train->items) train_items.insert(id);
  }
  TestCoverage& cov = out.coverage;
  cov = TestCoverage{};
  out.test = Examples{};
  out.test_ratings.clear();
  for (size_t i = 0; i < test.size(); ++i) {
    ++cov.pairs;
    if (train != nullptr) {
      cov.user_unseen_in_train += !train_users.contains(test.users[i]);
      cov.item_unseen_in_train += !train_items.contains(test.items[i]);
    }
    const auto u = users.row_or_oov(test.users[i]);
    const auto m = items.row_or_oov(test.items[i]);
    if (!u || !m) {
      ++cov.skipped_unknown;
      continue;
    }
    if (!users.find(test.users[i]) || !items.find(test.items[i])) ++cov.mapped_to_oov;
    out.test.users.push_back(*u);
    out.test.items.push_back(*m);
    out.test.labels.push_back(transform_label(transform, test.ratings[i]));
    if (test.has_timestamps()) out.test.timestamps.push_back(test.timestamps[i]);
    if (test.has_weights()) out.test.weights.push_back(test.weights[i]);
    out.test_ratings.push_back(test.ratings[i]);
    ++cov.evaluated;
  }
}

PreparedData prepare_data(const ExperimentConfig& config, PrepareSeconds* seconds) {
  config.validate();
  return prepare_data(config, load_split_ratings(config, {}, seconds), seconds);
}

PreparedData prepare_data(const ExperimentConfig& config, SplitRatings data, PrepareSeconds* seconds) {
  config.validate();
  PreparedData out;
  const auto encode_start = std::chrono::steady_clock::now();
  const Ratings& all = data.all;
  const Ratings& train = data.train;
  const Ratings& test = data.test;
  out.source = data.source;
  out.names = data.names;
  const LargestId items_file_largest = data.items.largest_id;
  Catalogue cat = build_catalogue(std::move(data.items), train);

  // Vocabularies as in the tutorials: users from all ratings the tutorial
  // sees (the whole file in the seeded case, the training file otherwise);
  // items from the catalogue (which includes every training item).
  const Ratings& user_source = config.explicit_split() ? train : all;
  if (config.id_mode == IdMode::kInteger) {
    // The tables have max id + 1 rows: where the largest ids were read is
    // what a refused table size points to.
    out.largest_user = locate(max_of(user_source.users), {&user_source.largest_user});
    out.largest_item = locate(max_of(cat.item_ids), {&items_file_largest, &train.largest_item});
    out.users = identity_vocabulary(out.largest_user, "user");
    out.items = identity_vocabulary(out.largest_item, "item");
  } else {
    out.users = Vocabulary::lookup(user_source.users);
    out.items = config.item_key == ItemKey::kTitle ? title_vocabulary(cat) : Vocabulary::lookup(cat.item_ids);
  }
  out.catalogue = retrieval_catalogue(std::move(cat), out.items);

  out.train.users.resize(train.size());
  out.train.items.resize(train.size());
  out.train.labels.resize(train.size());
  out.train.timestamps = train.timestamps;
  // Row by row independent lookups: each thread encodes its own contiguous
  // range (the result does not depend on the thread count).
  ThreadPool pool(effective_threads(config));
  pool.run([&](int w) {
    const Range r = split_range(static_cast<int64_t>(train.size()), pool.size(), w);
    for (auto i = static_cast<size_t>(r.begin); i < static_cast<size_t>(r.end); ++i) {
      // Every training id has a row: the vocabularies were built to cover them.
      out.train.users[i] = *out.users.find(train.users[i]);
      out.train.items[i] = *out.items.find(train.items[i]);
      out.train.labels[i] = transform_label(config.label_transform, train.ratings[i]);
    }
  });
  if (train.has_weights()) out.train.weights = train.weights;
  encode_test(test, &train, out.users, out.items, config.label_transform, out);
  if (config.side_features.enabled()) {
    const std::string layout = config.data_format == "csv" ? "csv" : to_string(layout_of(config));
    out.towers = load_tower_specs(config, layout, data.names, train, out.users, out.items);
  }
  if (seconds != nullptr)
    seconds->encode = std::chrono::duration<double>(std::chrono::steady_clock::now() - encode_start).count();
  return out;
}

}  // namespace tandem
