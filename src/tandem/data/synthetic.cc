#include "tandem/data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <new>

#include "tandem/core/error.h"
#include "tandem/core/random.h"

namespace tandem {

namespace {

// Independent random streams, one per purpose, so that changing one knob
// changes only what depends on it: a different noise level keeps the same
// users, items and factors; a different item exponent keeps the same users.
enum Stream : uint64_t {
  kUserOrder = 1,  // rank -> id permutation of users
  kItemOrder = 2,
  kUserFactors = 3,
  kItemFactors = 4,
  kUserDraws = 5,  // the user of each row
  kItemDraws = 6,
  kNoise = 7,
};

constexpr int64_t kMaxEntities = (int64_t{1} << 31) - 2;
constexpr int64_t kMaxRows = (int64_t{1} << 32) - 1;
constexpr int64_t kMaxLatentDim = 256;
constexpr double kMaxZipf = 3.0;
constexpr int64_t kFirstTimestamp = 880000000;
// The latent vectors are scaled so that dot(p_u, q_i) has unit spread (see
// SyntheticFactors::dot), so a = 1 spreads the ratings over about one star
// either side of the centre; with the default noise of 0.5 stars that gives a
// MovieLens-like histogram: few 1s, most mass on 3 and 4.
constexpr float kAffinityScale = 1.0f;
constexpr float kCentre = 3.0f;
// Mean of dot(p_u, q_i) over random pairs. Real users rate what they chose to
// watch, so logs lean positive (MovieLens averages 3.53 stars); a shared
// positive component in every latent vector reproduces that lean.
constexpr double kMeanAffinity = 0.5;

// A zero-mean, unit-variance, bell-shaped variable from one 64-bit draw: the
// sum of four 16-bit uniforms (Irwin-Hall, bounded at +-3.46). Integer
// arithmetic plus one multiply, so it is cheap per row and, unlike
// Box-Muller's log/cos, bit-identical under any libm.
inline float bell(uint64_t x) {
  const uint32_t s = static_cast<uint32_t>(x & 0xFFFF) + static_cast<uint32_t>((x >> 16) & 0xFFFF) +
                     static_cast<uint32_t>((x >> 32) & 0xFFFF) + static_cast<uint32_t>(x >> 48);
  // Each 16-bit uniform is (b + 0.5) / 65536 with mean 1/2 and variance ~1/12;
  // the sum minus 2, times sqrt(3), has mean 0 and variance 1.
  constexpr float kScale = 1.7320508075688772f / 65536.0f;
  return (static_cast<float>(s) - 131070.0f) * kScale;
}

inline float dot_rows(const float* p, const float* q, int64_t dim) {
  float sum = 0.0f;
  for (int64_t k = 0; k < dim; ++k) sum += p[k] * q[k];
  return sum;
}

// Draws 1-based ids with P(rank k) proportional to 1/(k+1)^exponent, in O(1)
// per draw after an O(n) setup (Walker's alias method, Vose's construction):
// a uniform slot, then a biased coin between the slot's own id and its alias.
// Both ids are stored in the slot, already mapped through the seeded rank ->
// id permutation, so a draw touches one 16-byte slot: the tables of large
// catalogues do not fit in cache, and one miss per draw is what sets the speed.
class PowerLawSampler {
 public:
  PowerLawSampler(int64_t n, double exponent, uint64_t order_seed) : n_(static_cast<uint64_t>(n)) {
    const size_t count = static_cast<size_t>(n);
    std::vector<uint32_t> order(count);
    for (size_t k = 0; k < count; ++k) order[k] = static_cast<uint32_t>(k + 1);
    Rng order_rng(order_seed);
    shuffle(order, order_rng);

    // Probabilities scaled so that the average slot holds exactly 1.
    std::vector<double> scaled(count);
    double total = 0.0;
    for (size_t k = 0; k < count; ++k) {
      scaled[k] = exponent == 0.0 ? 1.0 : std::pow(static_cast<double>(k + 1), -exponent);
      total += scaled[k];
    }
    const double to_mean_one = static_cast<double>(n) / total;
    for (double& p : scaled) p *= to_mean_one;

    slots_.resize(count);
    std::vector<uint32_t> small, large;
    small.reserve(count);
    large.reserve(count);
    for (size_t k = 0; k < count; ++k)
      (scaled[k] < 1.0 ? small : large).push_back(static_cast<uint32_t>(k));
    // Each step fills an under-full slot with mass taken from an over-full one.
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back();
      small.pop_back();
      const uint32_t l = large.back();
      large.pop_back();
      slots_[s].threshold = static_cast<uint64_t>(scaled[s] * kCoinScale);
      slots_[s].id = order[s];
      slots_[s].alias_id = order[l];
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      (scaled[l] < 1.0 ? small : large).push_back(l);
    }
    // What is left holds 1 up to rounding: a slot that always keeps its own id.
    for (const auto* rest : {&small, &large}) {
      for (const uint32_t k : *rest) {
        slots_[k].threshold = kCoinFull;
        slots_[k].id = order[k];
        slots_[k].alias_id = order[k];
      }
    }
  }

