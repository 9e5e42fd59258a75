#include "tandem/data/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "data/test_util.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

using testing::error_of;

SyntheticSpec small_spec() {
  SyntheticSpec s;
  s.users = 2000;
  s.items = 3000;
  s.interactions = 50000;
  s.seed = 42;
  return s;
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// Share of all rows held by the `top` most frequent ids in 1..n.
double top_share(const std::vector<int64_t>& ids, int64_t n, size_t top) {
  std::vector<int64_t> counts(static_cast<size_t>(n) + 1, 0);
  for (const int64_t id : ids) ++counts[static_cast<size_t>(id)];
  std::sort(counts.begin(), counts.end(), std::greater<>());
  const int64_t held = std::accumulate(counts.begin(), counts.begin() + top, int64_t{0});
  return static_cast<double>(held) / static_cast<double>(ids.size());
}

// The `top` most frequent ids in 1..n.
std::vector<int64_t> most_frequent(const std::vector<int64_t>& ids, int64_t n, size_t top) {
  std::vector<int64_t> counts(static_cast<size_t>(n) + 1, 0);
  for (const int64_t id : ids) ++counts[static_cast<size_t>(id)];
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{1});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return counts[static_cast<size_t>(a)] > counts[static_cast<size_t>(b)];
  });
  order.resize(top);
  return order;
}

double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

TEST(Synthetic, SameSpecGivesBitIdenticalOutput) {
  const Ratings a = generate_synthetic(small_spec());
  const Ratings b = generate_synthetic(small_spec());
  EXPECT_TRUE(same_bits(a.users, b.users));
  EXPECT_TRUE(same_bits(a.items, b.items));
  EXPECT_TRUE(same_bits(a.ratings, b.ratings));
  EXPECT_TRUE(same_bits(a.timestamps, b.timestamps));
}

TEST(Synthetic, DifferentSeedGivesDifferentOutput) {
  SyntheticSpec other = small_spec();
  other.seed = 43;
  const Ratings a = generate_synthetic(small_spec());
  const Ratings b = generate_synthetic(other);
  EXPECT_NE(a.users, b.users);
  EXPECT_NE(a.items, b.items);
  EXPECT_NE(a.ratings, b.ratings);
  // Not merely shifted or partly equal: most rows differ.
  size_t same_pairs = 0;
  for (size_t i = 0; i < a.size(); ++i) same_pairs += a.users[i] == b.users[i] && a.items[i] == b.items[i];
  EXPECT_LT(same_pairs, a.size() / 100);
}

TEST(Synthetic, NoiseChangesOnlyTheRatings) {
  SyntheticSpec noisy = small_spec();
  noisy.noise = 1.5;
  const Ratings a = generate_synthetic(small_spec());
  const Ratings b = generate_synthetic(noisy);
  EXPECT_EQ(a.users, b.users);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.timestamps, b.timestamps);
  EXPECT_NE(a.ratings, b.ratings);
}

TEST(Synthetic, CountsIdRangesAndTimestamps) {
  const SyntheticSpec spec = small_spec();
  const Ratings r = generate_synthetic(spec);
  ASSERT_EQ(r.size(), static_cast<size_t>(spec.interactions));
  ASSERT_EQ(r.items.size(), r.size());
  ASSERT_EQ(r.ratings.size(), r.size());
  ASSERT_EQ(r.timestamps.size(), r.size());
  // Exact reservation: the columns were never regrown past their size.
  EXPECT_EQ(r.users.capacity(), r.size());
  EXPECT_EQ(r.ratings.capacity(), r.size());
  const auto [umin, umax] = std::minmax_element(r.users.begin(), r.users.end());
  const auto [imin, imax] = std::minmax_element(r.items.begin(), r.items.end());
  EXPECT_GE(*umin, 1);
  EXPECT_LE(*umax, spec.users);
  EXPECT_GE(*imin, 1);
  EXPECT_LE(*imax, spec.items);
  for (size_t i = 0; i < r.size(); ++i) ASSERT_EQ(r.timestamps[i], 880000000 + static_cast<int64_t>(i));
}

