#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gradient_check.h"
#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/core/thread_pool.h"
#include "reference_softmax.h"
#include "tandem/model/multitask_model.h"
#include "tandem/model/retrieval_softmax_loss.h"

namespace tandem {
namespace {

// A problem with its own storage.
struct Owned {
  int64_t nq, nc, n, d;
  std::vector<float> q, c, weight, log_w, corr;
  std::vector<int32_t> query, positive, item;
  RetrievalProblem view(bool weights = true, bool corrections = true) const {
    RetrievalProblem p;
    p.queries = q.data();
    p.columns = c.data();
    p.num_queries = nq;
    p.num_columns = nc;
    p.d = d;
    p.num_examples = n;
    p.example_query = query.data();
    p.example_positive = positive.data();
    p.example_weight = weights && !weight.empty() ? weight.data() : nullptr;
    p.column_log_weight = log_w.empty() ? nullptr : log_w.data();
    p.column_correction = corrections && !corr.empty() ? corr.data() : nullptr;
    p.column_item = item.empty() ? nullptr : item.data();
    return p;
  }
};

// Random problem: 4 queries, 6 columns where columns 4 and 5 are further
// copies of the items of columns 0 and 2 (as sampled negatives would be),
// 7 examples whose positives include column 0 and 2.
Owned random_problem(uint64_t seed) {
  Rng rng(seed);
  Owned o{4, 6, 7, 3, {}, {}, {}, {}, {}, {}, {}, {}};
  o.q.resize(static_cast<size_t>(o.nq * o.d));
  o.c.resize(static_cast<size_t>(o.nc * o.d));
  for (auto& v : o.q) v = rng.uniform(-1, 1);
  for (auto& v : o.c) v = rng.uniform(-1, 1);
  o.query = {0, 1, 1, 2, 3, 0, 2};
  o.positive = {0, 2, 1, 0, 3, 2, 2};
  o.weight = {1.0f, 0.5f, 2.0f, 1.0f, 0.0f, 1.5f, 1.0f};
  o.item = {10, 11, 12, 13, 10, 12};
  o.log_w = {std::log(2.0f), 0.0f, std::log(3.0f), 0.0f, 0.0f, 0.0f};
  o.corr = {0.3f, -0.2f, 0.7f, 0.1f, -0.5f, -0.5f};
  return o;
}

double loss_of(const Owned& o, const RetrievalLossOptions& opt) {
  RetrievalSoftmaxLoss loss(o.nq, o.nc, o.n);
  std::vector<float> dq(o.q.size()), dc(o.c.size());
  return loss.forward_backward(o.view(), opt, 1.0f, dq.data(), dc.data());
}

void check_gradients(const RetrievalLossOptions& opt, uint64_t seed) {
  Owned o = random_problem(seed);
  RetrievalSoftmaxLoss loss(o.nq, o.nc, o.n, 2);  // two-row blocks: several GEMMs
  std::vector<float> dq(o.q.size()), dc(o.c.size());
  loss.forward_backward(o.view(), opt, 0.7f, dq.data(), dc.data());
  auto f = [&] { return 0.7 * loss_of(o, opt); };
  testing::expect_gradient_matches(f, o.q.data(), dq.data(), static_cast<int64_t>(o.q.size()),
                                   "queries", 1e-3f);
  testing::expect_gradient_matches(f, o.c.data(), dc.data(), static_cast<int64_t>(o.c.size()),
                                   "columns", 1e-3f);
}

TEST(RetrievalSoftmaxLoss, GradientMatchesFiniteDifferencesPlain) {
  check_gradients({}, 1);
}

TEST(RetrievalSoftmaxLoss, GradientMatchesFiniteDifferencesWithEveryOption) {
  RetrievalLossOptions opt;
  opt.temperature = 0.5f;
  opt.remove_accidental_hits = true;
  opt.logq_correction = true;
  check_gradients(opt, 2);
}

TEST(RetrievalSoftmaxLoss, GradientMatchesFiniteDifferencesWithHardNegatives) {
  RetrievalLossOptions opt;
  opt.hard_negatives = 2;
  opt.temperature = 0.8f;
  check_gradients(opt, 3);
  opt.remove_accidental_hits = true;
  check_gradients(opt, 4);
}

TEST(RetrievalSoftmaxLoss, TemperatureAndLogQHandComputed) {
  // One query q = (1, 0); columns c0 = (2, 0) (the positive), c1 = (1, 0).
  // T = 0.5: logits 4 and 2; corrections log q = (ln 2, 0):
  // L = log(e^(4 - ln 2) + e^2) - (4 - ln 2).
  Owned o{1, 2, 1, 2, {1, 0}, {2, 0, 1, 0}, {}, {}, {std::log(2.0f), 0.0f}, {0}, {0}, {}};
  RetrievalLossOptions opt;
  opt.temperature = 0.5f;
  opt.logq_correction = true;
  const double expected = std::log(std::exp(4.0 - std::log(2.0)) + std::exp(2.0)) - (4.0 - std::log(2.0));
  EXPECT_NEAR(loss_of(o, opt), expected, 1e-5);
}

TEST(RetrievalSoftmaxLoss, HardNegativesKeepOnlyTheHighestScores) {
  // Scores of the one query against four columns: 1 (positive), 3, 2, 0.
  // With one hard negative the softmax is over {1, 3}.
  Owned o{1, 4, 1, 1, {1}, {1, 3, 2, 0}, {}, {}, {}, {0}, {0}, {}};
  RetrievalLossOptions opt;
  opt.hard_negatives = 1;
  EXPECT_NEAR(loss_of(o, opt), std::log(std::exp(1.0) + std::exp(3.0)) - 1.0, 1e-5);
  opt.hard_negatives = 2;
  EXPECT_NEAR(loss_of(o, opt), std::log(std::exp(1.0) + std::exp(3.0) + std::exp(2.0)) - 1.0, 1e-5);
  opt.hard_negatives = 10;  // more than there are: every negative
  EXPECT_NEAR(loss_of(o, opt),
              std::log(std::exp(1.0) + std::exp(3.0) + std::exp(2.0) + std::exp(0.0)) - 1.0, 1e-5);
}

TEST(RetrievalSoftmaxLoss, AccidentalHitsGetZeroProbabilityAndZeroGradient) {
  // The batch x batch form: three examples, one column each; examples 0 and
  // 1 have the same item (7). Example 1's weight is 0, so column 1's whole
  // gradient comes from the other rows' softmaxes: with hit removal, example
  // 0 must not see column 1 at all, and example 2 (item 8) sees it as an
  // ordinary negative. Column 1 gets a vector of its own so its gradient is
  // observable.
  Owned o{3, 3, 3, 2, {0.3f, -0.2f, 0.5f, 0.1f, -0.4f, 0.6f}, {0.9f, 0.1f, -0.3f, 0.8f, 0.2f, -0.7f},
          {1.0f, 0.0f, 1.0f}, {}, {}, {0, 1, 2}, {0, 1, 2}, {7, 7, 8}};
  RetrievalLossOptions opt;
  opt.remove_accidental_hits = true;
  RetrievalSoftmaxLoss loss(3, 3, 3);
  loss.keep_probabilities(true);
  std::vector<float> dq(6), dc(6);
  loss.forward_backward(o.view(), opt, 1.0f, dq.data(), dc.data());
  const auto& p = loss.probabilities();
  EXPECT_EQ(p[0 * 3 + 1], 0.0f) << "example 0's copy of its positive";
  EXPECT_EQ(p[1 * 3 + 0], 0.0f) << "example 1's copy of its positive";
  EXPECT_GT(p[2 * 3 + 1], 0.0f) << "a different item stays a negative";
  EXPECT_NEAR(p[0] + p[2], 1.0, 1e-6);

  // Column 1's gradient: only example 2's softmax touches it (query q2).
  auto dot = [&](int qi, int cj) { return o.q[qi * 2] * o.c[cj * 2] + o.q[qi * 2 + 1] * o.c[cj * 2 + 1]; };
  double z2 = 0.0;
  for (int j = 0; j < 3; ++j) z2 += std::exp(dot(2, j));
  const double p21 = std::exp(dot(2, 1)) / z2;
  EXPECT_NEAR(dc[2], p21 * o.q[4], 1e-6);
  EXPECT_NEAR(dc[3], p21 * o.q[5], 1e-6);

  // Now make example 2 the only other row of item 7 too: column 1 gets no
  // gradient at all, while without hit removal it does.
  o.item = {7, 7, 7};
  o.positive = {0, 1, 2};
  loss.forward_backward(o.view(), opt, 1.0f, dq.data(), dc.data());
  // Example 2's positive is column 2; columns 0 and 1 are its copies.
  EXPECT_EQ(p[2 * 3 + 0], 0.0f);
  EXPECT_EQ(p[2 * 3 + 1], 0.0f);
  EXPECT_EQ(dc[2], 0.0f);
  EXPECT_EQ(dc[3], 0.0f);
  opt.remove_accidental_hits = false;
  loss.forward_backward(o.view(), opt, 1.0f, dq.data(), dc.data());
  EXPECT_NE(dc[2], 0.0f);
}

TEST(RetrievalSoftmaxLoss, WithoutOptionsEqualsTheInBatchSoftmax) {
  // Distinct rows with multiplicities, as the model poses them, against the
  // batch x batch reference over the same examples.
  Rng rng(5);
  const int64_t n = 9, d = 4;
  const std::vector<int32_t> users = {0, 1, 0, 2, 1, 3, 0, 2, 4};
  const std::vector<int32_t> items = {5, 5, 6, 7, 8, 6, 5, 9, 7};
  std::vector<float> urow(5 * d), irow(10 * d);
  for (auto& v : urow) v = rng.uniform(-1, 1);
  for (auto& v : irow) v = rng.uniform(-1, 1);
  std::vector<float> q(n * d), c(n * d), dq(n * d, 0.0f), dc(n * d, 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(urow.data() + users[i] * d, d, q.data() + i * d);
    std::copy_n(irow.data() + items[i] * d, d, c.data() + i * d);
  }
  const double expected = testing::reference_in_batch_softmax(q.data(), c.data(), n, d, 1.0f, dq.data(), dc.data());

  RowDedup du(5, n), di(10, n);
  du.assign(users.data(), n);
  di.assign(items.data(), n);
  Owned o{du.distinct(), di.distinct(), n, d, {}, {}, {}, {}, {}, du.index(), di.index(), {}};
  for (int64_t u = 0; u < o.nq; ++u)
    o.q.insert(o.q.end(), q.begin() + du.first()[u] * d, q.begin() + (du.first()[u] + 1) * d);
  for (int64_t v = 0; v < o.nc; ++v) {
    o.c.insert(o.c.end(), c.begin() + di.first()[v] * d, c.begin() + (di.first()[v] + 1) * d);
    o.log_w.push_back(std::log(di.counts()[v]));
  }
  RetrievalSoftmaxLoss loss(o.nq, o.nc, n);
  std::vector<float> gq(o.q.size()), gc(o.c.size());
  EXPECT_NEAR(loss.forward_backward(o.view(), {}, 1.0f, gq.data(), gc.data()), expected, 1e-4);
  // Per distinct row, the sum of the reference's per-example gradients.
  for (int64_t u = 0; u < o.nq; ++u) {
    for (int64_t j = 0; j < d; ++j) {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) if (du.index()[i] == u) sum += dq[i * d + j];
      EXPECT_NEAR(gq[u * d + j], sum, 1e-5);
    }
  }
  for (int64_t v = 0; v < o.nc; ++v) {
    for (int64_t j = 0; j < d; ++j) {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) if (di.index()[i] == v) sum += dc[i * d + j];
      EXPECT_NEAR(gc[v * d + j], sum, 1e-5);
    }
  }
}

