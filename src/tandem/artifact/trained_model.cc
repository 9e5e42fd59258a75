#include "tandem/artifact/trained_model.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "tandem/artifact/tower_file.h"
#include "tandem/core/error.h"
#include "tandem/io/model_file.h"
#include "tandem/io/model_file_stream.h"
#include "tandem/prepare/training_interactions.h"

namespace tandem {

namespace {

constexpr const char* kFormatName = "tandem-multitask";

std::string kind_name(Vocabulary::Kind k) {
  switch (k) {
    case Vocabulary::Kind::kIdentity: return "identity";
    case Vocabulary::Kind::kLookup: return "lookup";
    case Vocabulary::Kind::kKeyed: return "keyed";
  }
  return "?";
}

Vocabulary::Kind kind_from(const std::string& s, const std::string& path) {
  if (s == "identity") return Vocabulary::Kind::kIdentity;
  if (s == "lookup") return Vocabulary::Kind::kLookup;
  if (s == "keyed") return Vocabulary::Kind::kKeyed;
  TANDEM_THROW(path << ": unknown vocabulary kind '" << s << "'");
}

void check_shape(const Tensor& t, const std::vector<int64_t>& shape, const std::string& path) {
  TANDEM_CHECK(t.shape == shape, path << ": tensor '" << t.name << "' has the wrong shape for the "
                                      << "model's configuration");
}

void copy_tensor(const Tensor& t, std::vector<int64_t> shape, float* dst, const std::string& path) {
  check_shape(t, shape, path);
  std::memcpy(dst, t.data.data(), t.data.size() * sizeof(float));
}

}  // namespace

namespace {

std::string name_of(const std::shared_ptr<const std::vector<std::string>>& names, int64_t id) {
  if (names && id >= 0 && id < static_cast<int64_t>(names->size())) return (*names)[static_cast<size_t>(id)];
  return std::to_string(id);
}

std::optional<int64_t> id_of(const std::shared_ptr<const std::vector<std::string>>& names,
                             std::string_view text) {
  if (names) {
    // Linear: called once per request, and the table is not kept indexed.
    const auto it = std::find(names->begin(), names->end(), text);
    if (it == names->end()) return std::nullopt;
    return static_cast<int64_t>(it - names->begin());
  }
  int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id < 0) return std::nullopt;
  return id;
}

}  // namespace

std::string TrainedModel::user_name(int64_t id) const { return name_of(names.users, id); }
std::string TrainedModel::item_name(int64_t id) const { return name_of(names.items, id); }
std::optional<int64_t> TrainedModel::user_id_of(std::string_view text) const { return id_of(names.users, text); }
std::optional<int64_t> TrainedModel::item_id_of(std::string_view text) const { return id_of(names.items, text); }

std::vector<float> TrainedModel::catalogue_embeddings() const {
  const int64_t d = model->task_dim();
  std::vector<float> out(catalogue.rows.size() * static_cast<size_t>(d)), scratch;
  model->item_vectors(Task::kRetrieval, catalogue.rows.data(),
                      static_cast<int64_t>(catalogue.rows.size()), out.data(), scratch);
  return out;
}

void TrainedModel::set_training_interactions(const Examples& train) {
  TrainingInteractions t = index_training_interactions(train, users.rows(), items.rows());
  item_train_counts = std::move(t.item_counts);
  seen_offsets = std::move(t.seen_offsets);
  seen_items = std::move(t.seen_items);
  seen_reader.reset();
}

namespace {

// Seen items read per chunk from a reader (512 KiB of int32).
constexpr int64_t kSeenChunk = int64_t{1} << 17;

}  // namespace

int64_t TrainedModel::seen_count() const {
  return seen_reader ? seen_reader->size() : static_cast<int64_t>(seen_items.size());
}

