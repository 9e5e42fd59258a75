#include "tandem/model/feature_tower.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "tandem/core/error.h"

namespace tandem {

namespace {

int64_t saturating_mul_add(int64_t a, int64_t b, int64_t c) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
    return std::numeric_limits<int64_t>::max();
  return r;
}

std::vector<int64_t> hidden_of(const std::vector<int64_t>& layers) {
  return std::vector<int64_t>(layers.begin(), layers.end() - 1);
}

}  // namespace

int64_t TowerFeature::max_bag() const {
  if (per_example) return 1;
  int64_t m = 0;
  for (size_t e = 0; e + 1 < offsets.size(); ++e) m = std::max(m, offsets[e + 1] - offsets[e]);
  return m;
}

int64_t tower_concat_dim(const TowerSpec& spec, int64_t id_dim) {
  int64_t w = id_dim;
  for (const auto& f : spec.features) w += f.dim;
  return w;
}

int64_t tower_output_dim(const TowerSpec& spec, int64_t id_dim) {
  return spec.layers.empty() ? tower_concat_dim(spec, id_dim) : spec.layers.back();
}

int64_t tower_parameter_count(const TowerSpec& spec, int64_t id_dim) {
  int64_t n = 0;
  for (const auto& f : spec.features) n = saturating_mul_add(f.rows, f.dim, n);
  int64_t width = tower_concat_dim(spec, id_dim);
  for (int64_t units : spec.layers) {
    n = saturating_mul_add(width, units, saturating_mul_add(units, 1, n));
    width = units;
  }
  return n;
}

void validate_tower(const TowerSpec& spec, int64_t entity_rows, const std::string& side) {
  int per_example = 0;
  for (const auto& f : spec.features) {
    const std::string what = side + " feature '" + f.name + "'";
    TANDEM_CHECK(f.rows > 0 && f.rows <= std::numeric_limits<int32_t>::max() && f.dim > 0 &&
                     f.dim <= 4096,
                 what << ": table of " << f.rows << " rows x " << f.dim << " is out of range");
    if (f.per_example) {
      ++per_example;
      TANDEM_CHECK(static_cast<int64_t>(f.boundaries.size()) + 1 == f.rows &&
                       std::is_sorted(f.boundaries.begin(), f.boundaries.end()),
                   what << ": " << f.boundaries.size() << " sorted bucket boundaries needed for "
                        << f.rows << " rows");
      continue;
    }
    TANDEM_CHECK(static_cast<int64_t>(f.offsets.size()) == entity_rows + 1 && f.offsets.front() == 0 &&
                     f.offsets.back() == static_cast<int64_t>(f.values.size()) &&
                     std::is_sorted(f.offsets.begin(), f.offsets.end()),
                 what << ": bag offsets do not index its values for " << entity_rows << " "
                      << side << " rows");
    for (int32_t v : f.values)
      TANDEM_CHECK(v >= 0 && v < f.rows, what << ": value row " << v << " outside its table of "
                                              << f.rows << " rows");
  }
  TANDEM_CHECK(per_example <= 1, side << " tower has " << per_example
                                      << " per-example features; at most one is supported");
  for (int64_t u : spec.layers)
    TANDEM_CHECK(u > 0 && u <= 65536, side << " tower layer sizes must be in 1..65536, got " << u);
}

FeatureTower::FeatureTower(std::string side, TowerSpec spec, EmbeddingTable* ids,
                           RowGradient* id_grad, int64_t max_batch)
    : side_(std::move(side)),
      spec_(std::move(spec)),
      ids_(ids),
      id_grad_(id_grad),
      max_batch_(max_batch),
      concat_dim_(tower_concat_dim(spec_, ids->dim)),
      out_dim_(tower_output_dim(spec_, ids->dim)) {
  TANDEM_CHECK(max_batch > 0, "tower capacity must be positive");
  validate_tower(spec_, ids->rows, side_);
  for (const auto& f : spec_.features) {
    const int64_t used = max_batch * std::max<int64_t>(f.max_bag(), 1);
    tables_.emplace_back(f.rows, f.dim);
    grads_.emplace_back(f.rows, f.dim, used);
    bag_rows_.emplace_back(static_cast<size_t>(used));
    bag_start_.emplace_back(static_cast<size_t>(max_batch + 1));
    bag_grads_.emplace_back(static_cast<size_t>(used * f.dim));
  }
  if (!spec_.layers.empty()) {
    mlp_ = std::make_unique<Mlp>(concat_dim_, hidden_of(spec_.layers), spec_.layers.back(), max_batch);
    mlp_->set_name(side_ + "_tower");
  }
  id_rows_.resize(static_cast<size_t>(max_batch));
  id_dgrad_.resize(static_cast<size_t>(max_batch * ids->dim));
}

void FeatureTower::init(Rng& rng) {
  for (auto& t : tables_) t.init_uniform(rng);
  if (mlp_) mlp_->init_glorot(rng);
}