  uint32_t operator()(Rng& rng) const {
    // Uniform slot by Lemire's multiply-shift: no division, and exactly
    // unbiased thanks to the rejection step, which is almost never taken.
    __extension__ typedef unsigned __int128 u128;
    u128 m = static_cast<u128>(rng.next_u64()) * n_;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n_) {
      const uint64_t reject_below = (0 - n_) % n_;
      while (low < reject_below) {
        m = static_cast<u128>(rng.next_u64()) * n_;
        low = static_cast<uint64_t>(m);
      }
    }
    const Slot& slot = slots_[static_cast<size_t>(m >> 64)];
    const uint64_t coin = rng.next_u64() >> 11;  // uniform in [0, 2^53)
    return coin < slot.threshold ? slot.id : slot.alias_id;
  }

 private:
  static constexpr double kCoinScale = 9007199254740992.0;  // 2^53
  static constexpr uint64_t kCoinFull = uint64_t{1} << 53;  // above every coin

  struct Slot {
    uint64_t threshold;  // keep `id` when the 53-bit coin is below this
    uint32_t id;
    uint32_t alias_id;
  };
  uint64_t n_;
  std::vector<Slot> slots_;
};

// n vectors of `dim` floats, each entry mu + sigma * bell, with mu and sigma
// chosen so that the dot product of two independent vectors has mean
// kMeanAffinity and variance 1 for every dim:
//   mean = dim * mu^2, variance = dim * (sigma^4 + 2 mu^2 sigma^2).
std::vector<float> latent_vectors(int64_t n, int64_t dim, uint64_t seed) {
  const double d = static_cast<double>(dim);
  const double mu = std::sqrt(kMeanAffinity / d);
  // Solving dim * sigma^4 + 2 m sigma^2 = 1 (m = kMeanAffinity) for sigma^2.
  const double sigma2 = (std::sqrt(kMeanAffinity * kMeanAffinity + d) - kMeanAffinity) / d;
  const float fmu = static_cast<float>(mu);
  const float fsigma = static_cast<float>(std::sqrt(sigma2));
  std::vector<float> out(static_cast<size_t>(n) * static_cast<size_t>(dim));
  Rng rng(seed);
  for (float& v : out) v = fmu + fsigma * bell(rng.next_u64());
  return out;
}

}  // namespace

void validate(const SyntheticSpec& spec) {
  auto check_count = [](int64_t value, int64_t max, const char* field) {
    TANDEM_CHECK(value >= 1 && value <= max, "synthetic spec: " << field << " = " << value
                                                                << " is out of range [1, " << max
                                                                << "]");
  };
  check_count(spec.users, kMaxEntities, "users");
  check_count(spec.items, kMaxEntities, "items");
  TANDEM_CHECK(spec.max_interactions >= 1 && spec.max_interactions <= kMaxRows,
               "synthetic spec: max_interactions = " << spec.max_interactions
                                                     << " is out of range [1, " << kMaxRows << "]");
  TANDEM_CHECK(spec.interactions >= 1 && spec.interactions <= spec.max_interactions,
               "synthetic spec: interactions = "
                   << spec.interactions << " is out of range [1, " << spec.max_interactions
                   << "] (the upper bound is max_interactions, a sanity limit)");
  check_count(spec.latent_dim, kMaxLatentDim, "latent_dim");
  auto check_zipf = [](double value, const char* field) {
    // Written so that NaN fails too.
    TANDEM_CHECK(value >= 0.0 && value <= kMaxZipf, "synthetic spec: " << field << " = " << value
                                                                       << " is out of range [0, "
                                                                       << kMaxZipf << "]");
  };
  check_zipf(spec.user_zipf, "user_zipf");
  check_zipf(spec.item_zipf, "item_zipf");
  TANDEM_CHECK(std::isfinite(spec.noise) && spec.noise >= 0.0,
               "synthetic spec: noise = " << spec.noise << " must be finite and >= 0");
}