TEST(RetrievalSoftmaxLoss, ThreadedEqualsSerial) {
  Owned o = random_problem(9);
  RetrievalLossOptions opt;
  opt.remove_accidental_hits = true;
  opt.temperature = 0.3f;
  RetrievalSoftmaxLoss serial(o.nq, o.nc, o.n, 1, 1), threaded(o.nq, o.nc, o.n, 1, 3);
  std::vector<float> dq1(o.q.size()), dc1(o.c.size()), dq3(o.q.size()), dc3(o.c.size());
  ThreadPool pool(3);
  const double a = serial.forward_backward(o.view(), opt, 1.0f, dq1.data(), dc1.data());
  const double b = threaded.forward_backward(o.view(), opt, 1.0f, dq3.data(), dc3.data(), &pool);
  EXPECT_NEAR(a, b, 1e-9 * std::fabs(a));
  for (size_t i = 0; i < dq1.size(); ++i) EXPECT_FLOAT_EQ(dq1[i], dq3[i]);
  for (size_t i = 0; i < dc1.size(); ++i) EXPECT_NEAR(dc1[i], dc3[i], 1e-6);
}

TEST(RetrievalSoftmaxLoss, RejectsBadInput) {
  Owned o = random_problem(1);
  RetrievalSoftmaxLoss loss(o.nq, o.nc, o.n);
  std::vector<float> dq(o.q.size()), dc(o.c.size());
  RetrievalLossOptions opt;
  opt.temperature = 0.0f;
  EXPECT_THROW(loss.forward_backward(o.view(), opt, 1.0f, dq.data(), dc.data()), Error);
  o.positive[3] = 99;
  EXPECT_THROW(loss.forward_backward(o.view(), {}, 1.0f, dq.data(), dc.data()), Error);
  RetrievalSoftmaxLoss small(1, 1, 1);
  EXPECT_THROW(small.forward_backward(random_problem(1).view(), {}, 1.0f, dq.data(), dc.data()), Error);
}