void TrainedModel::seen_items_of(int64_t user_row, std::vector<int32_t>& out) const {
  TANDEM_CHECK(user_row >= 0 && static_cast<size_t>(user_row) + 1 < seen_offsets.size(),
               "seen items: user row " << user_row << " outside the " << seen_offsets.size() - 1 << " indexed rows");
  const int64_t b = seen_offsets[static_cast<size_t>(user_row)], e = seen_offsets[static_cast<size_t>(user_row) + 1];
  TANDEM_CHECK(b >= 0 && b <= e && e <= seen_count(), "seen items: user row " << user_row << " has the range ["
                                                                               << b << ", " << e << ") of "
                                                                               << seen_count());
  if (seen_reader) {
    out.resize(static_cast<size_t>(e - b));
    seen_reader->read(b, e - b, out.data());
  } else {
    out.assign(seen_items.begin() + b, seen_items.begin() + e);
  }
}

void TrainedModel::for_each_seen_chunk(const std::function<void(const int32_t*, size_t)>& fn) const {
  const int64_t n = seen_count();
  std::vector<int32_t> chunk;
  if (seen_reader) chunk.resize(static_cast<size_t>(std::min(kSeenChunk, n)));
  for (int64_t first = 0; first < n; first += kSeenChunk) {
    const int64_t m = std::min(kSeenChunk, n - first);
    if (seen_reader) {
      seen_reader->read(first, m, chunk.data());
      fn(chunk.data(), static_cast<size_t>(m));
    } else {
      fn(seen_items.data() + first, static_cast<size_t>(m));
    }
  }
}

void TrainedModel::load_seen_items() {
  if (!seen_reader) return;
  std::vector<int32_t> all;
  all.reserve(static_cast<size_t>(seen_reader->size()));
  for_each_seen_chunk([&](const int32_t* p, size_t n) { all.insert(all.end(), p, p + n); });
  seen_items = std::move(all);
  seen_reader.reset();
}

namespace {

// The model file's sections, referring to the model's own arrays (`extras`
// holds the small parts made here: the metadata and the towers' lists; the
// model's parameter lists are kept in `tables` and `dense`).
ModelSections model_sections(const TrainedModel& m, ModelBundle& extras, std::vector<TableView>& tables,
                             std::vector<ParameterView>& dense) {
  extras.metadata["format"] = kFormatName;
  extras.metadata["config"] = m.config.to_json();
  extras.metadata["metrics"] = m.metrics;
  extras.metadata["user_vocabulary"] = kind_name(m.users.kind());
  extras.metadata["item_vocabulary"] = kind_name(m.items.kind());
  add_towers(m.model->shape(), extras);
  ModelSections s;
  s.metadata = extras.metadata;
  s.id_lists.push_back(id_list_of("user_vocabulary", m.users.defining_ids()));
  s.id_lists.push_back(id_list_of("item_vocabulary", m.items.defining_ids()));
  // A keyed vocabulary (items by title) also needs each id's row.
  for (const auto& [name, vocab] : {std::pair{"user_vocabulary_rows", &m.users}, std::pair{"item_vocabulary_rows", &m.items}})
    if (vocab->kind() == Vocabulary::Kind::kKeyed) s.id_lists.push_back(id_list_widened(name, vocab->defining_rows()));
  s.id_lists.push_back(id_list_of("catalogue_ids", m.catalogue.items.item_ids));
  s.id_lists.push_back(id_list_widened("catalogue_rows", m.catalogue.rows));
  s.string_lists.push_back({"catalogue_titles", &m.catalogue.items.titles});
  if (!m.catalogue.candidate_rows.empty())
    s.id_lists.push_back(id_list_widened("candidate_rows", m.catalogue.candidate_rows));
  // Only models trained on string ids have these (older readers ignore them).
  if (m.names.users) s.string_lists.push_back({"user_names", m.names.users.get()});
  if (m.names.items) s.string_lists.push_back({"item_names", m.names.items.get()});
  s.id_lists.push_back(id_list_of("item_train_counts", m.item_train_counts));
  s.id_lists.push_back(id_list_of("seen_offsets", m.seen_offsets));
  // Widened a chunk at a time, from memory or from the reader's file.
  s.id_lists.push_back({"seen_items", static_cast<uint64_t>(m.seen_count()), [&m](const IdChunkSink& sink) {
                          std::vector<int64_t> wide;
                          m.for_each_seen_chunk([&](const int32_t* p, size_t n) {
                            wide.assign(p, p + n);
                            sink(wide.data(), n);
                          });
                        }});
  for (const auto& [name, v] : extras.id_lists) s.id_lists.push_back(id_list_of(name, v));
  for (const auto& [name, v] : extras.string_lists) s.string_lists.push_back({name, &v});
  tables = m.model->sparse_parameter_values();
  dense = m.model->dense_parameter_values();
  for (const auto& t : tables)
    s.tensors.push_back({t.name, {t.table->rows, t.table->dim}, t.table->weights.data(), t.table->weights.size()});
  for (const auto& p : dense) s.tensors.push_back({p.name, {p.size}, p.value, static_cast<uint64_t>(p.size)});
  return s;
}

}  // namespace

