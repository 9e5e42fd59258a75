#include "tandem/serve/recommender.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <numeric>


namespace tandem {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Higher first, NaN after every number: a strict weak order even when the
// head produces NaN, so std::sort stays well-defined.
int compare_desc(float a, float b) {
  const bool na = std::isnan(a), nb = std::isnan(b);
  if (na != nb) return na ? 1 : -1;
  if (na || a == b) return 0;
  return a > b ? -1 : 1;
}

}  // namespace

Recommender::Recommender(TrainedModel model, RecommenderOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
  TANDEM_CHECK(model_.model != nullptr, "serving needs a model with weights");
  TANDEM_CHECK(options_.limits.max_k > 0 && options_.limits.max_candidates > 0 && options_.limits.max_score_items > 0,
               "serving limits must be positive");
  dim_ = model_.model->task_dim();
  // Computed once: every request's top-K reads this matrix and never writes it.
  catalogue_emb_ = model_.catalogue_embeddings();
  const int64_t n = catalogue_size();
  const auto& rows = model_.catalogue.rows;
  const auto& counts = model_.item_train_counts;
  auto count_of = [&](int64_t c) {
    const auto r = static_cast<size_t>(rows[static_cast<size_t>(c)]);
    return r < counts.size() ? counts[r] : int64_t{0};
  };
  by_popularity_.resize(static_cast<size_t>(n));
  std::iota(by_popularity_.begin(), by_popularity_.end(), int64_t{0});
  // Stable: equal counts keep catalogue order, so cold start is deterministic.
  std::stable_sort(by_popularity_.begin(), by_popularity_.end(),
                   [&](int64_t a, int64_t b) { return count_of(a) > count_of(b); });
  catalogue_of_row_ = model_.catalogue.index_of_rows(model_.items.rows());
  for (int64_t c = 0; c < n; ++c) index_of_id_[model_.catalogue.items.item_ids[static_cast<size_t>(c)]] = c;
  // An item that shares its row with a listed one (TFRS keys movies by title)
  // is answered as that entry: /v1/score and /v1/similar take either id.
  if (model_.items.kind() == Vocabulary::Kind::kKeyed) {
    for (int64_t id : model_.items.defining_ids()) {
      const int64_t c = catalogue_of_row_[static_cast<size_t>(*model_.items.find(id))];
      if (c >= 0) index_of_id_.emplace(id, c);
    }
  }
  if (model_.names.users) user_names_ = IdTable(*model_.names.users);
  if (model_.names.items) item_names_ = IdTable(*model_.names.items);

  // Each user's training items as sorted catalogue indices, once, so that an
  // exclude_seen request hands the index a ready list.
  // (seen_items_of: a model trained from a store reads them from its file.)
  const auto& offsets = model_.seen_offsets;
  if (!offsets.empty()) {
    seen_.resize(offsets.size() - 1);
    std::vector<int32_t> rows_seen;
    for (size_t u = 0; u + 1 < offsets.size(); ++u) {
      model_.seen_items_of(static_cast<int64_t>(u), rows_seen);
      for (const int32_t row : rows_seen) {
        const auto r = static_cast<size_t>(row);
        if (r < catalogue_of_row_.size() && catalogue_of_row_[r] >= 0)
          seen_[u].push_back(catalogue_of_row_[r]);
      }
      std::sort(seen_[u].begin(), seen_[u].end());
      seen_[u].erase(std::unique(seen_[u].begin(), seen_[u].end()), seen_[u].end());
    }
  }

  const auto t0 = std::chrono::steady_clock::now();
  if (options_.index_file.empty()) {
    index_ = make_index(options_.index, catalogue_emb_.data(), n, dim_, options_.hnsw);
  } else {
    TANDEM_CHECK(options_.index == "hnsw",
                 "index file " << options_.index_file << " holds an HNSW graph: it needs --index "
                               "hnsw, not --index " << options_.index);
    auto loaded = HnswIndex::load(options_.index_file, catalogue_emb_.data(), n, dim_,
                                  options_.hnsw.ef_search);
    options_.hnsw = loaded->params();  // the graph's own M, ef_construction and seed
    index_ = std::move(loaded);
  }
  index_seconds_ = ms_since(t0) / 1e3;
  ranker_ = std::make_unique<CandidateRanker>(*model_.model, options_.precompute_budget_bytes);
  user_features_ = std::make_unique<UserFeatureEncoder>(model_);
}

int64_t Recommender::parse_user_id(const std::string& user_id) {
  int64_t v = 0;
  const char* end = user_id.data() + user_id.size();
  const auto [p, ec] = std::from_chars(user_id.data(), end, v);
  if (user_id.empty() || ec != std::errc() || p != end) {
    throw RequestError("invalid_user_id", "user_id",
                       "user_id must be an integer id, got '" + user_id.substr(0, 64) + "'");
  }
  return v;
}