// ---------------------------------------------------------------------------
// Hard negatives against a direct batch x batch implementation of each
// definition. The batch is posed as TFRS poses it: one query row and one
// candidate column per example (copies of a user or an item are separate
// rows and columns), then extra columns (mixed negatives), labels = eye.

struct BatchCase {
  int64_t n = 0, extra = 0, d = 0;
  std::vector<int32_t> user;       // [n]
  std::vector<int32_t> item;       // [n + extra] each column's item
  std::vector<float> weight;       // [n]
  std::vector<float> q;            // [n, d] query row of each example
  std::vector<float> c;            // [n + extra, d]
  std::vector<float> corr;         // [n + extra] log q of each column
};

// Users and items repeat; extra columns repeat batch items and each other.
BatchCase batch_case(uint64_t seed) {
  Rng rng(seed);
  BatchCase b;
  b.user = {0, 1, 0, 2, 1, 3, 0, 2, 4, 1};
  b.item = {5, 5, 6, 7, 8, 6, 5, 9, 7, 5, /* extra: */ 6, 11, 11};
  b.n = 10;
  b.extra = 3;
  b.d = 3;
  b.weight = {1.0f, 0.5f, 2.0f, 1.0f, 0.0f, 1.5f, 1.0f, 0.7f, 1.0f, 1.2f};
  std::vector<float> uvec(5 * b.d), ivec(12 * b.d), icorr(12);
  for (auto& v : uvec) v = rng.uniform(-1.5f, 1.5f);
  for (auto& v : ivec) v = rng.uniform(-1.5f, 1.5f);
  for (auto& v : icorr) v = rng.uniform(-1.0f, 1.0f);
  const int64_t nc = b.n + b.extra;
  b.q.resize(static_cast<size_t>(b.n * b.d));
  b.c.resize(static_cast<size_t>(nc * b.d));
  b.corr.resize(static_cast<size_t>(nc));
  for (int64_t i = 0; i < b.n; ++i) std::copy_n(uvec.data() + b.user[i] * b.d, b.d, b.q.data() + i * b.d);
  for (int64_t j = 0; j < nc; ++j) {
    std::copy_n(ivec.data() + b.item[j] * b.d, b.d, b.c.data() + j * b.d);
    // The extra columns' sampler is another one (uniform): their own log q.
    b.corr[j] = j < b.n ? icorr[b.item[j]] : -0.4f;
  }
  return b;
}