TEST(Synthetic, TinyCataloguesWork) {
  SyntheticSpec s;
  s.users = 1;
  s.items = 1;
  s.interactions = 10;
  s.latent_dim = 1;
  s.user_zipf = 3.0;
  s.item_zipf = 0.0;
  s.noise = 0.0;
  const Ratings r = generate_synthetic(s);
  ASSERT_EQ(r.size(), 10u);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r.users[i], 1);
    EXPECT_EQ(r.items[i], 1);
    // One pair and no noise: one rating, repeated.
    EXPECT_EQ(r.ratings[i], r.ratings[0]);
  }
}

TEST(Synthetic, RatingsAreWholeStarsWithABellShapedHistogram) {
  SyntheticSpec s;
  s.users = 5000;
  s.items = 5000;
  s.interactions = 100000;
  const Ratings r = generate_synthetic(s);
  std::array<int64_t, 6> hist{};
  for (const float x : r.ratings) {
    ASSERT_TRUE(x >= 1.0f && x <= 5.0f && x == std::floor(x)) << x;
    ++hist[static_cast<size_t>(x)];
  }
  for (int star = 1; star <= 5; ++star) EXPECT_GT(hist[star], 1000) << "star " << star;
  // One hump on 3-4, falling off on both sides, like MovieLens.
  EXPECT_LT(hist[1], hist[2]);
  EXPECT_LT(hist[2], hist[3]);
  EXPECT_LT(hist[5], hist[4]);
  EXPECT_GT(hist[3] + hist[4], r.size() / 2);
  const double mean = std::accumulate(r.ratings.begin(), r.ratings.end(), 0.0) / r.size();
  EXPECT_GT(mean, 3.0);
  EXPECT_LT(mean, 4.0);
}

TEST(Synthetic, ItemPopularityFollowsAPowerLaw) {
  SyntheticSpec s;
  s.users = 10000;
  s.items = 10000;
  s.interactions = 200000;
  s.item_zipf = 1.0;
  const Ratings skewed = generate_synthetic(s);
  // Zipf(1) over 10000 ranks: the top 100 hold H(100)/H(10000) ~ 53%.
  EXPECT_GT(top_share(skewed.items, s.items, 100), 0.20);
  s.item_zipf = 0.0;
  const Ratings uniform = generate_synthetic(s);
  EXPECT_LT(top_share(uniform.items, s.items, 100), 0.03);
}

TEST(Synthetic, UserActivityFollowsItsOwnExponent) {
  SyntheticSpec s;
  s.users = 10000;
  s.items = 10000;
  s.interactions = 200000;
  s.user_zipf = 1.2;
  s.item_zipf = 0.0;
  const Ratings r = generate_synthetic(s);
  EXPECT_GT(top_share(r.users, s.users, 100), 0.40);
  EXPECT_LT(top_share(r.items, s.items, 100), 0.03);
}

TEST(Synthetic, PopularIdsAreScatteredNotTheSmallest) {
  SyntheticSpec s;
  s.users = 10000;
  s.items = 10000;
  s.interactions = 200000;
  s.user_zipf = 1.0;
  s.item_zipf = 1.0;
  const Ratings r = generate_synthetic(s);
  // With a random rank -> id permutation, about 1 of the top 100 ids falls in
  // 1..100 by chance; the identity mapping would put all 100 there.
  for (const auto* column : {&r.users, &r.items}) {
    const auto top = most_frequent(*column, 10000, 100);
    const auto low = std::count_if(top.begin(), top.end(), [](int64_t id) { return id <= 100; });
    EXPECT_LT(low, 10);
  }
}

TEST(Synthetic, RatingsFollowTheLatentFactors) {
  SyntheticSpec s;
  s.users = 5000;
  s.items = 5000;
  s.interactions = 100000;
  const Ratings r = generate_synthetic(s);
  const SyntheticFactors f = synthetic_factors(s);
  std::vector<double> rating(r.size()), affinity(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    rating[i] = r.ratings[i];
    affinity[i] = f.dot(r.users[i], r.items[i]);
  }
  // Unit-spread affinity plus 0.5 noise, then rounding: ~0.85. Pure noise
  // ratings would give ~0.
  EXPECT_GT(correlation(rating, affinity), 0.7);

  // More noise, weaker link; still clearly there.
  s.noise = 2.0;
  const Ratings noisy = generate_synthetic(s);
  for (size_t i = 0; i < r.size(); ++i) rating[i] = noisy.ratings[i];
  const double weak = correlation(rating, affinity);
  EXPECT_GT(weak, 0.2);
  EXPECT_LT(weak, 0.7);
}

