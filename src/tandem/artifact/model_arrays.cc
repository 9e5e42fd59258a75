#include "tandem/artifact/model_arrays.h"

#include <algorithm>

namespace tandem {

namespace {

RowIds with_names(std::vector<int64_t> ids, const std::shared_ptr<const std::vector<std::string>>& names,
                  const TrainedModel& m, bool users) {
  RowIds out;
  out.ids = std::move(ids);
  out.has_names = names != nullptr;
  if (names) {
    out.names.reserve(out.ids.size());
    for (int64_t id : out.ids) out.names.push_back(id < 0 ? std::string() : users ? m.user_name(id) : m.item_name(id));
  }
  return out;
}

}  // namespace

RowIds user_row_ids(const TrainedModel& m) {
  const int64_t rows = m.users.rows();
  std::vector<int64_t> ids(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const bool oov = m.users.has_oov() && r == Vocabulary::kOovRow;
    ids[static_cast<size_t>(r)] = oov ? -1 : m.users.raw_id(static_cast<int32_t>(r));
  }
  return with_names(std::move(ids), m.names.users, m, /*users=*/true);
}

RowIds catalogue_item_ids(const TrainedModel& m) {
  return with_names(m.catalogue.items.item_ids, m.names.items, m, /*users=*/false);
}

const std::vector<std::string>& catalogue_titles(const TrainedModel& m) { return m.catalogue.items.titles; }

std::vector<float> user_query_vectors(const TrainedModel& m) {
  const int64_t rows = m.users.rows();
  const int64_t d = m.model->task_dim();
  std::vector<float> out(static_cast<size_t>(rows * d)), scratch;
  // A few thousand rows at a time: the towers' scratch grows with the count.
  constexpr int64_t kChunk = 4096;
  std::vector<int32_t> ids;
  for (int64_t first = 0; first < rows; first += kChunk) {
    const int64_t n = std::min(kChunk, rows - first);
    ids.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = static_cast<int32_t>(first + i);
    m.model->user_vectors(Task::kRetrieval, ids.data(), n, out.data() + first * d, scratch);
  }
  return out;
}

bool user_vectors_are_table(const TrainedModel& m) { return m.model->embeddings_are_task_vectors(); }

}  // namespace tandem