struct ReferenceResult {
  double loss = 0.0;
  std::vector<double> dq, dc;  // [n, d], [n + extra, d]
};

// The obvious implementation: per example row i, the logits of every column,
// the set of columns its softmax keeps, the cross-entropy over that set. Hard
// negatives are TFRS's HardNegativeMining: the k highest logits among the
// row's negative columns, copies included (a copy of the positive item is a
// negative column unless hit removal masks it).
ReferenceResult reference(const BatchCase& b, const RetrievalLossOptions& opt) {
  const int64_t n = b.n, nc = b.n + b.extra, d = b.d;
  ReferenceResult r;
  r.dq.assign(static_cast<size_t>(n * d), 0.0);
  r.dc.assign(static_cast<size_t>(nc * d), 0.0);
  const int64_t k = opt.hard_negatives;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> logit(static_cast<size_t>(nc));
    for (int64_t j = 0; j < nc; ++j) {
      double s = 0.0;
      for (int64_t t = 0; t < d; ++t) s += static_cast<double>(b.q[i * d + t]) * b.c[j * d + t];
      logit[j] = s / opt.temperature - (opt.logq_correction ? b.corr[j] : 0.0);
    }
    auto masked = [&](int64_t j) { return opt.remove_accidental_hits && j != i && b.item[j] == b.item[i]; };
    std::vector<bool> keep(static_cast<size_t>(nc), false);
    keep[i] = true;
    std::vector<int64_t> neg;
    for (int64_t j = 0; j < nc; ++j)
      if (j != i && !masked(j)) neg.push_back(j);
    auto higher = [&](int64_t a, int64_t c) { return logit[a] > logit[c] || (logit[a] == logit[c] && a < c); };
    std::sort(neg.begin(), neg.end(), higher);
    if (k <= 0) {
      for (int64_t j : neg) keep[j] = true;
    } else {
      for (size_t t = 0; t < neg.size() && static_cast<int64_t>(t) < k; ++t) keep[neg[t]] = true;
    }
    double m = -HUGE_VAL;
    for (int64_t j = 0; j < nc; ++j) if (keep[j]) m = std::max(m, logit[j]);
    double z = 0.0;
    for (int64_t j = 0; j < nc; ++j) if (keep[j]) z += std::exp(logit[j] - m);
    const double w = b.weight[i];
    r.loss += w * (m + std::log(z) - logit[i]);
    for (int64_t j = 0; j < nc; ++j) {
      if (!keep[j]) continue;
      const double g = w * (std::exp(logit[j] - m) / z - (j == i ? 1.0 : 0.0)) / opt.temperature;
      for (int64_t t = 0; t < d; ++t) {
        r.dq[i * d + t] += g * b.c[j * d + t];
        r.dc[j * d + t] += g * b.q[i * d + t];
      }
    }
  }
  return r;
}

