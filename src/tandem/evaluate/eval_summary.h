// Text forms of the ranking metrics and AUC of an EvalResult, for the CLI's
// human-readable output (train, evaluate, compare). Empty when the result
// holds none (a result written before they existed).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tandem/evaluate/evaluation.h"

namespace tandem {

// One line, e.g. "recall@10 0.0712, recall@100 0.3310, NDCG@10 ..., MAP@10
// ..., MRR 0.1534 over 942 users (seen items kept); AUC 0.7021 (rating >= 4:
// 11020 positive, 8980 negative pairs)".
std::string ranking_summary(const EvalResult& r);

// A Markdown table with one row per (display name, result): Recall@K,
// NDCG@K, MAP@K for every K any row has, MRR and AUC; "-" where a row lacks
// a value. `name_header` heads the names' column.
std::string ranking_table(const std::vector<std::pair<std::string, EvalResult>>& rows,
                          const std::string& name_header = "Model");

}  // namespace tandem
