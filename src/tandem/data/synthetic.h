// Seeded synthetic interaction logs for scaling benchmarks: MovieLens-shaped
// data (u.data columns, 1-based ids, 1..5 stars) at any size, without a
// download and without the licence that keeps the real data out of the repo.
//
// The log imitates the two properties that make real logs hard to serve:
//  - skew: the user and the item of every interaction are drawn from
//    power-law (Zipf-like) distributions over popularity ranks, P(rank k) ~
//    1/(k+1)^zipf, so a few items get most of the traffic; each rank is
//    mapped to an id by a seeded random permutation, so the popular ids are
//    scattered rather than 1, 2, 3...;
//  - structure: every user and item has a hidden latent vector and the
//    rating is round(3 + a * dot(p_u, q_i) + noise * g) clamped to 1..5,
//    with g a standard (bell-shaped, bounded) random variable, so a model has
//    something real to learn.
// Duplicate (user, item) pairs are allowed and do occur (popular users meet
// popular items many times), as in logs of repeated plays or purchases; no
// deduplication is done, so `interactions` is exactly the number of rows.
// Timestamps are 880000000 + row index: strictly increasing, MovieLens-era.
//
// Determinism: the same spec gives bit-identical output on the same build.
// Only tandem::Rng is used (never std:: distributions, whose algorithms vary
// between standard libraries) and the per-row arithmetic avoids libm; only the
// one-off popularity weights use std::pow.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/data/ratings.h"

namespace tandem {

struct SyntheticSpec {
  int64_t users = 100000;
  int64_t items = 100000;
  int64_t interactions = 1000000;
  int64_t latent_dim = 8;
  double user_zipf = 0.8;  // 0 = uniform; larger = more skewed
  double item_zipf = 1.0;
  double noise = 0.5;  // standard deviation of the rating noise, in stars
  uint64_t seed = 1;
  // Sanity limit on `interactions` (besides the hard 2^32-1 of uint32 row
  // indices): 2e9 rows already take 56 GB, so more is almost surely a typo.
  int64_t max_interactions = 2000000000;
};

// Throws tandem::Error naming the field and its value unless: users and items
// are in [1, 2^31-2] (so max id + 1 embedding rows fit an int32), interactions
// is in [1, min(2^32-1, max_interactions)], latent_dim in [1, 256], both
// exponents in [0, 3], and noise is finite and >= 0.
void validate(const SyntheticSpec& spec);

// The interaction log: `interactions` rows, users in 1..users, items in
// 1..items, integral ratings in 1..5, timestamps 880000000 + row.
Ratings generate_synthetic(const SyntheticSpec& spec);

// The hidden latent vectors generate_synthetic used for `spec`, exposed so that
// tests and analyses can check the ratings against the truth. Row id-1 of
// each table holds that id's `dim` floats.
struct SyntheticFactors {
  int64_t dim = 0;
  std::vector<float> users;
  std::vector<float> items;

  // dot(p_user, q_item) for 1-based ids. Scaled so that over random pairs it
  // has mean ~0.5 and standard deviation ~1 whatever the dimension.
  float dot(int64_t user, int64_t item) const;
};

SyntheticFactors synthetic_factors(const SyntheticSpec& spec);

}  // namespace tandem