// The same batch as the model poses it to RetrievalSoftmaxLoss: distinct
// users as queries, distinct batch items (log multiplicity) then the extra
// columns; the class's gradients are compared with the reference's summed
// over each distinct user's rows and each item's columns.
void expect_matches_reference(const BatchCase& b, const RetrievalLossOptions& opt,
                              const std::string& what) {
  const int64_t n = b.n, d = b.d;
  std::vector<int32_t> query_of(static_cast<size_t>(n)), column_of(static_cast<size_t>(n + b.extra));
  std::vector<int32_t> first_user, first_item;
  Owned o{0, 0, n, d, {}, {}, {}, {}, {}, {}, {}, {}};
  for (int64_t i = 0; i < n; ++i) {
    auto u = std::find(first_user.begin(), first_user.end(), b.user[i]);
    if (u == first_user.end()) {
      first_user.push_back(b.user[i]);
      o.q.insert(o.q.end(), b.q.begin() + i * d, b.q.begin() + (i + 1) * d);
      u = first_user.end() - 1;
    }
    query_of[i] = static_cast<int32_t>(u - first_user.begin());
    auto v = std::find(first_item.begin(), first_item.end(), b.item[i]);
    if (v == first_item.end()) {
      first_item.push_back(b.item[i]);
      o.c.insert(o.c.end(), b.c.begin() + i * d, b.c.begin() + (i + 1) * d);
      o.corr.push_back(b.corr[i]);
      o.item.push_back(b.item[i]);
      o.log_w.push_back(0.0f);
      v = first_item.end() - 1;
    }
    column_of[i] = static_cast<int32_t>(v - first_item.begin());
  }
  std::vector<float> count(first_item.size(), 0.0f);
  for (int64_t i = 0; i < n; ++i) count[column_of[i]] += 1.0f;
  for (size_t v = 0; v < count.size(); ++v) o.log_w[v] = std::log(count[v]);
  for (int64_t t = 0; t < b.extra; ++t) {
    column_of[n + t] = static_cast<int32_t>(o.item.size());
    o.c.insert(o.c.end(), b.c.begin() + (n + t) * d, b.c.begin() + (n + t + 1) * d);
    o.corr.push_back(b.corr[n + t]);
    o.item.push_back(b.item[n + t]);
    o.log_w.push_back(0.0f);
  }
  o.nq = static_cast<int64_t>(first_user.size());
  o.nc = static_cast<int64_t>(o.item.size());
  o.query = query_of;
  o.positive.assign(column_of.begin(), column_of.begin() + n);
  o.weight = b.weight;

  const ReferenceResult ref = reference(b, opt);
  RetrievalSoftmaxLoss loss(o.nq, o.nc, n, 2);
  std::vector<float> dq(o.q.size()), dc(o.c.size());
  const float scale = 0.8f;
  // The model passes the corrections only with the logQ option.
  const double got =
      loss.forward_backward(o.view(true, opt.logq_correction), opt, scale, dq.data(), dc.data());
  EXPECT_NEAR(got, ref.loss, 1e-5 * std::max(1.0, std::fabs(ref.loss))) << what;
  for (int64_t u = 0; u < o.nq; ++u) {
    for (int64_t t = 0; t < d; ++t) {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) if (query_of[i] == u) sum += ref.dq[i * d + t];
      EXPECT_NEAR(dq[u * d + t], scale * sum, 1e-5) << what << ": query " << u << " element " << t;
    }
  }
  // Candidates are compared per item, as the model scatters them: columns of
  // one item tie (equal vectors), and which of two tied columns a selection
  // keeps is then up to the GEMM's last bit, not a difference.
  for (int32_t it : o.item) {
    for (int64_t t = 0; t < d; ++t) {
      double got_sum = 0.0, sum = 0.0;
      for (int64_t v = 0; v < o.nc; ++v) if (o.item[v] == it) got_sum += dc[v * d + t];
      for (int64_t j = 0; j < n + b.extra; ++j) if (b.item[j] == it) sum += ref.dc[j * d + t];
      EXPECT_NEAR(got_sum, scale * sum, 1e-5) << what << ": item " << it << " element " << t;
    }
  }
}