std::optional<int32_t> Recommender::user_row(int64_t user_id) const {
  return model_.users.find(user_id);
}

std::optional<int32_t> Recommender::user_row(const std::string& user_id) const {
  if (!model_.names.users) return user_row(parse_user_id(user_id));
  const auto id = user_names_.find(user_id);
  return id ? user_row(*id) : std::nullopt;
}

void Recommender::check_range(const char* field, int64_t value, int64_t max) const {
  if (value < 1 || value > max) {
    throw RequestError("out_of_range", field,
                       std::string(field) + " must be in [1, " + std::to_string(max) + "], got " +
                           std::to_string(value));
  }
  // Asking for more items than exist is a client's mistake worth naming, not
  // something to answer with a silently shorter list.
  if (value > catalogue_size()) {
    throw RequestError("out_of_range", field,
                       std::string(field) + " = " + std::to_string(value) +
                           " is above the catalogue size (" + std::to_string(catalogue_size()) +
                           " items)");
  }
}

int64_t Recommender::catalogue_index(int64_t item_id, const char* field) const {
  const auto it = index_of_id_.find(item_id);
  if (it == index_of_id_.end()) {
    throw RequestError("unknown_item", field,
                       "item " + std::to_string(item_id) + " is not in the catalogue");
  }
  return it->second;
}

RecommendResult Recommender::recommend(const std::string& user_id, int64_t k, int64_t candidates,
                                       bool exclude_seen, const RawUserFeatures* features) const {
  check_range("k", k, options_.limits.max_k);
  check_range("candidates", candidates, options_.limits.max_candidates);
  const auto row = user_row(user_id);
  const auto& cat = model_.catalogue;
  RecommendResult out;
  out.ranking_output = ranking_output();
  const auto t0 = std::chrono::steady_clock::now();
  if (!row && features != nullptr) {
    // Described by its features: the tower's vectors for them, then the same
    // retrieval and ranking as a known user (nothing seen to exclude).
    const DescribedEntity user = user_features_->encode(*features);
    thread_local std::vector<float> query, ranking, scratch;
    query.resize(static_cast<size_t>(dim_));
    ranking.resize(static_cast<size_t>(dim_));
    model_.model->described_user_vector(Task::kRetrieval, user, query.data(), scratch);
    // Without experts both tasks read the tower's one output.
    if (model_.model->shape().multitask.has_experts()) {
      model_.model->described_user_vector(Task::kRanking, user, ranking.data(), scratch);
    } else {
      ranking = query;
    }
    const auto top = index_->search(query.data(), candidates, nullptr);
    out.cold_start = out.from_features = true;
    out.index = index_->name();
    out.retrieve_ms = ms_since(t0);
    rank_into(top, k,
              [&](const int32_t* items, int64_t n, float* pred, CandidateRanker::Scratch& s) {
                ranker_->predict_for_vector(ranking.data(), items, n, pred, s);
              },
              out);
    add_task_predictions(
        [&](int e, const int32_t* rows, int64_t n, float* logits) {
          const MultiTaskModel& m = *model_.model;
          std::vector<float> u(static_cast<size_t>(n * m.task_dim())), v(u.size()), s;
          m.described_user_vector(extra_task(e), user, u.data(), s);
          for (int64_t i = 1; i < n; ++i) std::copy_n(u.data(), m.task_dim(), u.data() + i * m.task_dim());
          m.item_vectors(extra_task(e), rows, n, v.data(), s);
          m.predict_extra_from_vectors(e, u.data(), v.data(), n, logits, s);
        },
        out);
    return out;
  }
  if (!row) {
    out.cold_start = true;
    out.index = "popularity";  // no index is consulted without a user embedding
    const int64_t n = std::min<int64_t>(k, catalogue_size());
    for (int64_t i = 0; i < n; ++i) {
      const auto c = static_cast<size_t>(by_popularity_[static_cast<size_t>(i)]);
      const auto r = static_cast<size_t>(cat.rows[c]);
      const int64_t count = r < model_.item_train_counts.size() ? model_.item_train_counts[r] : 0;
      out.items.push_back({cat.items.item_ids[c], cat.items.titles[c], static_cast<float>(count),
                           std::nullopt, std::nullopt});
    }
    out.retrieve_ms = ms_since(t0);
    return out;
  }

  const int32_t urow = *row;
  // The user's retrieval vector: its embedding row with a shared bottom, else
  // the user tower's retrieval output (computed per request; the item side
  // was computed once above).
  thread_local std::vector<float> query_vec, tower_scratch;
  const float* query = model_.model->user_table().row(urow);
  if (!model_.model->embeddings_are_task_vectors()) {
    query_vec.resize(static_cast<size_t>(dim_));
    model_.model->user_vectors(Task::kRetrieval, &urow, 1, query_vec.data(), tower_scratch);
    query = query_vec.data();
  }
  const std::vector<int64_t>* excluded =
      exclude_seen && static_cast<size_t>(urow) < seen_.size() && !seen_[static_cast<size_t>(urow)].empty()
          ? &seen_[static_cast<size_t>(urow)]
          : nullptr;
  const auto top = index_->search(query, candidates, excluded);
  out.index = index_->name();
  out.retrieve_ms = ms_since(t0);

  rank_into(top, k,
            [&](const int32_t* items, int64_t n, float* pred, CandidateRanker::Scratch& s) {
              ranker_->predict(urow, items, n, pred, s);
            },
            out);
  add_task_predictions(
      [&](int e, const int32_t* rows, int64_t n, float* logits) {
        const std::vector<int32_t> users(static_cast<size_t>(n), urow);
        std::vector<float> s;
        model_.model->predict_extra(e, users.data(), rows, n, logits, s);
      },
      out);
  return out;
}

