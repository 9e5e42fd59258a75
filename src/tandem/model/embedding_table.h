// An embedding table and the sparse gradient of one batch with respect to it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/core/thread_pool.h"

#include "tandem/core/random.h"
#include "tandem/model/footprint.h"
#include "tandem/model/table_shard.h"

namespace tandem {

struct EmbeddingTable {
  int64_t rows = 0;
  int64_t dim = 0;
  std::vector<float> weights;  // [rows, dim], row-major

  EmbeddingTable() = default;
  EmbeddingTable(int64_t rows, int64_t dim);

  // Keras' default Embedding initialiser: uniform(-0.05, 0.05).
  void init_uniform(Rng& rng, float lo = -0.05f, float hi = 0.05f);
  // The same for one shard of a table of `global_rows` rows: the whole
  // table's draws, keeping this shard's rows (init_uniform when unsharded).
  void init_uniform_shard(Rng& rng, const TableShard& shard, int64_t global_rows, float lo = -0.05f,
                          float hi = 0.05f);
  float* row(int64_t r) { return weights.data() + r * dim; }
  const float* row(int64_t r) const { return weights.data() + r * dim; }

  // out[i, :] = weights[ids[i], :] for i < n. Every id must be a valid row
  // (callers map ids through a Vocabulary first; checked in debug builds).
  void gather(const int32_t* ids, int64_t n, float* out) const;

  // What a table of this shape allocates: its weights (footprint.h).
  static Footprint footprint(int64_t rows, int64_t dim);
  Footprint allocated() const;
};

// Sum of per-example gradients per distinct row touched by a batch, rows in
// order of first appearance (so updates are deterministic). Duplicate ids in
// a batch are summed before any optimizer sees them, which is what makes a
// sparse optimizer step equal the dense one.
class RowGradient {
 public:
  RowGradient() = default;
  RowGradient(int64_t table_rows, int64_t dim, int64_t max_batch);

  // Replaces the contents with the rows of `ids` and per-example gradients
  // `grads` [n, dim] scaled by `scale`. With a pool, the dedup (one lookup
  // per example) stays serial and the sums are split between the workers by
  // distinct row: each row's sum still adds its examples in batch order, so
  // the result is the serial one bit for bit.
  void assign(const int32_t* ids, const float* grads, int64_t n, float scale = 1.0f,
              ThreadPool* pool = nullptr);

  int64_t dim() const { return dim_; }
  int64_t count() const { return static_cast<int64_t>(rows_.size()); }
  const std::vector<int32_t>& rows() const { return rows_; }
  const float* grad(int64_t slot) const { return grads_.data() + slot * dim_; }

  // What one for this table and batch allocates: the per-row gradients
  // [max_batch, dim] (gradients), the row list and the table-sized slot
  // index (workspace).
  static Footprint footprint(int64_t table_rows, int64_t dim, int64_t max_batch);
  Footprint allocated() const;

 private:
  int64_t dim_ = 0;
  std::vector<int32_t> rows_;
  std::vector<float> grads_;          // [max_batch, dim]
  std::vector<int32_t> slot_of_row_;  // table-sized, -1 when not in the batch
  std::vector<int32_t> example_slot_;  // [max_batch]: each example's row slot
  std::vector<int32_t> first_example_;  // [max_batch]: each slot's first example
};

// One embedding table of a model and its last batch's sparse gradient, so that
// an optimizer, a checkpoint or a model file can walk every table of a model
// (ids, side features, ...) without knowing which ones it has.
struct SparseParameterRef {
  std::string name;
  EmbeddingTable* table;
  const RowGradient* grad;
};

// A read-only view of one table (for saving).
struct TableView {
  std::string name;
  const EmbeddingTable* table;
};

}  // namespace tandem
