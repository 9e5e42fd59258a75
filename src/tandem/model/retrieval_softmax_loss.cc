#include "tandem/model/retrieval_softmax_loss.h"

#include <algorithm>
#include <cmath>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/core/vector_math.h"
#include "tandem/model/worker_results.h"

namespace tandem {

RetrievalSoftmaxLoss::RetrievalSoftmaxLoss(int64_t max_queries, int64_t max_columns,
                                           int64_t max_examples, int64_t block_rows, int workers)
    : max_queries_(max_queries),
      max_columns_(max_columns),
      max_examples_(max_examples),
      block_rows_(std::max<int64_t>(1, std::min(block_rows, max_queries))),
      workers_(workers),
      by_query_(static_cast<size_t>(max_examples)),
      query_offsets_(static_cast<size_t>(max_queries + 1)),
      next_copy_(static_cast<size_t>(max_columns)),
      scratch_(static_cast<size_t>(workers)),
      worker_losses_(static_cast<size_t>(workers), 0.0) {
  TANDEM_CHECK(max_queries > 0 && max_columns > 0 && max_examples > 0 && workers >= 1,
               "retrieval loss capacities must be positive (queries " << max_queries << ", columns "
                                                                       << max_columns << ", examples "
                                                                       << max_examples << ")");
  for (auto& s : scratch_) {
    s.scores.resize(static_cast<size_t>(block_rows_ * max_columns));
    s.exps.resize(static_cast<size_t>(max_columns));
    s.dlogit.resize(static_cast<size_t>(max_columns));
    s.order.resize(static_cast<size_t>(max_columns));
    s.kept.resize(static_cast<size_t>(max_columns));
  }
}

int64_t RetrievalSoftmaxLoss::scratch_bytes() const {
  int64_t b = static_cast<int64_t>((by_query_.size() + query_offsets_.size() + next_copy_.size() +
                                    first_column_of_item_.size()) *
                                   sizeof(int32_t));
  for (const auto& s : scratch_) {
    b += static_cast<int64_t>((s.scores.size() + s.exps.size() + s.dlogit.size() + s.dc.size() +
                               s.kept.size()) *
                                  sizeof(float) +
                              s.order.size() * sizeof(int32_t));
  }
  return b;
}

Footprint RetrievalSoftmaxLoss::footprint(int64_t max_queries, int64_t max_columns,
                                          int64_t max_examples, int64_t block_rows, int workers,
                                          int64_t query_rows, int64_t item_rows, int64_t max_dim,
                                          blas::GemmPrecision precision) {
  const int64_t block = std::max<int64_t>(1, std::min(block_rows, max_queries));
  Footprint f;
  // by_query_, query_offsets_, next_copy_; per worker the score block, exps,
  // dlogit, kept (floats) and order (ints); the per-worker losses.
  int64_t ints = footprint_add(footprint_add(max_examples, max_queries + 1), max_columns);
  const int64_t per_worker_floats = footprint_add(footprint_mul(block, max_columns), footprint_mul(max_columns, 3));
  f.workspace = footprint_add(bytes_of<float>(footprint_mul(per_worker_floats, workers)),
                              bytes_of<int32_t>(footprint_mul(max_columns, workers)));
  f.workspace = footprint_add(f.workspace, bytes_of<double>(workers));
  // prepare_batches: the dedups, example ids, compacted rows and their
  // gradients, per column its log-weight, correction and item.
  f += RowDedup::footprint(query_rows, max_examples) + RowDedup::footprint(item_rows, max_examples) +
       RowDedup::footprint(max_examples, max_examples);
  ints = footprint_add(footprint_add(ints, max_examples), max_columns);
  const int64_t floats = footprint_add(footprint_mul(footprint_add(max_queries, max_columns), footprint_mul(max_dim, 2)),
                                       footprint_mul(max_columns, 2));
  f.workspace = footprint_add(f.workspace, footprint_add(bytes_of<int32_t>(ints), bytes_of<float>(floats)));
  if (precision == blas::GemmPrecision::kBfloat16) {
    // The bfloat16 queries, columns and, per worker, score block.
    const int64_t halves = footprint_add(
        footprint_mul(footprint_add(std::max(max_queries, max_examples), max_columns), max_dim),
        footprint_mul(footprint_mul(block, max_columns), workers));
    f.workspace = footprint_add(f.workspace, bytes_of<blas::bfloat16>(halves));
  }
  return f;
}

Footprint RetrievalSoftmaxLoss::allocated() const {
  Footprint f = query_dedup_.allocated() + item_dedup_.allocated() + example_dedup_.allocated();
  f.workspace += bytes_held(by_query_) + bytes_held(query_offsets_) + bytes_held(next_copy_) +
                 bytes_held(worker_losses_) + bytes_held(example_ids_) + bytes_held(queries_) +
                 bytes_held(columns_) + bytes_held(column_log_weight_) + bytes_held(column_correction_) +
                 bytes_held(dq_distinct_) + bytes_held(dc_columns_) + bytes_held(column_item_) +
                 bytes_held(queries_bf16_) + bytes_held(columns_bf16_);
  for (const auto& s : scratch_)
    f.workspace += bytes_held(s.scores) + bytes_held(s.exps) + bytes_held(s.dlogit) +
                   bytes_held(s.order) + bytes_held(s.kept) + bytes_held(s.scores_bf16);
  return f;
}

int64_t RetrievalSoftmaxLoss::growth_bytes(int64_t max_columns, int64_t max_dim, int workers,
                                           int64_t item_rows) {
  return footprint_add(bytes_of<float>(footprint_mul(footprint_mul(max_columns, max_dim), std::max(0, workers - 1))),
                       bytes_of<int32_t>(item_rows));
}

void RetrievalSoftmaxLoss::set_precision(blas::GemmPrecision precision) {
  const bool bf16 = precision == blas::GemmPrecision::kBfloat16;
  TANDEM_CHECK(!bf16 || blas::bf16_available(),
               "retrieval softmax precision bfloat16 needs an OpenBLAS with cblas_sbgemm (built with "
               "BUILD_BFLOAT16=1); the loaded one ("
                   << blas::core_name() << " kernels) lacks it: use float32");
  precision_ = precision;
  const int64_t rows = bf16 ? std::max(max_queries_, max_examples_) : 0;
  queries_bf16_.assign(static_cast<size_t>(rows * max_dim_), 0);
  columns_bf16_.assign(static_cast<size_t>(bf16 ? max_columns_ * max_dim_ : 0), 0);
  for (auto& s : scratch_) s.scores_bf16.assign(static_cast<size_t>(bf16 ? block_rows_ * max_columns_ : 0), 0);
}

RetrievalSoftmaxLoss::GemmOperands RetrievalSoftmaxLoss::gemm_operands(const float* q, int64_t nq,
                                                                       const float* c, int64_t nc,
                                                                       int64_t d) {
  GemmOperands o{q, c, nullptr, nullptr, nc, d};
  if (precision_ == blas::GemmPrecision::kFloat32) return o;
  if (queries_bf16_.size() < static_cast<size_t>(nq * d)) queries_bf16_.resize(static_cast<size_t>(nq * d));
  if (columns_bf16_.size() < static_cast<size_t>(nc * d)) columns_bf16_.resize(static_cast<size_t>(nc * d));
  blas::to_bfloat16(q, nq * d, queries_bf16_.data());
  blas::to_bfloat16(c, nc * d, columns_bf16_.data());
  o.qb = queries_bf16_.data();
  o.cb = columns_bf16_.data();
  return o;
}

void RetrievalSoftmaxLoss::score_gemm(const GemmOperands& o, int64_t r0, int64_t rows, float* s) const {
  if (o.qb) {
    blas::gemm_bf16(false, true, rows, o.nc, o.d, 1.0f, o.qb + r0 * o.d, o.d, o.cb, o.d, 0.0f, s, o.nc);
  } else {
    blas::gemm(false, true, rows, o.nc, o.d, 1.0f, o.q + r0 * o.d, o.d, o.c, o.d, 0.0f, s, o.nc);
  }
}

void RetrievalSoftmaxLoss::gradient_gemms(const GemmOperands& o, int64_t r0, int64_t rows,
                                          const float* s, float* dq, float dq_beta, float* dc,
                                          int worker) {
  const int64_t nc = o.nc, d = o.d;
  if (o.qb) {
    auto& sb = scratch_[static_cast<size_t>(worker)].scores_bf16;
    if (sb.size() < static_cast<size_t>(rows * nc)) sb.resize(static_cast<size_t>(rows * nc));
    blas::to_bfloat16(s, rows * nc, sb.data());
    blas::gemm_bf16(false, false, rows, d, nc, 1.0f, sb.data(), nc, o.cb, d, dq_beta, dq + r0 * d, d);
    blas::gemm_bf16(true, false, nc, d, rows, 1.0f, sb.data(), nc, o.qb + r0 * d, d, 1.0f, dc, d);
  } else {
    blas::gemm(false, false, rows, d, nc, 1.0f, s, nc, o.c, d, dq_beta, dq + r0 * d, d);
    blas::gemm(true, false, nc, d, rows, 1.0f, s, nc, o.q + r0 * d, d, 1.0f, dc, d);
  }
}

double RetrievalSoftmaxLoss::forward_backward(const RetrievalProblem& p,
                                              const RetrievalLossOptions& opt, float scale,
                                              float* dq, float* dc, ThreadPool* pool) {
  TANDEM_CHECK(p.num_queries > 0 && p.num_queries <= max_queries_ && p.num_columns > 0 &&
                   p.num_columns <= max_columns_ && p.num_examples > 0 &&
                   p.num_examples <= max_examples_ && p.d > 0,
               "retrieval loss: " << p.num_queries << " queries, " << p.num_columns << " columns, "
                                  << p.num_examples << " examples exceed its capacity ("
                                  << max_queries_ << ", " << max_columns_ << ", " << max_examples_
                                  << ")");
  TANDEM_CHECK(opt.temperature > 0.0f && std::isfinite(opt.temperature),
               "retrieval temperature must be positive, got " << opt.temperature);
  TANDEM_CHECK(!opt.remove_accidental_hits || p.column_item != nullptr,
               "removing accidental hits needs each column's item");
  const int workers = pool ? pool->size() : 1;
  TANDEM_CHECK(workers <= workers_, "retrieval loss built for " << workers_ << " workers");

  // Examples grouped by query, in example order within a query.
  std::fill(query_offsets_.begin(), query_offsets_.begin() + p.num_queries + 1, 0);
  for (int64_t i = 0; i < p.num_examples; ++i) {
    const int32_t u = p.example_query[i];
    const int32_t c = p.example_positive[i];
    TANDEM_CHECK(u >= 0 && u < p.num_queries && c >= 0 && c < p.num_columns,
                 "retrieval loss: example " << i << " has query " << u << " / column " << c
                                            << " outside 0.." << p.num_queries << " / 0.."
                                            << p.num_columns);
    query_offsets_[static_cast<size_t>(u) + 1] += 1;
  }
  for (int64_t u = 0; u < p.num_queries; ++u)
    query_offsets_[static_cast<size_t>(u) + 1] += query_offsets_[static_cast<size_t>(u)];
  for (int64_t i = 0; i < p.num_examples; ++i) {
    int32_t& slot = query_offsets_[static_cast<size_t>(p.example_query[i])];
    by_query_[static_cast<size_t>(slot++)] = static_cast<int32_t>(i);
  }
  for (int64_t u = p.num_queries; u > 0; --u)
    query_offsets_[static_cast<size_t>(u)] = query_offsets_[static_cast<size_t>(u) - 1];
  query_offsets_[0] = 0;

  // Copies of an item among the columns, as a ring per item.
  if (opt.remove_accidental_hits) {
    for (int64_t j = 0; j < p.num_columns; ++j) {
      const int32_t it = p.column_item[j];
      TANDEM_CHECK(it >= 0, "retrieval loss: column " << j << " has item " << it);
      if (static_cast<size_t>(it) >= first_column_of_item_.size())
        first_column_of_item_.resize(static_cast<size_t>(it) + 1, -1);
      int32_t& first = first_column_of_item_[static_cast<size_t>(it)];
      if (first < 0) {
        first = static_cast<int32_t>(j);
        next_copy_[static_cast<size_t>(j)] = static_cast<int32_t>(j);
      } else {
        next_copy_[static_cast<size_t>(j)] = next_copy_[static_cast<size_t>(first)];
        next_copy_[static_cast<size_t>(first)] = static_cast<int32_t>(j);
      }
    }
    for (int64_t j = 0; j < p.num_columns; ++j)
      first_column_of_item_[static_cast<size_t>(p.column_item[j])] = -1;
  }
  if (keep_probabilities_) {
    probabilities_.assign(static_cast<size_t>(p.num_examples * p.num_columns), 0.0f);
  }
  const size_t dc_size = static_cast<size_t>(p.num_columns * p.d);
  const GemmOperands operands = gemm_operands(p.queries, p.num_queries, p.columns, p.num_columns, p.d);
  auto work = [&](int w) {
    const Range r = split_range(p.num_queries, workers, w);
    worker_losses_[static_cast<size_t>(w)] =
        run_queries(p, operands, opt, scale, dq, dc, r.begin, r.end, w);
  };
  for (int w = 1; w < workers; ++w) {
    auto& s = scratch_[static_cast<size_t>(w)].dc;
    if (s.size() < dc_size) s.resize(dc_size);
  }
  if (pool && workers > 1) {
    pool->run(work);
  } else {
    work(0);
  }
  return sum_worker_results(
      worker_losses_, workers, [&](int w) { return scratch_[static_cast<size_t>(w)].dc.data(); },
      dc, dc_size, pool, profile_);
}

double RetrievalSoftmaxLoss::run_queries(const RetrievalProblem& p, const GemmOperands& operands,
                                         const RetrievalLossOptions& opt,
                                         float scale, float* dq, float* dc_out, int64_t q_begin,
                                         int64_t q_end, int worker) {
  WorkerScratch& s = scratch_[static_cast<size_t>(worker)];
  const int64_t nc = p.num_columns, d = p.d;
  float* dc = worker == 0 ? dc_out : s.dc.data();
  std::fill_n(dc, nc * d, 0.0f);
  const double inv_t = 1.0 / static_cast<double>(opt.temperature);
  float* e = s.exps.data();
  float* dl = s.dlogit.data();
  double loss = 0.0;
  auto raw_logit = [&](const float* row, int64_t j) {
    double v = static_cast<double>(row[j]) * inv_t;
    if (p.column_correction) v -= p.column_correction[j];
    return v;
  };
  auto log_weight = [&](int64_t j) {
    return p.column_log_weight ? static_cast<double>(p.column_log_weight[j]) : 0.0;
  };
  // Column j's number of copies in the batch (an integer: its log is stored).
  auto multiplicity = [&](int64_t j) {
    return p.column_log_weight ? std::round(std::exp(log_weight(j))) : 1.0;
  };
  for (int64_t r0 = q_begin; r0 < q_end; r0 += block_rows_) {
    const int64_t rows = std::min(block_rows_, q_end - r0);
    float* block = s.scores.data();
    score_gemm(operands, r0, rows, block);
    for (int64_t ui = 0; ui < rows; ++ui) {
      const int64_t u = r0 + ui;
      float* row = block + ui * nc;
      // Shared part of every softmax of this query: e_j = exp(b_j - m) with
      // b_j the logit at the column's full multiplicity.
      double m = -HUGE_VAL;
      for (int64_t j = 0; j < nc; ++j) m = std::max(m, raw_logit(row, j) + log_weight(j));
      double z = 0.0;
      for (int64_t j = 0; j < nc; ++j) {
        e[j] = static_cast<float>(std::exp(raw_logit(row, j) + log_weight(j) - m));
        z += e[j];
        dl[j] = 0.0f;
      }
      double shared = 0.0;  // sum over this query's examples of weight_i / Z_i
      for (int32_t k = query_offsets_[static_cast<size_t>(u)];
           k < query_offsets_[static_cast<size_t>(u) + 1]; ++k) {
        const int32_t i = by_query_[static_cast<size_t>(k)];
        const int32_t pos = p.example_positive[i];
        const double wt = p.example_weight ? static_cast<double>(p.example_weight[i]) : 1.0;
        const double pos_logit = raw_logit(row, pos);
        float* prob = keep_probabilities_ ? probabilities_.data() + static_cast<int64_t>(i) * nc
                                          : nullptr;
        auto masked_copy = [&](int64_t j) {
          return opt.remove_accidental_hits && j != pos && p.column_item[j] == p.column_item[pos];
        };
        if (opt.hard_negatives <= 0) {
          // Z_i = Z minus what example i's softmax leaves out: with hit
          // removal, the positive column counts once and its other copies not.
          double zi = z;
          double e_pos = e[pos];
          if (opt.remove_accidental_hits) {
            e_pos = std::exp(pos_logit - m);
            zi += e_pos - e[pos];
            for (int32_t j = next_copy_[static_cast<size_t>(pos)]; j != pos;
                 j = next_copy_[static_cast<size_t>(j)])
              zi -= e[j];
          }
          loss += wt * (m + std::log(zi) - pos_logit);
          const double g = wt / zi;
          shared += g;
          // Corrections to the shared term g * e_j at the positive and copies.
          dl[pos] += static_cast<float>(g * (e_pos - e[pos]) - wt);
          if (opt.remove_accidental_hits) {
            for (int32_t j = next_copy_[static_cast<size_t>(pos)]; j != pos;
                 j = next_copy_[static_cast<size_t>(j)])
              dl[j] -= static_cast<float>(g * e[j]);
          }
          if (prob) {
            for (int64_t j = 0; j < nc; ++j) prob[j] = masked_copy(j) ? 0.0f : static_cast<float>(e[j] / zi);
            prob[pos] = static_cast<float>(e_pos / zi);
          }
        } else {
          // TFRS's top k over the batch's columns: candidates are the columns
          // with copies this example sees as negatives; p itself when its
          // other copies are not masked.
          int64_t cand = 0;
          for (int64_t j = 0; j < nc; ++j) {
            if (j != pos && !masked_copy(j)) s.order[static_cast<size_t>(cand++)] = static_cast<int32_t>(j);
          }
          const double pos_copies = opt.remove_accidental_hits ? 0.0 : multiplicity(pos) - 1.0;
          if (pos_copies > 0.0) s.order[static_cast<size_t>(cand++)] = pos;
          // Each candidate has at least one copy, so the k highest copies
          // are among the k highest candidates; those, highest first, give
          // their copies until k are taken.
          const int64_t kc = std::min<int64_t>(opt.hard_negatives, cand);
          auto harder = [&](int32_t a, int32_t b) {
            const double la = raw_logit(row, a), lb = raw_logit(row, b);
            return la > lb || (la == lb && a < b);
          };
          if (kc < cand)
            std::nth_element(s.order.begin(), s.order.begin() + kc, s.order.begin() + cand, harder);
          std::sort(s.order.begin(), s.order.begin() + kc, harder);
          double left = static_cast<double>(opt.hard_negatives);
          int64_t kept = 0;
          for (; kept < kc && left > 0.0; ++kept) {
            const int32_t j = s.order[static_cast<size_t>(kept)];
            const double take = std::min(left, j == pos ? pos_copies : multiplicity(j));
            s.kept[static_cast<size_t>(kept)] = static_cast<float>(take);
            left -= take;
          }
          double mi = pos_logit;
          for (int64_t t = 0; t < kept; ++t) mi = std::max(mi, raw_logit(row, s.order[static_cast<size_t>(t)]));
          double zi = std::exp(pos_logit - mi);
          for (int64_t t = 0; t < kept; ++t) {
            const int32_t j = s.order[static_cast<size_t>(t)];
            zi += s.kept[static_cast<size_t>(t)] * std::exp(raw_logit(row, j) - mi);
          }
          loss += wt * (mi + std::log(zi) - pos_logit);
          const double pp = std::exp(pos_logit - mi) / zi;  // the label column alone
          dl[pos] += static_cast<float>(wt * (pp - 1.0));
          if (prob) prob[pos] = static_cast<float>(pp);
          for (int64_t t = 0; t < kept; ++t) {
            const int32_t j = s.order[static_cast<size_t>(t)];
            const double pj = s.kept[static_cast<size_t>(t)] * std::exp(raw_logit(row, j) - mi) / zi;
            dl[j] += static_cast<float>(wt * pj);
            if (prob) prob[j] += static_cast<float>(pj);
          }
        }
      }
      // dS_uj = scale / T * dLoss/dlogit_uj, written over the scores.
      const float f = static_cast<float>(scale * inv_t);
      const float sh = static_cast<float>(shared);
      for (int64_t j = 0; j < nc; ++j) row[j] = f * (sh * e[j] + dl[j]);
    }
    gradient_gemms(operands, r0, rows, block, dq, 0.0f, dc, worker);
  }
  return loss;
}

// ---- Training batches: the builder and the plain kernels --------------------

void RetrievalSoftmaxLoss::prepare_batches(int64_t query_rows, int64_t item_rows, int64_t max_dim,
                                           std::vector<float> item_log_probability,
                                           int64_t negative_pool_size) {
  TANDEM_CHECK(query_rows >= 0 && item_rows >= 0 && max_dim > 0,
               "retrieval loss: bad batch capacities (" << query_rows << " query rows, " << item_rows
                                                        << " item rows, width " << max_dim << ")");
  query_dedup_ = RowDedup(query_rows, max_examples_);
  item_dedup_ = RowDedup(item_rows, max_examples_);
  example_dedup_ = RowDedup(max_examples_, max_examples_);
  example_ids_.resize(static_cast<size_t>(max_examples_));
  for (int64_t i = 0; i < max_examples_; ++i) example_ids_[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  item_log_probability_ = std::move(item_log_probability);
  negative_pool_size_ = negative_pool_size;
  queries_.assign(static_cast<size_t>(max_queries_ * max_dim), 0.0f);
  dq_distinct_.assign(queries_.size(), 0.0f);
  columns_.assign(static_cast<size_t>(max_columns_ * max_dim), 0.0f);
  dc_columns_.assign(columns_.size(), 0.0f);
  column_log_weight_.assign(static_cast<size_t>(max_columns_), 0.0f);
  column_correction_.assign(static_cast<size_t>(max_columns_), 0.0f);
  column_item_.assign(static_cast<size_t>(max_columns_), 0);
  max_dim_ = max_dim;
  set_precision(precision_);
}

float* RetrievalSoftmaxLoss::worker_dc(int w, size_t floats) {
  auto& p = scratch_[static_cast<size_t>(w)].dc;
  if (p.size() < floats) p.resize(floats);
  return p.data();
}

void RetrievalSoftmaxLoss::compact(const RetrievalBatch& b, RowDedup& queries) {
  const int64_t n = b.n, d = b.d;
  queries.assign(b.query_ids ? b.query_ids : example_ids_.data(), b.query_count < 0 ? n : b.query_count);
  item_dedup_.assign(b.item_ids, n);
  const int64_t nq = queries.distinct(), nv = item_dedup_.distinct();
  for (int64_t u = 0; u < nq; ++u)
    std::copy_n(b.queries + static_cast<int64_t>(queries.first()[u]) * d, d, queries_.data() + u * d);
  for (int64_t v = 0; v < nv; ++v) {
    const int32_t first = item_dedup_.first()[v];
    std::copy_n(b.items + static_cast<int64_t>(first) * d, d, columns_.data() + v * d);
    column_item_[static_cast<size_t>(v)] = b.item_ids[first];
    column_log_weight_[static_cast<size_t>(v)] = std::log(item_dedup_.counts()[static_cast<size_t>(v)]);
  }
  // The sampled negatives after the batch's columns, each its own (weight 1).
  for (int64_t t = 0; t < b.sampled; ++t) {
    std::copy_n(b.items + (n + t) * d, d, columns_.data() + (nv + t) * d);
    column_item_[static_cast<size_t>(nv + t)] = b.item_ids[n + t];
    column_log_weight_[static_cast<size_t>(nv + t)] = 0.0f;
  }
}

double RetrievalSoftmaxLoss::forward_backward(const RetrievalBatch& b, const RetrievalLossOptions& opt,
                                              float scale, bool distinct_rows, ThreadPool* pool) {
  const int64_t n = b.n, d = b.d, m = b.sampled;
  TANDEM_CHECK(!queries_.empty(), "retrieval loss: prepare_batches was not called");
  TANDEM_CHECK(n > 0 && n <= max_examples_ && n <= max_queries_ && n + m <= max_columns_ && d > 0 &&
                   static_cast<size_t>(max_columns_ * d) <= columns_.size(),
               "retrieval loss: a batch of " << n << " examples, " << m << " sampled, width " << d
                                             << " exceeds its capacity (" << max_examples_ << ", "
                                             << max_columns_ << " columns)");
  const bool plain = !opt.any() && b.weights == nullptr;
  TANDEM_CHECK(!plain || m == 0, "retrieval loss: sampled negatives need mixed_negatives set");
  const bool part = b.query_count >= 0;
  const int64_t q0 = part ? b.query_begin : 0, qn = part ? b.query_count : n;
  TANDEM_CHECK(q0 >= 0 && qn >= 0 && q0 + qn <= n,
               "retrieval loss: query rows [" << q0 << ", " << q0 + qn << ") outside a batch of " << n);
  if (qn == 0) {
    // This rank holds none of the batch's examples: no loss, no gradient
    // (the sampled negatives' rows, which it overwrites, become zeros).
    score_rows_ = 0;
    score_cols_ = n + m;
    std::fill_n(b.dc + n * d, m * d, 0.0f);
    return 0.0;
  }
  if (plain && (!distinct_rows || b.query_ids == nullptr)) {
    score_rows_ = qn;
    score_cols_ = n;
    return full_matrix(b.queries, q0, qn, b.items, n, d, scale, b.dq, b.dc, pool);
  }
  RowDedup& queries = b.query_ids ? query_dedup_ : example_dedup_;
  compact(b, queries);
  const int64_t nq = queries.distinct(), nv = item_dedup_.distinct(), nc = nv + m;
  score_rows_ = nq;
  score_cols_ = nc;
  if (plain) return plain_distinct(b, queries, scale, pool);
  if (opt.logq_correction) {
    TANDEM_CHECK(!item_log_probability_.empty(), "the logQ correction needs item log-probabilities");
    // log of the expected count of the item among the columns under the
    // sampler that put it there: n p(item) for the batch's, m / |pool| for
    // the uniformly sampled ones.
    const double log_n = std::log(static_cast<double>(n));
    for (int64_t v = 0; v < nv; ++v) {
      column_correction_[static_cast<size_t>(v)] = static_cast<float>(
          log_n + item_log_probability_[static_cast<size_t>(column_item_[static_cast<size_t>(v)])]);
    }
    const float uniform = m > 0 ? static_cast<float>(std::log(static_cast<double>(m) /
                                                             static_cast<double>(negative_pool_size_)))
                                : 0.0f;
    for (int64_t t = 0; t < m; ++t) column_correction_[static_cast<size_t>(nv + t)] = uniform;
  }
  RetrievalProblem prob;
  prob.queries = queries_.data();
  prob.columns = columns_.data();
  prob.num_queries = nq;
  prob.num_columns = nc;
  prob.d = d;
  prob.num_examples = qn;
  prob.example_query = queries.index().data();
  prob.example_positive = item_dedup_.index().data() + q0;
  prob.example_weight = b.weights;
  prob.column_log_weight = column_log_weight_.data();
  prob.column_correction = opt.logq_correction ? column_correction_.data() : nullptr;
  prob.column_item = column_item_.data();
  const double loss = forward_backward(prob, opt, scale, dq_distinct_.data(), dc_columns_.data(), pool);
  // Gradients onto the first example of each distinct row, and the sampled
  // negatives' after the examples'.
  add_to_first_examples(queries, dq_distinct_.data(), d, b.dq);
  add_to_first_examples(item_dedup_, dc_columns_.data(), d, b.dc);
  std::copy_n(dc_columns_.data() + nv * d, m * d, b.dc + n * d);
  return loss;
}

// The plain softmax over distinct rows: a candidate that occurs w times is
// one column with weight w (w e^s in the softmax), a query that occurs k
// times one row whose loss counts k times; the positive terms stay per
// example. The gradient for a distinct query (candidate) is added to the
// slot of its first example, where per-row sums are all that is used (see
// RowGradient). Cost O(U x V x d) instead of O(n^2 d).
double RetrievalSoftmaxLoss::plain_distinct(const RetrievalBatch& b, const RowDedup& queries,
                                            float scale, ThreadPool* pool) {
  const int64_t d = b.d;
  // This part's examples (all of them unless the batch is split over ranks).
  const int64_t q0 = b.query_count >= 0 ? b.query_begin : 0;
  const int64_t n = b.query_count >= 0 ? b.query_count : b.n;
  const int workers = pool ? pool->size() : 1;
  TANDEM_CHECK(workers <= workers_, "retrieval loss built for " << workers_ << " workers");
  const int64_t nu = queries.distinct(), nv = item_dedup_.distinct();
  const size_t cap = static_cast<size_t>(max_examples_ * d);
  const float* uq = queries_.data();
  const float* uc = columns_.data();
  const float* log_weight = column_log_weight_.data();
  float* dqu = dq_distinct_.data();
  float* dcv = dc_columns_.data();
  const float* counts = queries.counts().data();
  const GemmOperands operands = gemm_operands(uq, nu, uc, nv, d);
  auto work = [&](int w) {
    const Range r = split_range(nu, workers, w);
    float* my_dc = w == 0 ? dcv : worker_dc(w, cap);
    std::fill_n(my_dc, nv * d, 0.0f);
    float* s = scratch_[static_cast<size_t>(w)].scores.data();
    double loss = 0.0;
    for (int64_t r0 = r.begin; r0 < r.end; r0 += block_rows_) {
      const int64_t rows = std::min(block_rows_, r.end - r0);
      score_gemm(operands, r0, rows, s);
      for (int64_t i = 0; i < rows; ++i) {
        float* row = s + i * nv;
        for (int64_t j = 0; j < nv; ++j) row[j] += log_weight[j];
        const float mx = max_value(row, nv);
        const double sum = exp_shifted_sum(row, nv, mx);
        const float k = counts[r0 + i];
        loss += static_cast<double>(k) * (static_cast<double>(mx) + std::log(sum));
        const float g = static_cast<float>(scale * k / sum);
        for (int64_t j = 0; j < nv; ++j) row[j] *= g;
      }
      gradient_gemms(operands, r0, rows, s, dqu, 0.0f, my_dc, w);
    }
    worker_losses_[static_cast<size_t>(w)] = loss;
  };
  if (pool && workers > 1) {
    pool->run(work);
  } else {
    work(0);
  }
  double loss = sum_worker_results(
      worker_losses_, workers, [&](int w) { return scratch_[static_cast<size_t>(w)].dc.data(); }, dcv,
      static_cast<size_t>(nv * d), pool, profile_);
  // Positive terms, per example: L -= q_i . c_i.
  for (int64_t i = 0; i < n; ++i) {
    const float* qi = b.queries + i * d;
    const float* ci = b.items + (q0 + i) * d;
    float* dqi = b.dq + i * d;
    float* dci = b.dc + (q0 + i) * d;
    double dot = 0.0;
    for (int64_t j = 0; j < d; ++j) {
      dot += static_cast<double>(qi[j]) * ci[j];
      dqi[j] -= scale * ci[j];
      dci[j] -= scale * qi[j];
    }
    loss -= dot;
  }
  add_to_first_examples(queries, dqu, d, b.dq);
  add_to_first_examples(item_dedup_, dcv, d, b.dc);
  return loss;
}

double RetrievalSoftmaxLoss::full_matrix(const float* q, int64_t row0, int64_t rows, const float* c,
                                         int64_t n, int64_t d, float scale, float* dq, float* dc,
                                         ThreadPool* pool) {
  const int workers = pool ? pool->size() : 1;
  TANDEM_CHECK(workers <= workers_, "retrieval loss built for " << workers_ << " workers, run with "
                                                                << workers);
  const GemmOperands operands = gemm_operands(q, rows, c, n, d);
  if (workers == 1) return full_matrix_rows(operands, row0, scale, dq, dc, 0, rows, 0);
  for (int w = 1; w < workers; ++w) worker_dc(w, static_cast<size_t>(n * d));
  pool->run([&](int w) {
    const Range r = split_range(rows, workers, w);
    // Worker 0 adds straight into dc; the others into private buffers.
    float* my_dc = dc;
    if (w > 0) {
      my_dc = scratch_[static_cast<size_t>(w)].dc.data();
      std::fill_n(my_dc, n * d, 0.0f);
    }
    worker_losses_[static_cast<size_t>(w)] =
        full_matrix_rows(operands, row0, scale, dq, my_dc, r.begin, r.end, w);
  });
  return sum_worker_results(
      worker_losses_, workers, [&](int w) { return scratch_[static_cast<size_t>(w)].dc.data(); }, dc,
      static_cast<size_t>(n * d), pool, profile_);
}

// Rows [r_begin, r_end) of the n x n softmax, a block at a time:
//   G = softmax_rows(S) - I,  dQ = G C,  dC = G^T Q.
double RetrievalSoftmaxLoss::full_matrix_rows(const GemmOperands& operands, int64_t row0, float scale,
                                              float* dq, float* dc, int64_t r_begin, int64_t r_end,
                                              int worker) {
  const int64_t n = operands.nc;
  float* s = scratch_[static_cast<size_t>(worker)].scores.data();
  double loss = 0.0;
  for (int64_t r0 = r_begin; r0 < r_end; r0 += block_rows_) {
    const int64_t rows = std::min(block_rows_, r_end - r0);
    score_gemm(operands, r0, rows, s);
    for (int64_t i = 0; i < rows; ++i) {
      float* row = s + i * n;
      const int64_t diag = row0 + r0 + i;
      const float positive = row[diag];
      const float mx = max_value(row, n);
      const double sum = exp_shifted_sum(row, n, mx);
      loss += static_cast<double>(mx) + std::log(sum) - static_cast<double>(positive);
      const float inv = static_cast<float>(scale / sum);
      for (int64_t j = 0; j < n; ++j) row[j] *= inv;
      row[diag] -= scale;
    }
    // dQ[block] += G C ; dC += G^T Q[block].
    gradient_gemms(operands, r0, rows, s, dq, 1.0f, dc, worker);
  }
  return loss;
}

}  // namespace tandem