void save_model(const std::string& path, const TrainedModel& m) {
  ModelBundle extras;
  std::vector<TableView> tables;
  std::vector<ParameterView> dense;
  write_model_sections(path, model_sections(m, extras, tables, dense));
}

ModelBundle model_bundle(const TrainedModel& m) {
  ModelBundle extras;
  std::vector<TableView> tables;
  std::vector<ParameterView> dense;
  return bundle_of(model_sections(m, extras, tables, dense));
}

TrainedModel model_from_bundle(const ModelBundle& b, const std::string& source) {
  TrainedModel m;
  try {
    TANDEM_CHECK(b.metadata.value("format", "") == kFormatName,
                 source << ": not a multi-task model (format '" << b.metadata.value("format", "")
                        << "')");
    m.config = ExperimentConfig::from_json(b.metadata.at("config"));
    m.metrics = b.metadata.value("metrics", nlohmann::json::object());
    const auto vocabulary = [&](const std::string& name) {
      const Vocabulary::Kind kind = kind_from(b.metadata.at(name).get<std::string>(), source);
      std::vector<int32_t> rows;
      if (kind == Vocabulary::Kind::kKeyed) {
        for (int64_t r : b.ids(name + "_rows")) {
          TANDEM_CHECK(r >= 0 && r <= std::numeric_limits<int32_t>::max(),
                       name << "_rows holds " << r << ", no table row");
          rows.push_back(static_cast<int32_t>(r));
        }
      }
      return Vocabulary::from_defining_ids(kind, b.ids(name), std::move(rows));
    };
    m.users = vocabulary("user_vocabulary");
    m.items = vocabulary("item_vocabulary");
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW(source << ": bad metadata: " << e.what());
  } catch (const Error& e) {
    TANDEM_THROW(source << ": " << e.what());
  }
  m.catalogue.items.item_ids = b.ids("catalogue_ids");
  m.catalogue.items.titles = b.strings("catalogue_titles");
  const auto& rows = b.ids("catalogue_rows");
  TANDEM_CHECK(rows.size() == m.catalogue.items.item_ids.size() &&
                   rows.size() == m.catalogue.items.titles.size(),
               source << ": catalogue ids, rows and titles differ in length");
  for (int64_t r : rows) {
    TANDEM_CHECK(r >= 0 && r < m.items.rows(),
                 source << ": catalogue row " << r << " outside the item table");
    m.catalogue.rows.push_back(static_cast<int32_t>(r));
  }
  // Written only by models whose items share rows (titles); older files and
  // id-keyed models have none: the candidates are the catalogue's rows.
  if (const auto* candidates = b.find_ids("candidate_rows")) {
    const std::vector<int64_t> listed = m.catalogue.index_of_rows(m.items.rows());
    for (int64_t r : *candidates) {
      TANDEM_CHECK(r >= 0 && r < m.items.rows() && listed[static_cast<size_t>(r)] >= 0,
                   source << ": candidate row " << r << " is not a catalogue row");
      m.catalogue.candidate_rows.push_back(static_cast<int32_t>(r));
    }
  }

  for (const auto& [name, list] : b.string_lists) {
    if (name == "user_names") m.names.users = std::make_shared<const std::vector<std::string>>(list);
    if (name == "item_names") m.names.items = std::make_shared<const std::vector<std::string>>(list);
  }
  // Every id the vocabularies and catalogue hold must name a string.
  const auto check_names = [&](const std::shared_ptr<const std::vector<std::string>>& names,
                               const std::vector<int64_t>& ids, const char* what) {
    if (!names) return;
    for (int64_t id : ids)
      TANDEM_CHECK(id >= 0 && id < static_cast<int64_t>(names->size()),
                   source << ": " << what << " id " << id << " has no name (" << names->size()
                          << " names stored)");
  };
  if (m.users.kind() != Vocabulary::Kind::kIdentity) check_names(m.names.users, m.users.defining_ids(), "user");
  if (m.items.kind() != Vocabulary::Kind::kIdentity) check_names(m.names.items, m.items.defining_ids(), "item");
  check_names(m.names.items, m.catalogue.items.item_ids, "catalogue item");

  m.item_train_counts = b.ids("item_train_counts");
  m.seen_offsets = b.ids("seen_offsets");
  const auto& seen = b.ids("seen_items");
  TANDEM_CHECK(static_cast<int64_t>(m.item_train_counts.size()) == m.items.rows(),
               source << ": item_train_counts has " << m.item_train_counts.size()
                      << " entries for " << m.items.rows() << " item rows");
  TANDEM_CHECK(static_cast<int64_t>(m.seen_offsets.size()) == m.users.rows() + 1 &&
                   m.seen_offsets.front() == 0 &&
                   m.seen_offsets.back() == static_cast<int64_t>(seen.size()) &&
                   std::is_sorted(m.seen_offsets.begin(), m.seen_offsets.end()),
               source << ": seen_offsets does not index seen_items for " << m.users.rows()
                      << " user rows");
  for (int64_t r : seen) {
    TANDEM_CHECK(r >= 0 && r < m.items.rows(), source << ": seen item row " << r << " outside the item table");
    m.seen_items.push_back(static_cast<int32_t>(r));
  }

  ModelShape shape = model_shape(m.config, m.users.rows(), m.items.rows());
  read_towers(b, source, shape);
  // Every parameter is copied from the file, so a shape needing more values
  // than the file's tensors hold cannot load. Refusing it here, before the
  // model is allocated, keeps a few forged bytes (layer sizes of 65536 in the
  // config of a 2 KB file) from making the loader ask for gigabytes that
  // copy_tensor would only then find unmatched. The tables are checked by
  // name first, for the more precise message.
  check_shape(b.tensor("user_embedding"), {shape.user_rows, shape.dim}, source);
  check_shape(b.tensor("item_embedding"), {shape.item_rows, shape.dim}, source);
  uint64_t stored = 0;
  for (const auto& t : b.tensors) stored += t.data.size();
  const int64_t needed = parameter_count(shape);
  TANDEM_CHECK(static_cast<uint64_t>(needed) <= stored,
               source << ": the configuration and vocabularies need " << needed
                      << " parameter values but the file stores " << stored);
  // Capacity for evaluation/prediction only; training builds its own model.
  try {
    m.model = std::make_unique<MultiTaskModel>(shape, 1);
  } catch (const Error& e) {
    TANDEM_THROW(source << ": " << e.what());
  }
  for (const auto& t : m.model->sparse_parameters()) {
    copy_tensor(b.tensor(t.name), {t.table->rows, t.table->dim}, t.table->weights.data(), source);
  }
  for (const auto& p : m.model->dense_parameters()) {
    copy_tensor(b.tensor(p.name), {p.size}, p.value, source);
  }
  return m;
}

TrainedModel load_model(const std::string& path) {
  return model_from_bundle(read_model_file(path), path);
}

}  // namespace tandem