int32_t FeatureTower::example_row(const TowerFeature& f, const int64_t* timestamps, int64_t i) const {
  if (timestamps == nullptr) return static_cast<int32_t>(f.rows - 1);  // most recent bucket
  return static_cast<int32_t>(
      std::upper_bound(f.boundaries.begin(), f.boundaries.end(), timestamps[i]) - f.boundaries.begin());
}

void FeatureTower::concat_row(const int32_t row, const int64_t* timestamps, int64_t i, float* x) const {
  const int64_t d = ids_->dim;
  std::memcpy(x, ids_->row(row), static_cast<size_t>(d) * sizeof(float));
  int64_t off = d;
  for (size_t k = 0; k < spec_.features.size(); ++k) {
    const TowerFeature& f = spec_.features[k];
    float* dst = x + off;
    off += f.dim;
    if (f.per_example) {
      std::memcpy(dst, tables_[k].row(example_row(f, timestamps, i)), static_cast<size_t>(f.dim) * sizeof(float));
      continue;
    }
    const int64_t b = f.offsets[static_cast<size_t>(row)], e = f.offsets[static_cast<size_t>(row) + 1];
    bag_mean(k, f.values.data() + b, e - b, dst);
  }
}

void FeatureTower::bag_mean(size_t k, const int32_t* rows, int64_t count, float* dst) const {
  const int64_t dim = spec_.features[k].dim;
  std::fill_n(dst, dim, 0.0f);
  if (count == 0) return;  // no value (an item without genres): zeros
  for (int64_t j = 0; j < count; ++j) {
    const float* src = tables_[k].row(rows[j]);
    for (int64_t c = 0; c < dim; ++c) dst[c] += src[c];
  }
  if (count > 1) {
    const float inv = 1.0f / static_cast<float>(count);
    for (int64_t c = 0; c < dim; ++c) dst[c] *= inv;
  }
}

void FeatureTower::compute_described(const DescribedEntity& e, float* out) const {
  TANDEM_CHECK(e.bags.size() == spec_.features.size(),
               side_ << " tower: " << e.bags.size() << " feature bags given, the tower has "
                     << spec_.features.size() << " features");
  TANDEM_CHECK(e.id_row >= -1 && e.id_row < ids_->rows,
               side_ << " tower: id row " << e.id_row << " outside the table of " << ids_->rows);
  std::vector<float> x(static_cast<size_t>(concat_dim_), 0.0f);
  const int64_t d = ids_->dim;
  if (e.id_row >= 0) std::copy_n(ids_->row(e.id_row), d, x.data());
  int64_t off = d;
  for (size_t k = 0; k < spec_.features.size(); ++k) {
    const TowerFeature& f = spec_.features[k];
    float* dst = x.data() + off;
    off += f.dim;
    if (f.per_example) {
      const int64_t* ts = e.timestamp ? &*e.timestamp : nullptr;
      std::copy_n(tables_[k].row(example_row(f, ts, 0)), f.dim, dst);
      continue;
    }
    const auto& bag = e.bags[k];
    for (int32_t r : bag)
      TANDEM_CHECK(r >= 0 && r < f.rows, side_ << " feature '" << f.name << "': row " << r
                                               << " outside its table of " << f.rows << " rows");
    bag_mean(k, bag.data(), static_cast<int64_t>(bag.size()), dst);
  }
  if (!mlp_) {
    std::copy(x.begin(), x.end(), out);
    return;
  }
  std::vector<float> scratch;
  mlp_->predict(x.data(), 1, out, scratch);
}

void FeatureTower::concat(const int32_t* rows, const int64_t* timestamps, int64_t n, float* x,
                          bool record) {
  for (int64_t i = 0; i < n; ++i) concat_row(rows[i], timestamps, i, x + i * concat_dim_);
  if (!record) return;
  std::copy_n(rows, n, id_rows_.begin());
  for (size_t k = 0; k < spec_.features.size(); ++k) {
    const TowerFeature& f = spec_.features[k];
    int64_t used = 0;
    auto& start = bag_start_[k];
    auto& out = bag_rows_[k];
    for (int64_t i = 0; i < n; ++i) {
      start[static_cast<size_t>(i)] = used;
      if (f.per_example) {
        out[static_cast<size_t>(used++)] = example_row(f, timestamps, i);
        continue;
      }
      const auto r = static_cast<size_t>(rows[i]);
      for (int64_t j = f.offsets[r]; j < f.offsets[r + 1]; ++j)
        out[static_cast<size_t>(used++)] = f.values[static_cast<size_t>(j)];
    }
    start[static_cast<size_t>(n)] = used;
  }
}

void FeatureTower::forward(const int32_t* rows, const int64_t* timestamps, int64_t n, float* out) {
  TANDEM_CHECK(n >= 0 && n <= max_batch_, side_ << " tower: batch of " << n
                                                << " examples, built for at most " << max_batch_);
  if (!mlp_) {
    concat(rows, timestamps, n, out, true);
    return;
  }
  concat(rows, timestamps, n, mlp_->input(), true);
  mlp_->fprop(n);
  std::memcpy(out, mlp_->output(), static_cast<size_t>(n * out_dim_) * sizeof(float));
}

