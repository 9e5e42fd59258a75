#include "tandem/evaluate/ranking_output.h"

#include <cmath>

namespace tandem {

RankingOutput ranking_output(const ExperimentConfig& config) {
  switch (config.ranking_loss) {
    case RankingLossKind::kMse:
      return RankingOutput::kRating;
    case RankingLossKind::kBce:
      return RankingOutput::kProbability;
    default:
      return RankingOutput::kScore;
  }
}

const char* ranking_output_key(RankingOutput o) {
  switch (o) {
    case RankingOutput::kRating:
      return "predicted_rating";
    case RankingOutput::kProbability:
      return "positive_probability";
    default:
      return "ranking_score";
  }
}

float ranking_output_value(const ExperimentConfig& config, float head_output) {
  switch (ranking_output(config)) {
    case RankingOutput::kRating:
      return rating_from_label(config.label_transform, head_output);
    case RankingOutput::kProbability:
      return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(head_output))));
    default:
      return head_output;
  }
}

RankingLossSpec ranking_loss_spec(const ExperimentConfig& config) {
  RankingLossSpec s;
  s.kind = config.ranking_loss;
  s.margin = config.ranking_margin;
  s.label_threshold = transform_label(config.label_transform, config.ranking_positive_threshold);
  return s;
}

}  // namespace tandem
