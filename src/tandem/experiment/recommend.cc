#include "tandem/experiment/recommend.h"

#include "tandem/evaluate/ranking_output.h"
#include "tandem/core/error.h"
#include "tandem/evaluate/topk.h"

namespace tandem {

std::vector<Recommendation> recommend(const TrainedModel& m, int64_t user_id, int64_t k) {
  TANDEM_CHECK(k > 0, "k must be positive, got " << k);
  const auto row = m.users.find(user_id);
  TANDEM_CHECK(row.has_value(), "user " << user_id << " is not in the model's vocabulary ("
                                         << m.users.rows() << " rows)");
  const int64_t d = m.model->task_dim();
  std::vector<float> query(static_cast<size_t>(d)), scratch_vectors;
  const int32_t user_row = *row;
  // No interaction yet: a timestamp feature takes its most recent bucket.
  m.model->user_vectors(Task::kRetrieval, &user_row, 1, query.data(), scratch_vectors);
  const std::vector<float> cand = m.catalogue_embeddings();
  const auto top = top_k(query.data(), 1,
                         {cand.data(), static_cast<int64_t>(m.catalogue.size()), d}, k)[0];

  std::vector<int32_t> users(top.size(), user_row), items(top.size());
  for (size_t i = 0; i < top.size(); ++i) items[i] = m.catalogue.rows[static_cast<size_t>(top[i].index)];
  std::vector<float> pred(top.size()), scratch;
  m.model->predict_ratings(users.data(), items.data(), static_cast<int64_t>(top.size()),
                           pred.data(), scratch);
  std::vector<Recommendation> out;
  for (size_t i = 0; i < top.size(); ++i) {
    const auto c = static_cast<size_t>(top[i].index);
    out.push_back({m.catalogue.items.item_ids[c], m.catalogue.items.titles[c], top[i].score,
                   ranking_output_value(m.config, pred[i])});
  }
  return out;
}

}  // namespace tandem