void Recommender::add_task_predictions(
    const std::function<void(int, const int32_t*, int64_t, float*)>& logits,
    RecommendResult& out) const {
  const MultiTaskModel& m = *model_.model;
  if (m.extra_task_count() == 0 || out.items.empty()) return;
  const auto n = static_cast<int64_t>(out.items.size());
  std::vector<int32_t> rows(out.items.size());
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i] = model_.catalogue.rows[static_cast<size_t>(catalogue_index(out.items[i].item_id, "item_id"))];
  std::vector<float> z(rows.size());
  for (int e = 0; e < m.extra_task_count(); ++e) {
    logits(e, rows.data(), n, z.data());
    const std::string& name = m.shape().extra_tasks[static_cast<size_t>(e)].name;
    for (size_t i = 0; i < rows.size(); ++i)  // a binary task's logit as P(positive)
      out.items[i].tasks.emplace_back(name, static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(z[i])))));
  }
}

void Recommender::rank_into(
    const std::vector<ScoredItem>& top, int64_t k,
    const std::function<void(const int32_t*, int64_t, float*, CandidateRanker::Scratch&)>& rank,
    RecommendResult& out) const {
  const auto t1 = std::chrono::steady_clock::now();
  const auto& cat = model_.catalogue;
  // Per-thread buffers: after the first few requests on a thread, ranking
  // allocates nothing but its result.
  thread_local CandidateRanker::Scratch scratch;
  thread_local std::vector<int32_t> items;
  thread_local std::vector<float> pred;
  items.resize(top.size());
  pred.resize(top.size());
  for (size_t i = 0; i < top.size(); ++i) items[i] = cat.rows[static_cast<size_t>(top[i].index)];
  rank(items.data(), static_cast<int64_t>(top.size()), pred.data(), scratch);
  std::vector<size_t> order(top.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (int c = compare_desc(pred[a], pred[b])) return c < 0;
    if (int c = compare_desc(top[a].score, top[b].score)) return c < 0;
    return top[a].index < top[b].index;
  });
  const size_t n = std::min(order.size(), static_cast<size_t>(k));
  for (size_t i = 0; i < n; ++i) {
    const size_t j = order[i];
    const auto c = static_cast<size_t>(top[j].index);
    const float value = ranking_output_value(model_.config, pred[j]);
    out.items.push_back({cat.items.item_ids[c], cat.items.titles[c], top[j].score,
                         out.ranking_output == RankingOutput::kRating ? std::optional<float>(value)
                                                                      : std::nullopt,
                         value});
  }
  out.rank_ms = ms_since(t1);
}

std::vector<float> Recommender::score(const std::string& user_id,
                                      const std::vector<int64_t>& item_ids) const {
  if (static_cast<int64_t>(item_ids.size()) > options_.limits.max_score_items) {
    throw RequestError("too_many_items", "item_ids",
                       "item_ids holds " + std::to_string(item_ids.size()) + " ids, at most " +
                           std::to_string(options_.limits.max_score_items) + " allowed");
  }
  const auto row = user_row(user_id);
  if (!row) {
    throw RequestError("unknown_user", "user_id",
                       "user " + user_id.substr(0, 64) + " is not in the model's vocabulary");
  }
  std::vector<int32_t> items(item_ids.size());
  for (size_t i = 0; i < item_ids.size(); ++i)
    items[i] = model_.catalogue.rows[static_cast<size_t>(catalogue_index(item_ids[i], "item_ids"))];
  // The ranker recommend() uses, so a score equals the predicted rating a
  // recommendation shows for the same user and item.
  std::vector<float> pred(item_ids.size());
  thread_local CandidateRanker::Scratch scratch;
  ranker_->predict(*row, items.data(), static_cast<int64_t>(items.size()), pred.data(), scratch);
  for (float& p : pred) p = ranking_output_value(model_.config, p);
  return pred;
}

