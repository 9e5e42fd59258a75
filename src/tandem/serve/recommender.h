// The one serving path: retrieval (top-K over the catalogue embeddings, by an
// exact or approximate ItemIndex) then ranking (the rating head over the
// retrieved candidates), shared by `tandem recommend` and the HTTP server so
// the two can never disagree.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <unordered_map>
#include <vector>

#include "tandem/evaluate/ranking_output.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/core/error.h"
#include "tandem/data/id_table.h"
#include "tandem/index/item_index.h"
#include "tandem/serve/candidate_ranker.h"
#include "tandem/serve/user_features.h"

namespace tandem {

// Upper bounds on what one request may ask for: they cap the work and memory
// a single client can cause.
struct ServeLimits {
  int64_t max_k = 1000;
  int64_t max_candidates = 10000;
  int64_t max_score_items = 10000;
};

// A bad request: still a tandem::Error (the CLI prints it as one), plus a
// machine-readable code and the request field at fault, for HTTP replies.
class RequestError : public Error {
 public:
  RequestError(std::string code, std::string field, const std::string& message)
      : Error(message), code_(std::move(code)), field_(std::move(field)) {}
  const std::string& code() const { return code_; }
  const std::string& field() const { return field_; }

 private:
  std::string code_, field_;
};

struct RecommenderOptions {
  ServeLimits limits;
  std::string index = "exact";  // "exact" or "hnsw" (see make_index)
  HnswParams hnsw;               // used by "hnsw" only
  // A graph saved by `tandem index build` (HnswIndex::save) to load instead
  // of building one; needs index "hnsw". Its M, ef_construction and seed
  // replace hnsw's (ef_search stays the caller's). The file must have been
  // built for this model's catalogue (HnswIndex::load says why not).
  std::string index_file;
  // Memory the ranking fast path may spend on precomputed item activations
  // (see CandidateRanker); above it, that half is computed per request.
  int64_t precompute_budget_bytes = int64_t{256} << 20;
};

struct RecommendedItem {
  int64_t item_id = 0;
  std::string title;
  // Retrieval score (user . item); for a cold-start reply, the item's
  // training-interaction count (the popularity it was ranked by).
  float score = 0.0f;
  // Rating head's prediction in stars; absent for cold start (see below), and
  // when the head was trained with a ranking loss other than mse, which
  // predicts no rating.
  std::optional<float> predicted_rating;
  // The head's output as ranking_output.h reads it (stars, the probability
  // of a positive under bce, or a raw score); absent for cold start.
  std::optional<float> ranking_value = std::nullopt;
  // Each extra task's prediction for the user and this item, in task order
  // (a binary task's P(positive)); empty for cold start and without extra
  // tasks.
  std::vector<std::pair<std::string, float>> tasks = {};
};

// One extra task's predictions for a list of items (Recommender::task_scores).
struct TaskScores {
  std::string name;
  std::vector<float> values;
};

struct RecommendResult {
  std::vector<RecommendedItem> items;
  bool cold_start = false;
  // A cold-start user answered from the features the request gave (retrieved
  // and ranked like a known user), not by popularity.
  bool from_features = false;
  RankingOutput ranking_output = RankingOutput::kRating;  // what ranking_value is
  std::string index = "exact";
  double retrieve_ms = 0.0;
  double rank_ms = 0.0;
};

struct SimilarItem {
  int64_t item_id = 0;
  std::string title;
  float score = 0.0f;  // item . item
};

class Recommender {
 public:
  explicit Recommender(TrainedModel model, RecommenderOptions options = {});
  // Holds pointers into its own model: neither copied nor moved.
  Recommender(const Recommender&) = delete;
  Recommender& operator=(const Recommender&) = delete;

  // User ids are strings holding an integer (the raw id of the data); a
  // non-integer is a RequestError on "user_id". A model trained on string ids
  // takes its strings instead (an unknown one is a cold start). A user with no row of its own
  // (unknown id, or one a lookup vocabulary would send to its OOV row) gets a
  // cold-start reply: the k items most often rated in training, with no
  // predicted rating, because no embedding describes that user (the OOV row
  // is never trained on a real user, so a rating from it would be noise).
  // Otherwise: `candidates` items by the index's top-K (the user's training
  // items left out when exclude_seen), re-ordered by predicted rating (ties:
  // retrieval score, then catalogue order), the first min(k, candidates).
  // k and candidates must lie in [1, limits].
  // With `features` (a model with side-feature towers), a user without a row
  // of its own is described by them instead (see UserFeatureEncoder) and gets
  // a real answer: retrieved by its tower vector, ranked by the head, with
  // predicted ratings (cold_start and from_features both true). A known user
  // is answered from its own row; the features are then not used.
  RecommendResult recommend(const std::string& user_id, int64_t k, int64_t candidates,
                            bool exclude_seen, const RawUserFeatures* features = nullptr) const;