float SyntheticFactors::dot(int64_t user, int64_t item) const {
  const int64_t n_users = dim > 0 ? static_cast<int64_t>(users.size()) / dim : 0;
  const int64_t n_items = dim > 0 ? static_cast<int64_t>(items.size()) / dim : 0;
  TANDEM_CHECK(user >= 1 && user <= n_users,
               "synthetic factors: user " << user << " out of range [1, " << n_users << "]");
  TANDEM_CHECK(item >= 1 && item <= n_items,
               "synthetic factors: item " << item << " out of range [1, " << n_items << "]");
  return dot_rows(users.data() + (user - 1) * dim, items.data() + (item - 1) * dim, dim);
}

SyntheticFactors synthetic_factors(const SyntheticSpec& spec) {
  validate(spec);
  SyntheticFactors f;
  f.dim = spec.latent_dim;
  f.users = latent_vectors(spec.users, spec.latent_dim, derive_seed(spec.seed, kUserFactors));
  f.items = latent_vectors(spec.items, spec.latent_dim, derive_seed(spec.seed, kItemFactors));
  return f;
}

Ratings generate_synthetic(const SyntheticSpec& spec) {
  validate(spec);
  const size_t rows = static_cast<size_t>(spec.interactions);
  try {
    Ratings out;
    out.reserve(rows);

    // Column by column: each loop keeps only its own table in cache, and the
    // independent streams make the order irrelevant to the result.
    {
      const PowerLawSampler sampler(spec.users, spec.user_zipf, derive_seed(spec.seed, kUserOrder));
      Rng rng(derive_seed(spec.seed, kUserDraws));
      for (size_t i = 0; i < rows; ++i) out.users.push_back(sampler(rng));
    }
    {
      const PowerLawSampler sampler(spec.items, spec.item_zipf, derive_seed(spec.seed, kItemOrder));
      Rng rng(derive_seed(spec.seed, kItemDraws));
      for (size_t i = 0; i < rows; ++i) out.items.push_back(sampler(rng));
    }
    for (size_t i = 0; i < rows; ++i)
      out.timestamps.push_back(kFirstTimestamp + static_cast<int64_t>(i));

    const SyntheticFactors f = synthetic_factors(spec);
    const int64_t dim = f.dim;
    const float noise = static_cast<float>(spec.noise);
    Rng rng(derive_seed(spec.seed, kNoise));
    for (size_t i = 0; i < rows; ++i) {
      const float affinity = dot_rows(f.users.data() + (out.users[i] - 1) * dim,
                                      f.items.data() + (out.items[i] - 1) * dim, dim);
      const float x = kCentre + kAffinityScale * affinity + noise * bell(rng.next_u64());
      // Round half up with floor: as cheap as std::round and the same for
      // every value that can occur here.
      out.ratings.push_back(std::clamp(std::floor(x + 0.5f), 1.0f, 5.0f));
    }
    return out;
  } catch (const std::bad_alloc&) {
    // Per row: four columns (28 bytes). Per user/item: latent vector, alias
    // slot and the setup's scratch tables.
    const double bytes = 28.0 * static_cast<double>(spec.interactions) +
                         static_cast<double>(spec.users + spec.items) *
                             (4.0 * static_cast<double>(spec.latent_dim) + 44.0);
    TANDEM_THROW("synthetic spec: not enough memory for users = "
                 << spec.users << ", items = " << spec.items << ", interactions = "
                 << spec.interactions << ", latent_dim = " << spec.latent_dim << " (needs about "
                 << bytes / (1 << 30) << " GiB)");
  }
}

}  // namespace tandem