TEST(RetrievalSoftmaxLossHardNegatives, EqualTheBatchReference) {
  for (uint64_t seed : {1, 2, 3, 4}) {
    const BatchCase b = batch_case(seed);
    for (int64_t k : {0, 1, 2, 3, 4, 6, 9, 100}) {
      for (int removal = 0; removal < 2; ++removal) {
        for (int logq = 0; logq < 2; ++logq) {
          for (float temperature : {1.0f, 0.6f}) {
            RetrievalLossOptions opt;
            opt.hard_negatives = k;
            opt.remove_accidental_hits = removal != 0;
            opt.logq_correction = logq != 0;
            opt.temperature = temperature;
            expect_matches_reference(b, opt,
                                     "seed " + std::to_string(seed) + " k " + std::to_string(k) +
                                         " removal " + std::to_string(removal) + " logq " +
                                         std::to_string(logq) + " T " + std::to_string(temperature));
          }
        }
      }
    }
  }
}

TEST(RetrievalSoftmaxLossHardNegatives, CopiesAreSeparateColumnsByDefault) {
  // One query, batch items A, A, B, B, C with scores 3, 3, 2, 2, 0 (d = 1,
  // q = 1); example 0's positive is A. Its negative columns are A's other
  // copy (3), B, B (2) and C (0). With k = 2 TFRS keeps A's copy and one B:
  // L = log(e^3 + e^3 + e^2) - 3. (Counting distinct items instead, as
  // Tandem did before, would keep both of A's columns and the two best other
  // items, B twice and C: log(2 e^3 + 2 e^2 + e^0) - 3.)
  Owned o{1, 3, 1, 1, {1}, {3, 2, 0}, {}, {std::log(2.0f), std::log(2.0f), 0.0f}, {}, {0}, {0}, {1, 2, 3}};
  RetrievalLossOptions opt;
  opt.hard_negatives = 2;
  EXPECT_NEAR(loss_of(o, opt), std::log(2 * std::exp(3.0) + std::exp(2.0)) - 3.0, 1e-6);
  opt.hard_negatives = 3;  // A's copy and both B's
  EXPECT_NEAR(loss_of(o, opt), std::log(2 * std::exp(3.0) + 2 * std::exp(2.0)) - 3.0, 1e-6);
  opt.remove_accidental_hits = true;  // A's copy is masked: both B's and C
  EXPECT_NEAR(loss_of(o, opt), std::log(std::exp(3.0) + 2 * std::exp(2.0) + 1.0) - 3.0, 1e-6);
  opt.hard_negatives = 1;  // one B
  EXPECT_NEAR(loss_of(o, opt), std::log(std::exp(3.0) + std::exp(2.0)) - 3.0, 1e-6);
}

TEST(RetrievalSoftmaxLossHardNegatives, GradientMatchesFiniteDifferences) {
  // random_problem's columns 0 and 2 hold two and three copies: with k = 2
  // and 3 the cut falls inside a column's copies.
  for (int64_t k : {1, 2, 3}) {
    RetrievalLossOptions opt;
    opt.hard_negatives = k;
    opt.temperature = 0.8f;
    check_gradients(opt, 10 + static_cast<uint64_t>(k));
    opt.remove_accidental_hits = true;
    opt.logq_correction = true;
    check_gradients(opt, 20 + static_cast<uint64_t>(k));
  }
}

