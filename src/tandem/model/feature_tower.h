// One side's tower of the two-tower model with side features: the id
// embedding concatenated with one embedding per side feature, optionally
// followed by a tower MLP (ReLU between layers, last layer linear).
//
// A feature's value for a row of the id table is a bag of rows of the
// feature's own table, averaged: one row for a categorical feature (age
// bucket, gender, occupation, zip prefix, year), several for a multi-hot one
// (genres), none (a zero vector) when the entity has no value. A per-example
// feature (the interaction's timestamp) is not a property of the entity: its
// row is the bucket of the example's timestamp among sorted boundaries, and
// without a timestamp (serving) the most recent bucket.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tandem/core/random.h"
#include "tandem/model/embedding_table.h"
#include "tandem/model/mlp.h"
#include "tandem/model/parameter.h"

namespace tandem {

struct TowerFeature {
  std::string name;  // "age", "genres", "timestamp", ...
  int64_t rows = 0;  // rows of its embedding table
  int64_t dim = 0;   // width of its embedding
  // Entity features: the bag of entity row e is values[offsets[e] .. offsets[e + 1]).
  std::vector<int64_t> offsets;
  std::vector<int32_t> values;
  // Per-example features: bucket boundaries (rows == boundaries.size() + 1).
  bool per_example = false;
  std::vector<int64_t> boundaries;
  // The lookup vocabulary's values (row i + 1), for inspection; empty when
  // hashed or bucketised.
  std::vector<std::string> vocabulary;

  int64_t max_bag() const;  // largest bag (1 for a per-example feature)
};

// An entity given by its inputs rather than by a row of the id table (serving
// a user the model has no row for, described by its features): an id-table
// row, or -1 for none (a zero id vector); per feature of the spec, in order,
// its bag of feature-table rows (ignored for a per-example feature, whose row
// is `timestamp`'s bucket, or without one the most recent).
struct DescribedEntity {
  int32_t id_row = -1;
  std::vector<std::vector<int32_t>> bags;
  std::optional<int64_t> timestamp;
};

struct TowerSpec {
  std::vector<TowerFeature> features;
  std::vector<int64_t> layers;  // tower MLP widths; empty: no MLP
};

// Width of the concatenation (id embedding + features) and of the output.
int64_t tower_concat_dim(const TowerSpec& spec, int64_t id_dim);
int64_t tower_output_dim(const TowerSpec& spec, int64_t id_dim);
// Trainable values of the tower besides the id table (feature tables, MLP);
// saturates at INT64_MAX.
int64_t tower_parameter_count(const TowerSpec& spec, int64_t id_dim);
// Checks the spec against an id table of `entity_rows` rows: bag offsets
// cover every row, every value is a row of its table, sizes positive, at most
// one per-example feature. Errors name `side` and the feature.
void validate_tower(const TowerSpec& spec, int64_t entity_rows, const std::string& side);

class FeatureTower {
 public:
  // `ids` and `id_grad` are the model's id table and its gradient, which the
  // tower reads and fills; both must outlive it. Parameter names start with
  // `side` ("user" or "item").
  FeatureTower(std::string side, TowerSpec spec, EmbeddingTable* ids, RowGradient* id_grad,
               int64_t max_batch);
  FeatureTower(const FeatureTower&) = delete;
  FeatureTower& operator=(const FeatureTower&) = delete;

  // Feature tables uniform(-0.05, 0.05) as the id tables, MLP Glorot.
  void init(Rng& rng);

  int64_t output_dim() const { return out_dim_; }
  int64_t concat_dim() const { return concat_dim_; }
  const TowerSpec& spec() const { return spec_; }

  // Training: out[n, output_dim] for id-table rows `rows` (and, when the
  // tower has a per-example feature, `timestamps`, may be null: most recent
  // bucket); remembers what backward needs. n <= max_batch; no allocation.
  void forward(const int32_t* rows, const int64_t* timestamps, int64_t n, float* out);
  // dL/d(out)[n, output_dim] of the last forward -> the id table's and every
  // feature table's RowGradient and the MLP's parameter gradients.
  void backward(const float* dout, int64_t n);

  // Inference on any n: reads only weights (thread-safe), allocates.
  void compute(const int32_t* rows, const int64_t* timestamps, int64_t n, float* out) const;
  // The same for one described entity: out [output_dim]. Throws naming the
  // feature when a bag's row is outside its table or the bag count is wrong.
  void compute_described(const DescribedEntity& e, float* out) const;

  std::vector<ParameterRef> dense_parameters();
  std::vector<ParameterView> dense_parameter_values() const;
  std::vector<SparseParameterRef> sparse_parameters();
  std::vector<TableView> sparse_parameter_values() const;
  // For tests.
  EmbeddingTable& table(size_t f) { return tables_[f]; }
  const RowGradient& grad(size_t f) const { return grads_[f]; }
  Mlp* mlp() { return mlp_.get(); }

  // What a tower of this spec allocates beside the id table it is given
  // (footprint.h): per feature its table, RowGradient and bag workspace; the
  // tower MLP; the id rows and id gradients of a batch. The spec's own bag
  // lists are input data, not counted.
  static Footprint footprint(const TowerSpec& spec, int64_t id_dim, int64_t max_batch);
  Footprint allocated() const;

 private:
  // Writes the concatenation of n rows into x [n, concat_dim]; with
  // `record`, also notes the table rows each bag used (for backward).
  void concat(const int32_t* rows, const int64_t* timestamps, int64_t n, float* x,
              bool record);
  void concat_row(const int32_t row, const int64_t* timestamps, int64_t i, float* x) const;
  int32_t example_row(const TowerFeature& f, const int64_t* timestamps, int64_t i) const;
  // dst[f.dim] = the mean of feature k's table rows rows[0..count) (zeros
  // for an empty bag).
  void bag_mean(size_t k, const int32_t* rows, int64_t count, float* dst) const;

  std::string side_;
  TowerSpec spec_;
  EmbeddingTable* ids_;
  RowGradient* id_grad_;
  int64_t max_batch_, concat_dim_, out_dim_;
  std::vector<EmbeddingTable> tables_;
  std::vector<RowGradient> grads_;
  std::unique_ptr<Mlp> mlp_;
  // Workspace for forward/backward, sized for max_batch.
  std::vector<int32_t> id_rows_;
  std::vector<std::vector<int32_t>> bag_rows_;    // per feature: rows used, in order
  std::vector<std::vector<int64_t>> bag_start_;   // per feature: [max_batch + 1]
  std::vector<std::vector<float>> bag_grads_;             // per feature: [rows used, dim]
  std::vector<float> id_dgrad_;                           // [max_batch, id dim]
};

}  // namespace tandem