std::vector<TaskScores> Recommender::task_scores(const std::string& user_id,
                                                const std::vector<int64_t>& item_ids) const {
  const MultiTaskModel& m = *model_.model;
  std::vector<TaskScores> out;
  if (m.extra_task_count() == 0) return out;
  const auto row = user_row(user_id);
  if (!row) {
    throw RequestError("unknown_user", "user_id",
                       "user " + user_id.substr(0, 64) + " is not in the model's vocabulary");
  }
  std::vector<int32_t> items(item_ids.size());
  for (size_t i = 0; i < item_ids.size(); ++i)
    items[i] = model_.catalogue.rows[static_cast<size_t>(catalogue_index(item_ids[i], "item_ids"))];
  const std::vector<int32_t> users(items.size(), *row);
  std::vector<float> scratch;
  for (int e = 0; e < m.extra_task_count(); ++e) {
    TaskScores t{m.shape().extra_tasks[static_cast<size_t>(e)].name, std::vector<float>(items.size())};
    m.predict_extra(e, users.data(), items.data(), static_cast<int64_t>(items.size()), t.values.data(), scratch);
    for (float& z : t.values)  // a binary task's logit as P(positive), as recommend() gives it
      z = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(z))));
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<TaskScores> Recommender::predict_pairs(const std::vector<std::string>& user_ids,
                                                  const std::vector<int64_t>& item_ids) const {
  TANDEM_CHECK(user_ids.size() == item_ids.size(), "predict: " << user_ids.size() << " user ids but "
                                                               << item_ids.size() << " item ids; one of each per pair");
  const size_t n = user_ids.size();
  std::vector<int32_t> users(n), items(n);
  for (size_t i = 0; i < n; ++i) {
    const auto row = user_row(user_ids[i]);
    if (!row) {
      throw RequestError("unknown_user", "user_ids",
                         "user " + user_ids[i].substr(0, 64) + " (pair " + std::to_string(i) +
                             ") is not in the model's vocabulary");
    }
    users[i] = *row;
    if (index_of_id_.find(item_ids[i]) == index_of_id_.end()) {
      throw RequestError("unknown_item", "item_ids",
                         "item " + model_.item_name(item_ids[i]) + " (pair " + std::to_string(i) +
                             ") is not in the catalogue");
    }
    items[i] = model_.catalogue.rows[static_cast<size_t>(catalogue_index(item_ids[i], "item_ids"))];
  }
  // The ranker takes one user and its items: pairs are grouped by user (in
  // a stable order), each group scored at once.
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return users[a] < users[b]; });
  std::vector<TaskScores> out;
  out.push_back({"rating", std::vector<float>(n)});
  std::vector<int32_t> group;
  std::vector<float> pred;
  CandidateRanker::Scratch scratch;
  for (size_t begin = 0; begin < n;) {
    size_t end = begin;
    group.clear();
    while (end < n && users[order[end]] == users[order[begin]]) group.push_back(items[order[end++]]);
    pred.resize(group.size());
    ranker_->predict(users[order[begin]], group.data(), static_cast<int64_t>(group.size()), pred.data(), scratch);
    for (size_t j = 0; j < group.size(); ++j)
      out[0].values[order[begin + j]] = ranking_output_value(model_.config, pred[j]);
    begin = end;
  }
  const MultiTaskModel& m = *model_.model;
  std::vector<float> extra_scratch;
  for (int e = 0; e < m.extra_task_count(); ++e) {
    TaskScores t{m.shape().extra_tasks[static_cast<size_t>(e)].name, std::vector<float>(n)};
    m.predict_extra(e, users.data(), items.data(), static_cast<int64_t>(n), t.values.data(), extra_scratch);
    for (float& z : t.values) z = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(z))));
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<SimilarItem> Recommender::similar(int64_t item_id, int64_t k) const {
  check_range("k", k, options_.limits.max_k);
  const int64_t c = catalogue_index(item_id, "item_id");
  const float* query = catalogue_emb_.data() + c * dim_;
  const std::vector<int64_t> self{c};
  const auto top = index_->search(query, k, &self);
  std::vector<SimilarItem> out;
  const auto& cat = model_.catalogue.items;
  for (const auto& s : top) {
    const auto i = static_cast<size_t>(s.index);
    out.push_back({cat.item_ids[i], cat.titles[i], s.score});
  }
  return out;
}

}  // namespace tandem
