// The JSON face of the serving API, apart from any transport: decoding
// request bodies (strictly: wrong types, missing fields and out-of-range
// integers are RequestErrors naming the field) and encoding results. The
// HTTP server and `tandem recommend --json` both use it, so they print the
// same objects; the fuzzer drives the decoders directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/serve/recommender.h"

namespace tandem {

struct RecommendRequest {
  std::string user_id;
  int64_t k = 10;
  int64_t candidates = 10;  // defaults to k when absent
  bool exclude_seen = false;
  // A cold-start user's own features ("features"; see UserFeatureEncoder).
  std::optional<RawUserFeatures> features;
};

struct ScoreRequest {
  std::string user_id;
  std::vector<int64_t> item_ids;
  // A model trained on string item ids is asked by name: the ids are then
  // strings, held here instead (resolve_item_names maps them).
  std::vector<std::string> item_names;
};

// Body of POST /v1/recommend: {"user_id": "5" | 5, "k"?: int, "candidates"?:
// int, "exclude_seen"?: bool, "features"?: {name: value | [value, ...]}}
// where a value is a string or an integer. Range checks against the limits
// are the Recommender's; this only checks shapes and types.
RecommendRequest decode_recommend_request(std::string_view body);
// Body of POST /v1/score: {"user_id": ..., "item_ids": [int, ...] or
// [string, ...] (not mixed)}, at most
// `max_items` ids (checked before any id is copied).
ScoreRequest decode_score_request(std::string_view body, int64_t max_items);
// A query-string integer (e.g. /v1/similar?k=..): the whole text must be one
// base-10 int64.
int64_t decode_int_param(const std::string& name, const std::string& text);

// The raw item ids of `names` (an item-name list from a model trained on
// string ids): each must be a known name, else a RequestError "unknown_item".
std::vector<int64_t> resolve_item_names(const std::vector<std::string>& names,
                                        const Recommender& rec, const char* field);

// With `item_names` (a model trained on string item ids: raw id i is named
// item_names[i]) every "item_id" is written as its name, else as the number.
// Items carry "predicted_rating" (null for cold start, and for a head trained
// with a ranking loss other than mse, whose value then goes under
// ranking_output_key: "positive_probability" or "ranking_score").
nlohmann::json encode_recommend_result(const std::string& user_id, const RecommendResult& r,
                                       const std::vector<std::string>* item_names = nullptr);
nlohmann::json encode_similar_items(int64_t item_id, const std::vector<SimilarItem>& items,
                                    const std::vector<std::string>* item_names = nullptr);
// `predicted` as Recommender::score gives them: under the mse loss each
// entry's "predicted_rating"; otherwise "predicted_rating" is null and the
// value goes under ranking_output_key(output). With extra tasks each entry
// also has "tasks": {name: P}, as /v1/recommend's items.
nlohmann::json encode_scores(const std::string& user_id, const std::vector<int64_t>& item_ids,
                             const std::vector<float>& predicted,
                             RankingOutput output = RankingOutput::kRating,
                             const std::vector<std::string>* item_names = nullptr,
                             const std::vector<TaskScores>& tasks = {});
// {"error": {"code", "field", "message"}}
nlohmann::json encode_error(const std::string& code, const std::string& field,
                            const std::string& message);

}  // namespace tandem