TEST(Synthetic, WithoutNoiseTheRatingIsTheRoundedAffinity) {
  SyntheticSpec s = small_spec();
  s.noise = 0.0;
  const Ratings r = generate_synthetic(s);
  const SyntheticFactors f = synthetic_factors(s);
  size_t agree = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    const float expected = std::clamp(std::round(3.0f + f.dot(r.users[i], r.items[i])), 1.0f, 5.0f);
    agree += r.ratings[i] == expected;
  }
  // Exact except possibly at a float tie on x.5.
  EXPECT_GE(agree, r.size() - r.size() / 1000);
}

TEST(Synthetic, FactorsHaveTheDocumentedScale) {
  SyntheticSpec s;
  s.users = 3000;
  s.items = 3000;
  for (const int64_t dim : {1, 8, 64}) {
    s.latent_dim = dim;
    const SyntheticFactors f = synthetic_factors(s);
    ASSERT_EQ(f.dim, dim);
    ASSERT_EQ(f.users.size(), static_cast<size_t>(3000 * dim));
    ASSERT_EQ(f.items.size(), static_cast<size_t>(3000 * dim));
    std::vector<double> d;
    for (int64_t u = 1; u <= 3000; u += 7)
      for (int64_t i = 1; i <= 3000; i += 11) d.push_back(f.dot(u, i));
    const double mean = std::accumulate(d.begin(), d.end(), 0.0) / d.size();
    double var = 0;
    for (const double x : d) var += (x - mean) * (x - mean);
    var /= d.size();
    EXPECT_NEAR(mean, 0.5, 0.1) << "dim " << dim;
    EXPECT_NEAR(var, 1.0, 0.2) << "dim " << dim;
  }
}

TEST(Synthetic, FactorDotRejectsUnknownIds) {
  const SyntheticFactors f = synthetic_factors(small_spec());
  EXPECT_CONTAINS(error_of([&] { f.dot(0, 1); }), "user 0");
  EXPECT_CONTAINS(error_of([&] { f.dot(2001, 1); }), "user 2001");
  EXPECT_CONTAINS(error_of([&] { f.dot(1, 3001); }), "item 3001");
}

TEST(Synthetic, ValidationNamesTheFieldAndValue) {
  auto message = [](auto edit) {
    SyntheticSpec s = small_spec();
    edit(s);
    return error_of([&] { generate_synthetic(s); });
  };
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.users = 0; }), "users = 0");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.users = 2147483647; }), "users = 2147483647");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.items = -5; }), "items = -5");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.items = int64_t{1} << 40; }), "items = 1099511627776");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.interactions = 0; }), "interactions = 0");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.interactions = 3000000000; }),
                  "interactions = 3000000000");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) {
                    s.max_interactions = 1000;
                    s.interactions = 1001;
                  }),
                  "interactions = 1001");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.max_interactions = int64_t{1} << 32; }),
                  "max_interactions = 4294967296");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.latent_dim = 0; }), "latent_dim = 0");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.latent_dim = 257; }), "latent_dim = 257");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.user_zipf = -0.5; }), "user_zipf = -0.5");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.item_zipf = 3.5; }), "item_zipf = 3.5");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.item_zipf = std::nan(""); }), "item_zipf = nan");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.noise = -1; }), "noise = -1");
  EXPECT_CONTAINS(message([](SyntheticSpec& s) { s.noise = std::numeric_limits<double>::infinity(); }),
                  "noise = inf");
  // The factors accessor validates too.
  SyntheticSpec bad = small_spec();
  bad.latent_dim = 1000;
  EXPECT_CONTAINS(error_of([&] { synthetic_factors(bad); }), "latent_dim = 1000");
}

TEST(Synthetic, LimitsThemselvesAreAccepted) {
  SyntheticSpec s;
  s.users = 3;
  s.items = 3;
  s.interactions = 5;
  s.max_interactions = 5;
  s.latent_dim = 256;
  s.user_zipf = 3.0;
  s.item_zipf = 0.0;
  EXPECT_EQ(generate_synthetic(s).size(), 5u);
  s.max_interactions = 4294967295;  // 2^32-1: validated only, nothing that big is generated here
  EXPECT_NO_THROW(validate(s));
}

}  // namespace
}  // namespace tandem