  // The head's outputs for one known user and catalogue items, in the order
  // given, as ranking_output() reads them (stars under the mse loss).
  // Unknown user or item: RequestError naming the id.
  std::vector<float> score(const std::string& user_id, const std::vector<int64_t>& item_ids) const;
  // Each extra task's prediction for the same pairs (a binary task's
  // P(positive)), in task order; empty for a model without extra tasks.
  std::vector<TaskScores> task_scores(const std::string& user_id,
                                      const std::vector<int64_t>& item_ids) const;

  // Predictions for n (user, item) pairs, for batch scoring (the Python
  // module's Model.predict): entry 0 is the rating task ("rating": the
  // head's outputs as score() gives them, by the same ranker), then each
  // extra task's (binary: P(positive)), each with n values in pair order.
  // Every user must have a row and every item be in the catalogue: a
  // RequestError names the first that is not and its position.
  std::vector<TaskScores> predict_pairs(const std::vector<std::string>& user_ids,
                                        const std::vector<int64_t>& item_ids) const;

  // The k catalogue items whose embeddings have the largest dot product with
  // this item's (by the same index), the item itself left out.
  std::vector<SimilarItem> similar(int64_t item_id, int64_t k) const;

  // Parses a user id string; RequestError on "user_id" if not an integer.
  static int64_t parse_user_id(const std::string& user_id);
  // User-table row of a user with its own row, nullopt for cold start.
  std::optional<int32_t> user_row(int64_t user_id) const;
  // The same for a request's user id: an integer, or, for a model trained on
  // string ids, one of its strings (any other string is a cold start).
  std::optional<int32_t> user_row(const std::string& user_id) const;

  const TrainedModel& model() const { return model_; }
  // The raw id of an item named `name` (models trained on string item ids;
  // nullopt for an unknown name or a model with integer ids). Hashed.
  std::optional<int64_t> item_id_of_name(std::string_view name) const {
    return model_.names.items ? item_names_.find(name) : std::nullopt;
  }
  RankingOutput ranking_output() const { return tandem::ranking_output(model_.config); }
  const ServeLimits& limits() const { return options_.limits; }
  const RecommenderOptions& options() const { return options_; }
  const ItemIndex& index() const { return *index_; }
  // Seconds spent making the index at construction: building it, or loading
  // it from options().index_file when that is set.
  double index_seconds() const { return index_seconds_; }
  bool index_loaded() const { return !options_.index_file.empty(); }
  const CandidateRanker& ranker() const { return *ranker_; }
  int64_t catalogue_size() const { return static_cast<int64_t>(model_.catalogue.size()); }

 private:
  int64_t catalogue_index(int64_t item_id, const char* field) const;
  // Ranks retrieved candidates `top` for a user whose ranking task is given
  // by `rank` (its row's or its described vector's): the head's outputs,
  // best first, the first k into out.items.
  void rank_into(const std::vector<ScoredItem>& top, int64_t k,
                 const std::function<void(const int32_t*, int64_t, float*, CandidateRanker::Scratch&)>& rank,
                 RecommendResult& out) const;
  void check_range(const char* field, int64_t value, int64_t max) const;
  // Fills each of out.items' extra-task predictions: `logits(e, rows, n,
  // out)` gives extra task e's outputs for the user and n item rows.
  void add_task_predictions(
      const std::function<void(int, const int32_t*, int64_t, float*)>& logits,
      RecommendResult& out) const;

  TrainedModel model_;
  RecommenderOptions options_;
  int64_t dim_ = 0;
  std::unique_ptr<ItemIndex> index_;            // over the catalogue embeddings
  double index_seconds_ = 0.0;
  std::unique_ptr<CandidateRanker> ranker_;
  std::unique_ptr<UserFeatureEncoder> user_features_;  // cold start by features
  std::vector<float> catalogue_emb_;            // [catalogue, dim] (similar's queries)
  IdTable user_names_;  // the model's user strings, indexed (string-id models only)
  IdTable item_names_;  // and its item strings
  std::vector<std::vector<int64_t>> seen_;      // user row -> sorted catalogue indices
  std::vector<int64_t> by_popularity_;          // catalogue indices, most trained first
  std::vector<int64_t> catalogue_of_row_;       // item-table row -> catalogue index or -1
  std::unordered_map<int64_t, int64_t> index_of_id_;  // raw item id -> catalogue index
};

}  // namespace tandem