// Through the model: weights of 1 take the optioned path and must give the
// plain path's step; every option's step must match finite differences of
// the model's total loss with respect to the embedding tables.
TEST(MultiTaskModelRetrievalOptions, UnitWeightsEqualThePlainStep) {
  ModelShape shape{12, 15, 4, {8}};
  const std::vector<int32_t> users = {1, 2, 1, 5, 7, 2, 1, 11};
  const std::vector<int32_t> items = {3, 3, 4, 9, 14, 4, 3, 0};
  const std::vector<float> labels = {0.1f, 0.5f, 0.9f, 0.3f, 0.2f, 0.7f, 0.4f, 0.6f};
  const std::vector<float> ones(8, 1.0f);
  MultiTaskModel a(shape, 8), b(shape, 8);
  a.init(3);
  b.init(3);
  Batch plain{users.data(), items.data(), labels.data(), 8};
  Batch weighted = plain;
  weighted.weights = ones.data();
  const StepLosses la = a.compute_gradients(plain, {1.0f, 1.0f});
  const StepLosses lb = b.compute_gradients(weighted, {1.0f, 1.0f});
  EXPECT_NEAR(la.retrieval, lb.retrieval, 1e-4);
  EXPECT_NEAR(la.ranking, lb.ranking, 1e-6);
  ASSERT_EQ(a.item_grad().count(), b.item_grad().count());
  for (int64_t s = 0; s < a.item_grad().count(); ++s) {
    ASSERT_EQ(a.item_grad().rows()[s], b.item_grad().rows()[s]);
    for (int j = 0; j < 4; ++j) EXPECT_NEAR(a.item_grad().grad(s)[j], b.item_grad().grad(s)[j], 1e-5);
  }
}

void check_model_gradients(const RetrievalLossOptions& opt) {
  ModelShape shape{12, 15, 4, {8}};
  const std::vector<int32_t> users = {1, 2, 1, 5, 7, 2, 1, 11};
  const std::vector<int32_t> items = {3, 3, 4, 9, 14, 4, 3, 0};
  const std::vector<float> labels = {0.1f, 0.5f, 0.9f, 0.3f, 0.2f, 0.7f, 0.4f, 0.6f};
  const std::vector<float> weights = {1.0f, 0.5f, 2.0f, 1.0f, 0.0f, 1.5f, 1.0f, 0.7f};
  MultiTaskModel model(shape, 8);
  model.init(4);
  std::vector<float> log_p(15);
  for (int i = 0; i < 15; ++i) log_p[i] = std::log((1.0f + i % 4) / 40.0f);
  std::vector<int32_t> pool = {0, 3, 4, 6, 9, 12};
  model.configure_retrieval(opt, log_p, pool);
  Batch batch{users.data(), items.data(), labels.data(), 8, weights.data(), 77};
  const TaskWeights w{0.5f, 1.0f};
  model.compute_gradients(batch, w);
  // Scatter the row gradients to table shape.
  std::vector<float> gu(12 * 4, 0.0f), gi(15 * 4, 0.0f);
  for (int64_t s = 0; s < model.user_grad().count(); ++s)
    for (int j = 0; j < 4; ++j) gu[model.user_grad().rows()[s] * 4 + j] += model.user_grad().grad(s)[j];
  for (int64_t s = 0; s < model.item_grad().count(); ++s)
    for (int j = 0; j < 4; ++j) gi[model.item_grad().rows()[s] * 4 + j] += model.item_grad().grad(s)[j];
  auto total = [&] { return model.compute_gradients(batch, w).total; };
  testing::expect_gradient_matches(total, model.user_table().weights.data(), gu.data(), 12 * 4,
                                   "user table", 1e-3f);
  testing::expect_gradient_matches(total, model.item_table().weights.data(), gi.data(), 15 * 4,
                                   "item table", 1e-3f);
}

TEST(MultiTaskModelRetrievalOptions, GradientMatchesFiniteDifferences) {
  RetrievalLossOptions opt;
  opt.temperature = 0.2f;
  opt.remove_accidental_hits = true;
  opt.logq_correction = true;
  opt.mixed_negatives = 5;  // the pool holds rows of the batch's items too
  check_model_gradients(opt);
  opt.hard_negatives = 3;
  check_model_gradients(opt);
}

TEST(MultiTaskModelRetrievalOptions, RejectsBadConfiguration) {
  MultiTaskModel model(ModelShape{4, 5, 2, {3}}, 4);
  RetrievalLossOptions opt;
  opt.logq_correction = true;
  EXPECT_THROW(model.configure_retrieval(opt, {0.0f}, {}), Error);  // wrong length
  opt = {};
  opt.mixed_negatives = 3;
  EXPECT_THROW(model.configure_retrieval(opt, {}, {}), Error);  // nothing to sample
  EXPECT_THROW(model.configure_retrieval(opt, {}, {7}), Error);  // row outside the table
  opt = {};
  opt.temperature = -1.0f;
  EXPECT_THROW(model.configure_retrieval(opt, {}, {}), Error);
}

}  // namespace
}  // namespace tandem

