#include "tandem/artifact/trained_model.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "tandem/artifact/tower_file.h"
#include "tandem/core/error.h"
#include "tandem/io/model_file.h"

namespace tandem {

namespace {

constexpr const char* kFormatName = "tandem-multitask";

Tensor table_tensor(const std::string& name, const EmbeddingTable& t) {
  return {name, {t.rows, t.dim}, t.weights};
}

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
  const int64_t user_rows = users.rows(), item_rows = items.rows();
  item_train_counts.assign(static_cast<size_t>(item_rows), 0);
  std::vector<std::vector<int32_t>> per_user(static_cast<size_t>(user_rows));
  for (size_t i = 0; i < train.size(); ++i) {
    item_train_counts[static_cast<size_t>(train.items[i])] += 1;
    per_user[static_cast<size_t>(train.users[i])].push_back(train.items[i]);
  }
  seen_offsets.assign(1, 0);
  seen_items.clear();
  for (auto& items_of_user : per_user) {
    std::sort(items_of_user.begin(), items_of_user.end());
    items_of_user.erase(std::unique(items_of_user.begin(), items_of_user.end()),
                        items_of_user.end());
    seen_items.insert(seen_items.end(), items_of_user.begin(), items_of_user.end());
    seen_offsets.push_back(static_cast<int64_t>(seen_items.size()));
  }
}

void save_model(const std::string& path, const TrainedModel& m) {
  ModelBundle b;
  b.metadata["format"] = kFormatName;
  b.metadata["config"] = m.config.to_json();
  b.metadata["metrics"] = m.metrics;
  b.metadata["user_vocabulary"] = kind_name(m.users.kind());
  b.metadata["item_vocabulary"] = kind_name(m.items.kind());
  b.id_lists.emplace_back("user_vocabulary", m.users.defining_ids());
  b.id_lists.emplace_back("item_vocabulary", m.items.defining_ids());
  // A keyed vocabulary (items by title) also needs each id's row.
  for (const auto& [name, vocab] : {std::pair{"user_vocabulary_rows", &m.users}, std::pair{"item_vocabulary_rows", &m.items}})
    if (vocab->kind() == Vocabulary::Kind::kKeyed)
      b.id_lists.emplace_back(name, std::vector<int64_t>(vocab->defining_rows().begin(), vocab->defining_rows().end()));
  b.id_lists.emplace_back("catalogue_ids", m.catalogue.items.item_ids);
  b.id_lists.emplace_back("catalogue_rows",
                          std::vector<int64_t>(m.catalogue.rows.begin(), m.catalogue.rows.end()));
  b.string_lists.emplace_back("catalogue_titles", m.catalogue.items.titles);
  if (!m.catalogue.candidate_rows.empty())
    b.id_lists.emplace_back("candidate_rows", std::vector<int64_t>(m.catalogue.candidate_rows.begin(),
                                                                   m.catalogue.candidate_rows.end()));
  // Only models trained on string ids have these (older readers ignore them).
  if (m.names.users) b.string_lists.emplace_back("user_names", *m.names.users);
  if (m.names.items) b.string_lists.emplace_back("item_names", *m.names.items);
  b.id_lists.emplace_back("item_train_counts", m.item_train_counts);
  b.id_lists.emplace_back("seen_offsets", m.seen_offsets);
  b.id_lists.emplace_back("seen_items",
                          std::vector<int64_t>(m.seen_items.begin(), m.seen_items.end()));
  add_towers(m.model->shape(), b);
  for (const auto& t : m.model->sparse_parameter_values()) {
    b.tensors.push_back(table_tensor(t.name, *t.table));
  }
  for (const auto& p : m.model->dense_parameter_values()) {
    b.tensors.push_back({p.name, {p.size}, std::vector<float>(p.value, p.value + p.size)});
  }
  write_model_file(path, b);
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