void FeatureTower::backward(const float* dout, int64_t n) {
  const float* dx = dout;
  if (mlp_) {
    std::memcpy(mlp_->output_grad(), dout, static_cast<size_t>(n * out_dim_) * sizeof(float));
    mlp_->bprop(n);
    dx = mlp_->input_grad();
  }
  const int64_t d = ids_->dim;
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(id_dgrad_.data() + i * d, dx + i * concat_dim_, static_cast<size_t>(d) * sizeof(float));
  id_grad_->assign(id_rows_.data(), id_dgrad_.data(), n);
  int64_t off = d;
  for (size_t k = 0; k < spec_.features.size(); ++k) {
    const int64_t fd = spec_.features[k].dim;
    const auto& start = bag_start_[k];
    float* g = bag_grads_[k].data();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t b = start[static_cast<size_t>(i)], e = start[static_cast<size_t>(i) + 1];
      // The mean's gradient: each of the bag's rows gets dL/d(mean) / size.
      const float scale = e - b > 1 ? 1.0f / static_cast<float>(e - b) : 1.0f;
      const float* src = dx + i * concat_dim_ + off;
      for (int64_t j = b; j < e; ++j)
        for (int64_t c = 0; c < fd; ++c) g[j * fd + c] = scale * src[c];
    }
    grads_[k].assign(bag_rows_[k].data(), g, start[static_cast<size_t>(n)]);
    off += fd;
  }
}

void FeatureTower::compute(const int32_t* rows, const int64_t* timestamps, int64_t n,
                           float* out) const {
  if (n <= 0) return;
  if (!mlp_) {
    for (int64_t i = 0; i < n; ++i) concat_row(rows[i], timestamps, i, out + i * concat_dim_);
    return;
  }
  constexpr int64_t kChunk = 1024;
  std::vector<float> x(static_cast<size_t>(std::min(n, kChunk) * concat_dim_)), scratch;
  for (int64_t s = 0; s < n; s += kChunk) {
    const int64_t m = std::min(kChunk, n - s);
    for (int64_t i = 0; i < m; ++i)
      concat_row(rows[s + i], timestamps ? timestamps + s : nullptr, i, x.data() + i * concat_dim_);
    mlp_->predict(x.data(), m, out + s * out_dim_, scratch);
  }
}

std::vector<ParameterRef> FeatureTower::dense_parameters() {
  return mlp_ ? mlp_->parameters() : std::vector<ParameterRef>{};
}

std::vector<ParameterView> FeatureTower::dense_parameter_values() const {
  return mlp_ ? mlp_->parameter_values() : std::vector<ParameterView>{};
}

std::vector<SparseParameterRef> FeatureTower::sparse_parameters() {
  std::vector<SparseParameterRef> out;
  for (size_t k = 0; k < tables_.size(); ++k)
    out.push_back({side_ + "_feature." + spec_.features[k].name, &tables_[k], &grads_[k]});
  return out;
}

std::vector<TableView> FeatureTower::sparse_parameter_values() const {
  std::vector<TableView> out;
  for (size_t k = 0; k < tables_.size(); ++k)
    out.push_back({side_ + "_feature." + spec_.features[k].name, &tables_[k]});
  return out;
}

Footprint FeatureTower::footprint(const TowerSpec& spec, int64_t id_dim, int64_t max_batch) {
  Footprint f;
  for (const auto& feature : spec.features) {
    const int64_t used = footprint_mul(max_batch, std::max<int64_t>(feature.max_bag(), 1));
    f += EmbeddingTable::footprint(feature.rows, feature.dim);
    f += RowGradient::footprint(feature.rows, feature.dim, used);
    f.workspace = footprint_add(f.workspace, bytes_of<int32_t>(used));                  // bag rows
    f.workspace = footprint_add(f.workspace, bytes_of<int64_t>(footprint_add(max_batch, 1)));  // bag starts
    f.workspace = footprint_add(f.workspace, bytes_of<float>(footprint_mul(used, feature.dim)));  // bag gradients
  }
  if (!spec.layers.empty())
    f += Mlp::footprint(tower_concat_dim(spec, id_dim), hidden_of(spec.layers), spec.layers.back(), max_batch);
  f.workspace = footprint_add(f.workspace, bytes_of<int32_t>(max_batch));                      // id rows
  f.workspace = footprint_add(f.workspace, bytes_of<float>(footprint_mul(max_batch, id_dim)));  // id gradients
  return f;
}

Footprint FeatureTower::allocated() const {
  Footprint f{0, 0, bytes_held(id_rows_) + bytes_held(id_dgrad_)};
  for (const auto& t : tables_) f += t.allocated();
  for (const auto& g : grads_) f += g.allocated();
  for (const auto& v : bag_rows_) f.workspace += bytes_held(v);
  for (const auto& v : bag_start_) f.workspace += bytes_held(v);
  for (const auto& v : bag_grads_) f.workspace += bytes_held(v);
  if (mlp_) f += mlp_->allocated();
  return f;
}

}  // namespace tandem