namespace tandem {
namespace {

// ---- bfloat16 score GEMMs ----------------------------------------------------

TEST(RetrievalSoftmaxLossBf16, RefusedWhereTheLibraryLacksSbgemm) {
  if (blas::bf16_available()) GTEST_SKIP() << "the loaded OpenBLAS has cblas_sbgemm";
  RetrievalSoftmaxLoss loss(4, 4, 4);
  try {
    loss.set_precision(blas::GemmPrecision::kBfloat16);
    FAIL() << "bfloat16 accepted without cblas_sbgemm";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cblas_sbgemm"), std::string::npos) << e.what();
  }
  EXPECT_EQ(loss.precision(), blas::GemmPrecision::kFloat32);
}

// A training step under bfloat16 GEMMs against float32's, in each kernel:
// the plain one over distinct rows, the full n x n matrix, and the general
// one (options), serial and with two workers.
TEST(RetrievalSoftmaxLossBf16, LossAndGradientsCloseToFloat32InEveryKernel) {
  if (!blas::bf16_available())
    GTEST_SKIP() << "the loaded OpenBLAS has no cblas_sbgemm (built without BUILD_BFLOAT16)";
  const int64_t n = 300, d = 32;
  Rng rng(21);
  std::vector<int32_t> users(n), items(n);
  for (auto& u : users) u = static_cast<int32_t>(rng.below(100));
  for (auto& v : items) v = static_cast<int32_t>(rng.below(150));
  std::vector<float> urow(100 * d), irow(150 * d);
  for (auto& v : urow) v = rng.uniform(-0.5f, 0.5f);
  for (auto& v : irow) v = rng.uniform(-0.5f, 0.5f);
  std::vector<float> q(n * d), c(n * d);
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(urow.data() + users[i] * d, d, q.data() + i * d);
    std::copy_n(irow.data() + items[i] * d, d, c.data() + i * d);
  }
  RetrievalLossOptions optioned;
  optioned.temperature = 0.5f;
  optioned.remove_accidental_hits = true;
  struct Case {
    const char* name;
    RetrievalLossOptions opt;
    bool distinct_rows;
  };
  for (const Case& k : {Case{"plain distinct rows", {}, true}, Case{"full matrix", {}, false},
                        Case{"general", optioned, true}}) {
    for (int workers : {1, 2}) {
      ThreadPool pool(workers);
      auto step = [&](blas::GemmPrecision precision, std::vector<float>& dq, std::vector<float>& dc) {
        RetrievalSoftmaxLoss loss(n, n, n, 64, workers);  // 64-row blocks: several per worker
        loss.prepare_batches(100, 150, d);
        loss.set_precision(precision);
        RetrievalBatch b;
        b.queries = q.data();
        b.items = c.data();
        dq.assign(q.size(), 0.0f);
        dc.assign(c.size(), 0.0f);
        b.dq = dq.data();
        b.dc = dc.data();
        b.n = n;
        b.d = d;
        b.query_ids = users.data();
        b.item_ids = items.data();
        return loss.forward_backward(b, k.opt, 0.5f, k.distinct_rows, workers > 1 ? &pool : nullptr);
      };
      std::vector<float> dq32, dc32, dq16, dc16;
      const double l32 = step(blas::GemmPrecision::kFloat32, dq32, dc32);
      const double l16 = step(blas::GemmPrecision::kBfloat16, dq16, dc16);
      SCOPED_TRACE(std::string(k.name) + ", workers " + std::to_string(workers));
      EXPECT_NE(l16, l32);  // the bfloat16 GEMMs ran
      EXPECT_NEAR(l16, l32, 2e-3 * std::fabs(l32));
      for (const auto& [g16, g32] : {std::pair{&dq16, &dq32}, std::pair{&dc16, &dc32}}) {
        float largest = 0.0f;
        for (float g : *g32) largest = std::max(largest, std::fabs(g));
        ASSERT_GT(largest, 0.0f);
        for (size_t i = 0; i < g32->size(); ++i)
          ASSERT_NEAR((*g16)[i], (*g32)[i], 2e-2f * largest) << "entry " << i;
      }
    }
  }
}

}  // namespace
}  // namespace tandem
