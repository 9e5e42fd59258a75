#include "tandem/prepare/prepared_store.h"

#include <algorithm>

#include "tandem/core/error.h"
#include "tandem/prepare/training_interactions.h"

namespace tandem {

namespace {

// What the store's files hold, written and read in chunks of this many
// values (the writer never copies a whole column).
constexpr size_t kChunk = size_t{1} << 20;

template <typename T>
void write_column(ColumnStoreWriter& w, const std::string& name, const std::vector<T>& v) {
  w.append(name, nullptr, 0);  // an empty column is still a file
  for (size_t i = 0; i < v.size(); i += kChunk)
    w.append(name, v.data() + i, std::min(kChunk, v.size() - i) * sizeof(T));
}

template <typename T>
std::vector<T> read_column(const ColumnStore& s, const std::string& name) {
  const int64_t bytes = s.bytes(name);
  TANDEM_CHECK(bytes % static_cast<int64_t>(sizeof(T)) == 0,
               s.dir() << "/" << name << ": " << bytes << " bytes, not a whole number of "
                       << sizeof(T) << "-byte values");
  std::vector<T> v(static_cast<size_t>(bytes) / sizeof(T));
  s.read(name, 0, v.data(), bytes);
  return v;
}

void write_split(ColumnStoreWriter& w, const StoreSplit& split, const Examples& ex) {
  write_column(w, split.column("users.i32"), ex.users);
  write_column(w, split.column("items.i32"), ex.items);
  write_column(w, split.column("labels.f32"), ex.labels);
  if (split.timestamps) write_column(w, split.column("timestamps.i64"), ex.timestamps);
  if (split.weights) write_column(w, split.column("weights.f32"), ex.weights);
}

nlohmann::json split_json(const StoreSplit& s) {
  return {{"rows", s.rows}, {"timestamps", s.timestamps}, {"weights", s.weights}};
}

StoreSplit split_from(const nlohmann::json& meta, const char* name) {
  StoreSplit s;
  s.name = name;
  const auto& j = meta.at(name);
  s.rows = j.at("rows").get<int64_t>();
  s.timestamps = j.at("timestamps").get<bool>();
  s.weights = j.at("weights").get<bool>();
  TANDEM_CHECK(s.rows >= 0, "the " << name << " split has " << s.rows << " rows");
  return s;
}

void check_split(const PreparedStore& p, const StoreSplit& s) {
  p.files.check_size(s.column("users.i32"), s.rows, 4);
  p.files.check_size(s.column("items.i32"), s.rows, 4);
  p.files.check_size(s.column("labels.f32"), s.rows, 4);
  if (s.timestamps) p.files.check_size(s.column("timestamps.i64"), s.rows, 8);
  if (s.weights) p.files.check_size(s.column("weights.f32"), s.rows, 4);
}

const char* kDataTables[] = {"data", "split"};
const char* kFeatureKeys[] = {"ids", "label"};

nlohmann::json data_settings(const ExperimentConfig& c) {
  const nlohmann::json j = c.to_json();
  nlohmann::json out = nlohmann::json::object();
  for (const char* t : kDataTables)
    if (j.contains(t)) out[t] = j.at(t);
  for (const char* k : kFeatureKeys)
    if (j.contains("features") && j.at("features").contains(k)) out["features"][k] = j.at("features").at(k);
  return out;
}

Vocabulary::Kind vocabulary_kind(const std::string& s) {
  if (s == "identity") return Vocabulary::Kind::kIdentity;
  if (s == "lookup") return Vocabulary::Kind::kLookup;
  if (s == "keyed") return Vocabulary::Kind::kKeyed;
  TANDEM_THROW("unknown vocabulary kind '" << s << "'");
}

const char* vocabulary_kind_name(Vocabulary::Kind k) {
  switch (k) {
    case Vocabulary::Kind::kIdentity: return "identity";
    case Vocabulary::Kind::kLookup: return "lookup";
    case Vocabulary::Kind::kKeyed: return "keyed";
  }
  return "?";
}

// The training-interaction index, if the store has one: all three files or
// none; offsets and counts that agree with the train split; every seen item
// a row of the item table.
void open_seen_index(PreparedStore& p, int64_t user_rows, int64_t item_rows) {
  const ColumnStore& f = p.files;
  const bool any = f.has(kStoreItemCounts) || f.has(kStoreSeenOffsets) || f.has(kStoreSeenItems);
  if (!any) return;
  for (const char* name : {kStoreItemCounts, kStoreSeenOffsets, kStoreSeenItems})
    TANDEM_CHECK(f.has(name), f.dir() << "/" << name << ": missing; the store has only part of the "
                                         "training-interaction index");
  const std::string dir = f.dir() + "/";
  f.check_size(kStoreItemCounts, item_rows, 8);
  f.check_size(kStoreSeenOffsets, user_rows + 1, 8);
  const int64_t item_bytes = f.bytes(kStoreSeenItems);
  TANDEM_CHECK(item_bytes % 4 == 0, dir << kStoreSeenItems << ": " << item_bytes
                                        << " bytes, not a whole number of 4-byte values");
  p.seen_pairs = item_bytes / 4;
  p.item_train_counts = read_column<int64_t>(f, kStoreItemCounts);
  p.seen_offsets = read_column<int64_t>(f, kStoreSeenOffsets);
  int64_t total = 0;
  for (int64_t c : p.item_train_counts) {
    TANDEM_CHECK(c >= 0 && c <= p.train.rows - total,
                 dir << kStoreItemCounts << ": the counts do not add up to the " << p.train.rows << " train rows");
    total += c;
  }
  TANDEM_CHECK(total == p.train.rows, dir << kStoreItemCounts << ": the counts add up to " << total
                                          << ", not to the " << p.train.rows << " train rows");
  const auto& o = p.seen_offsets;
  TANDEM_CHECK(o.front() == 0 && o.back() == p.seen_pairs && std::is_sorted(o.begin(), o.end()),
               dir << kStoreSeenOffsets << ": does not index the " << p.seen_pairs << " entries of "
                   << kStoreSeenItems);
  TANDEM_CHECK(p.seen_pairs <= p.train.rows, dir << kStoreSeenItems << ": " << p.seen_pairs
                                                 << " seen items, more than the " << p.train.rows
                                                 << " train rows");
  std::vector<int32_t> block(std::min<size_t>(kChunk, static_cast<size_t>(p.seen_pairs)));
  for (int64_t first = 0; first < p.seen_pairs; first += static_cast<int64_t>(kChunk)) {
    const int64_t n = std::min(static_cast<int64_t>(kChunk), p.seen_pairs - first);
    f.read(kStoreSeenItems, first * 4, block.data(), n * 4);
    for (int64_t i = 0; i < n; ++i)
      TANDEM_CHECK(block[static_cast<size_t>(i)] >= 0 && block[static_cast<size_t>(i)] < item_rows,
                   dir << kStoreSeenItems << ": entry " << first + i << " is row " << block[static_cast<size_t>(i)]
                       << ", outside the item table of " << item_rows << " rows");
  }
  p.has_seen_index = true;
}

}  // namespace

std::string StoreSplit::column(const char* what) const { return name + "." + what; }

void write_prepared_store(const std::string& dir, const ExperimentConfig& config, const PreparedData& data) {
  TANDEM_CHECK(data.names.users == nullptr && data.names.items == nullptr,
               "--output: the example store holds integer ids only; these ratings have string ids");
  TANDEM_CHECK(!config.side_features.enabled(),
               "--output: the example store does not hold side features yet; prepare without "
               "--user-features/--item-features/--timestamp-buckets");
  StoreSplit train{"train", static_cast<int64_t>(data.train.size()),
                   data.train.timestamps.size() == data.train.size() && data.train.size() > 0,
                   !data.train.weights.empty()};
  StoreSplit test{"test", static_cast<int64_t>(data.test.size()),
                  data.test.timestamps.size() == data.test.size() && data.test.size() > 0,
                  !data.test.weights.empty()};
  ColumnStoreWriter w(dir);
  write_split(w, train, data.train);
  write_split(w, test, data.test);
  write_column(w, "test.ratings.f32", data.test_ratings);
  write_column(w, "users.vocab.i64", data.users.defining_ids());
  write_column(w, "items.vocab.i64", data.items.defining_ids());
  if (data.items.kind() == Vocabulary::Kind::kKeyed)
    write_column(w, "items.vocab_rows.i32", data.items.defining_rows());
  TANDEM_CHECK(data.users.kind() != Vocabulary::Kind::kKeyed, "a keyed user vocabulary cannot be stored");
  write_column(w, "catalogue.ids.i64", data.catalogue.items.item_ids);
  write_column(w, "catalogue.rows.i32", data.catalogue.rows);
  if (!data.catalogue.candidate_rows.empty())
    write_column(w, "catalogue.candidates.i32", data.catalogue.candidate_rows);
  {
    // Built here, where every example is in memory anyway, so that training
    // from the store neither builds nor holds it.
    const TrainingInteractions index =
        index_training_interactions(data.train, data.users.rows(), data.items.rows());
    write_column(w, kStoreItemCounts, index.item_counts);
    write_column(w, kStoreSeenOffsets, index.seen_offsets);
    write_column(w, kStoreSeenItems, index.seen_items);
  }
  const std::string titles = nlohmann::json(data.catalogue.items.titles).dump();
  w.append("catalogue.titles.json", titles.data(), titles.size());
  w.commit({{"train", split_json(train)},
            {"test", split_json(test)},
            {"users_vocabulary", vocabulary_kind_name(data.users.kind())},
            {"items_vocabulary", vocabulary_kind_name(data.items.kind())},
            {"coverage", data.coverage.to_json()},
            {"source", data.source},
            {"data_config", data_settings(config)}});
}

PreparedStore open_prepared_store(const std::string& dir) {
  PreparedStore p;
  p.files = ColumnStore::open(dir);
  const std::string manifest = dir + "/" + kColumnStoreManifest;
  try {
    const nlohmann::json& m = p.files.meta();
    p.train = split_from(m, "train");
    p.test = split_from(m, "test");
    p.source = m.at("source").get<std::string>();
    p.data_config = m.at("data_config");
    const auto& c = m.at("coverage");
    p.coverage.pairs = c.at("pairs").get<int64_t>();
    p.coverage.evaluated = c.at("evaluated").get<int64_t>();
    p.coverage.skipped_unknown = c.at("skipped_unknown").get<int64_t>();
    p.coverage.mapped_to_oov = c.at("mapped_to_oov").get<int64_t>();
    p.coverage.user_unseen_in_train = c.at("user_unseen_in_train").get<int64_t>();
    p.coverage.item_unseen_in_train = c.at("item_unseen_in_train").get<int64_t>();
    p.users = Vocabulary::from_defining_ids(vocabulary_kind(m.at("users_vocabulary").get<std::string>()),
                                            read_column<int64_t>(p.files, "users.vocab.i64"));
    const auto items_kind = vocabulary_kind(m.at("items_vocabulary").get<std::string>());
    p.items = Vocabulary::from_defining_ids(
        items_kind, read_column<int64_t>(p.files, "items.vocab.i64"),
        items_kind == Vocabulary::Kind::kKeyed ? read_column<int32_t>(p.files, "items.vocab_rows.i32")
                                               : std::vector<int32_t>{});
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW(manifest << ": bad store metadata: " << e.what());
  } catch (const Error& e) {
    TANDEM_THROW(manifest << ": " << e.what());
  }
  check_split(p, p.train);
  check_split(p, p.test);
  p.files.check_size("test.ratings.f32", p.test.rows, 4);
  p.catalogue.items.item_ids = read_column<int64_t>(p.files, "catalogue.ids.i64");
  p.catalogue.rows = read_column<int32_t>(p.files, "catalogue.rows.i32");
  if (p.files.has("catalogue.candidates.i32"))
    p.catalogue.candidate_rows = read_column<int32_t>(p.files, "catalogue.candidates.i32");
  try {
    p.catalogue.items.titles =
        nlohmann::json::parse(p.files.read_all("catalogue.titles.json")).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW(dir << "/catalogue.titles.json: unreadable: " << e.what());
  }
  TANDEM_CHECK(p.catalogue.items.titles.size() == p.catalogue.items.item_ids.size() &&
                   p.catalogue.rows.size() == p.catalogue.items.item_ids.size(),
               dir << ": the catalogue's ids, rows and titles differ in length");
  const int64_t user_rows = p.users.rows(), item_rows = p.items.rows();
  for (int32_t r : p.catalogue.rows)
    TANDEM_CHECK(r >= 0 && r < item_rows, dir << "/catalogue.rows.i32: row " << r << " outside the item table");
  for (int32_t r : p.catalogue.candidate_rows)
    TANDEM_CHECK(r >= 0 && r < item_rows, dir << "/catalogue.candidates.i32: row " << r << " outside the item table");
  open_seen_index(p, user_rows, item_rows);
  return p;
}

ExperimentConfig with_store_data(const ExperimentConfig& config, const PreparedStore& store) {
  nlohmann::json j = config.to_json();
  for (const auto& [table, keys] : store.data_config.items()) {
    if (table == "features") {
      for (const auto& [k, v] : keys.items()) j["features"][k] = v;
    } else {
      j[table] = keys;
    }
  }
  // Only the data fields come from the merged JSON: settings kept out of
  // the config JSON (the memory budget, ...) stay the run's.
  const ExperimentConfig merged = ExperimentConfig::from_json(j);
  ExperimentConfig out = config;
  out.data_dir = merged.data_dir;
  out.data_format = merged.data_format;
  out.csv = merged.csv;
  out.split = merged.split;
  out.time_cut_fraction = merged.time_cut_fraction;
  out.time_cut_timestamp = merged.time_cut_timestamp;
  out.train_file = merged.train_file;
  out.test_file = merged.test_file;
  out.id_mode = merged.id_mode;
  out.item_key = merged.item_key;
  out.label_transform = merged.label_transform;
  out.seed = merged.seed;
  out.train_count = merged.train_count;
  out.test_count = merged.test_count;
  return out;
}

void read_store_rows(const PreparedStore& store, const StoreSplit& split, int64_t first, int64_t count,
                     int32_t* users, int32_t* items, float* labels, int64_t* timestamps, float* weights) {
  TANDEM_CHECK(first >= 0 && count >= 0 && first + count <= split.rows,
               store.files.dir() << ": rows " << first << ".." << first + count << " of the " << split.name
                                 << " split, which has " << split.rows);
  store.files.read(split.column("users.i32"), first * 4, users, count * 4);
  store.files.read(split.column("items.i32"), first * 4, items, count * 4);
  store.files.read(split.column("labels.f32"), first * 4, labels, count * 4);
  if (timestamps != nullptr) store.files.read(split.column("timestamps.i64"), first * 8, timestamps, count * 8);
  if (weights != nullptr) store.files.read(split.column("weights.f32"), first * 4, weights, count * 4);
}

void read_store_test(const PreparedStore& store, int64_t max_pairs, Examples& test, std::vector<float>& ratings) {
  const StoreSplit& s = store.test;
  const int64_t n = max_pairs > 0 ? std::min(max_pairs, s.rows) : s.rows;
  const auto z = static_cast<size_t>(n);
  test = Examples{};
  test.users.resize(z);
  test.items.resize(z);
  test.labels.resize(z);
  if (s.timestamps) test.timestamps.resize(z);
  if (s.weights) test.weights.resize(z);
  read_store_rows(store, s, 0, n, test.users.data(), test.items.data(), test.labels.data(),
                  s.timestamps ? test.timestamps.data() : nullptr, s.weights ? test.weights.data() : nullptr);
  ratings.resize(z);
  store.files.read("test.ratings.f32", 0, ratings.data(), n * 4);
  const int64_t user_rows = store.users.rows(), item_rows = store.items.rows();
  for (size_t i = 0; i < z; ++i)
    TANDEM_CHECK(test.users[i] >= 0 && test.users[i] < user_rows && test.items[i] >= 0 &&
                     test.items[i] < item_rows,
                 store.files.dir() << "/test.*: test pair " << i << " has rows outside the tables");
}

}  // namespace tandem
