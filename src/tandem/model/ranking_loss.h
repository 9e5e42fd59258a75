// The ranking task's loss, chosen per experiment. The rating head's output
// s_i for example i is read according to the loss:
//   mse                its label (the tutorials'; computed per worker slice by
//                      MseLoss, not here, so its arithmetic is unchanged)
//   bce                a logit: P(positive) = sigmoid(s_i), the example being
//                      positive when its label >= label_threshold
//   pairwise-logistic  a score: only its order within one user's examples
//   pairwise-hinge     means anything (RMSE against the labels is not a
//   softmax-listwise   metric of these losses)
//
// Definitions over a batch of n examples, with example weights w_i (1 when
// none are given) and y_i the example's label (the transformed rating):
//   bce:       L = (1/n) sum_i w_i [log(1 + e^s_i) - t_i s_i],
//              t_i = 1 if y_i >= label_threshold else 0.
//   pairwise:  over the pairs (i, j) of examples of the SAME user with
//              y_i > y_j (ties and pairs across users are not pairs),
//              L = (1/P) sum_(i,j) w_i l(s_i - s_j), P the number of pairs,
//              l(d) = log(1 + e^-d) (logistic) or max(0, margin - d) (hinge);
//              the pair carries the weight of its better-rated example (as
//              TF-Ranking's pairwise losses). L = 0 when the batch has no pair.
//   softmax-listwise (TF-Ranking's softmax loss): per user u of the batch,
//              gains g_i = w_i max(y_i, 0) (a negative label is no gain),
//              G_u = sum g_i, L_u = sum_i g_i (log sum_j e^s_j - s_i), i.e.
//              G_u times the cross-entropy of softmax(s) against g / G_u;
//              L = (1/U) sum_u L_u over the U users with at least two
//              examples in the batch and G_u > 0. A user whose gains are all
//              0 carries no target distribution (TF-Ranking gives that list
//              weight 0); a user with a single example has L_u = 0 and
//              gradient 0 for any score, so both are left out of U rather
//              than diluting the mean with batches' singleton counts.
//              L = 0 when U = 0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/model/footprint.h"

namespace tandem {

enum class RankingLossKind { kMse, kBce, kPairwiseLogistic, kPairwiseHinge, kSoftmaxListwise };

struct RankingLossSpec {
  RankingLossKind kind = RankingLossKind::kMse;
  float margin = 1.0f;           // pairwise-hinge
  float label_threshold = 0.0f;  // bce: positive when label >= this (label scale)
};

// "mse", "bce", "pairwise-logistic", "pairwise-hinge", "softmax-listwise".
std::string to_string(RankingLossKind k);
// The inverse; anything else is a tandem::Error listing the names.
RankingLossKind parse_ranking_loss(const std::string& name);
std::vector<std::string> ranking_loss_names();

// Losses over a whole batch (the pairwise and listwise ones couple examples of
// one user, wherever the batch put them). Buffers are sized for max_batch at
// construction; a call allocates nothing.
class RankingLoss {
 public:
  explicit RankingLoss(int64_t max_batch = 0);

  // Returns L (above) for n examples; when grad is not null writes
  // grad[i] = scale * dL/dpred_i for all n. `users` (any ids; examples are
  // grouped by equal id) is read by the pairwise and listwise losses only;
  // `weights` may be null (all 1). kMse is computed here too, for
  // completeness: mean of w_i (p_i - y_i)^2.
  double forward_backward(const RankingLossSpec& spec, const float* pred, const float* label,
                          const int32_t* users, const float* weights, int64_t n, float scale,
                          float* grad);

  // Pairs / lists the last call counted (P, U above; n for pointwise losses).
  int64_t last_terms() const { return last_terms_; }

  // What one for this batch capacity allocates (all workspace, footprint.h).
  static Footprint footprint(int64_t max_batch);
  Footprint allocated() const;

 private:
  // Sorts example indices by (user, index) into order_ and writes group
  // boundaries into group_start_ (group_count_ + 1 entries).
  void group_by_user(const int32_t* users, int64_t n);
  double pointwise(const RankingLossSpec& spec, const float* pred, const float* label,
                   const float* weights, int64_t n, float scale, float* grad);
  double pairwise(const RankingLossSpec& spec, const float* pred, const float* label,
                  const float* weights, int64_t n, float scale, float* grad);
  double listwise(const float* pred, const float* label, const float* weights, int64_t n,
                  float scale, float* grad);

  int64_t max_batch_;
  std::vector<int32_t> order_;        // [max_batch] example indices, grouped by user
  std::vector<int32_t> group_start_;  // [max_batch + 1]
  int64_t group_count_ = 0;
  std::vector<double> acc_;           // [max_batch] gradient sums before normalising
  int64_t last_terms_ = 0;
};

}  // namespace tandem
