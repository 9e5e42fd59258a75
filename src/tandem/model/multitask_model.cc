#include "tandem/model/multitask_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "tandem/core/error.h"
#include "tandem/model/mse_loss.h"

namespace tandem {

namespace {
// Towers alone and experts alone share streams 4 and 5 (they were never
// combined when those seeds were chosen, and models keep their seeds); towers
// under experts take 6 and 7.
constexpr uint64_t kUserStream = 1, kItemStream = 2, kHeadStream = 3, kUserMoeStream = 4,
                   kItemMoeStream = 5, kUserTowerStream = 4, kItemTowerStream = 5,
                   kUserTowerUnderExpertsStream = 6, kItemTowerUnderExpertsStream = 7,
                   kFirstExtraHeadStream = 8;

// a * b + c, or INT64_MAX when that overflows (sizes are never negative).
int64_t saturating_mul_add(int64_t a, int64_t b, int64_t c) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
    return std::numeric_limits<int64_t>::max();
  return r;
}
}  // namespace

namespace {
// Width of each task's user (item) vector: the embedding with a shared
// bottom, the towers' output with side-feature towers, an expert's output
// with experts (over the towers' outputs when there are both).
int64_t task_dim_of(const ModelShape& shape) {
  if (shape.multitask.has_experts()) return shape.multitask.expert_dim;
  return output_dim(shape);
}

}  // namespace

MoeLayout moe_layout_of(const ModelShape& shape) {
  MoeLayout layout = shape.multitask.moe_layout();
  layout.tasks = shape.task_count();
  return layout;
}

namespace {

void predict_head_from_vectors(const HeadTask& head, int64_t d, const float* users,
                               const float* items, int64_t n, float* out,
                               std::vector<float>& scratch);

bool per_example_queries(const ModelShape& shape) {
  return shape.has_towers() &&
         std::any_of(shape.user_tower.features.begin(), shape.user_tower.features.end(),
                     [](const TowerFeature& f) { return f.per_example; });
}
}  // namespace

int64_t output_dim(const ModelShape& shape) {
  return shape.has_towers() ? tower_output_dim(shape.user_tower, shape.dim) : shape.dim;
}

int64_t parameter_count(const ModelShape& shape) {
  int64_t n = saturating_mul_add(shape.user_rows, shape.dim, 0);
  n = saturating_mul_add(shape.item_rows, shape.dim, n);
  if (shape.has_towers()) {
    n = saturating_mul_add(1, tower_parameter_count(shape.user_tower, shape.dim), n);
    n = saturating_mul_add(1, tower_parameter_count(shape.item_tower, shape.dim), n);
  }
  // The head as Mlp lays it out: per layer a [width, units] kernel and a
  // [units] bias, from the concatenated task vectors to one output.
  // The rating head and each extra task's, alike.
  for (int h = 0; h < shape.task_count() - 1; ++h) {
    int64_t width = 2 * task_dim_of(shape);
    for (size_t i = 0; i <= shape.hidden.size(); ++i) {
      const int64_t units = i == shape.hidden.size() ? 1 : shape.hidden[i];
      n = saturating_mul_add(width, units, saturating_mul_add(units, 1, n));
      width = units;
    }
  }
  if (shape.multitask.has_experts()) {
    const int64_t tower = moe_parameter_count(output_dim(shape), moe_layout_of(shape));
    n = saturating_mul_add(tower, 2, n);
  }
  if (shape.multitask.weighting == TaskWeighting::kUncertainty)
    n = saturating_mul_add(1, shape.task_count(), n);
  return n;
}

MultiTaskModel::MultiTaskModel(const ModelShape& shape, int64_t max_batch, int workers,
                               int64_t sampled_items, TableShard shard)
    : shape_(shape),
      out_dim_(tandem::output_dim(shape)),
      max_batch_(max_batch),
      workers_(workers),
      sampled_items_(sampled_items),
      users_(shard.rows_of(shape.user_rows), shape.dim),
      items_(shard.rows_of(shape.item_rows), shape.dim),
      retrieval_(shape.user_rows, shape.item_rows, max_batch,
                 std::max(shape.dim, task_dim_of(shape)), workers, per_example_queries(shape)),
      user_emb_(static_cast<size_t>(max_batch * std::max(shape.dim, out_dim_))),
      item_emb_(static_cast<size_t>((max_batch + sampled_items) * std::max(shape.dim, out_dim_))),
      user_dgrad_(user_emb_.size()),
      item_dgrad_(item_emb_.size()),
      user_grad_(shard.rows_of(shape.user_rows), shape.dim, max_batch),
      item_grad_(shard.rows_of(shape.item_rows), shape.dim, max_batch),
      shard_(shard) {
  TANDEM_CHECK(shard.ranks >= 1 && shard.rank >= 0 && shard.rank < shard.ranks,
               "rank " << shard.rank << " of " << shard.ranks << " is not a rank of the job");
  TANDEM_CHECK(!shard.sharded() || (!shape.has_towers() && !shape.multitask.has_experts() &&
                                    shape.multitask.weighting != TaskWeighting::kUncertainty),
               "training on several ranks supports the id-embedding model (shared bottom, fixed "
               "task weights) only: side-feature towers, experts (mmoe/ple) and learned task "
               "weights are not sharded yet; run them in one process");
  TANDEM_CHECK(workers >= 1, "worker count must be positive, got " << workers);
  TANDEM_CHECK(sampled_items >= 0 && sampled_items <= (int64_t{1} << 24),
               "sampled items must be in 0..16777216, got " << sampled_items);
  TANDEM_CHECK(static_cast<int>(shape.extra_tasks.size()) <= kMaxExtraTasks,
               "a model has at most " << kMaxExtraTasks << " extra tasks, got "
                                      << shape.extra_tasks.size());
  const int64_t head_in = 2 * task_dim_of(shape);
  heads_.push_back(std::make_unique<HeadTask>("rating", HeadTask::Kind::kRating, head_in,
                                              shape.hidden, max_batch, workers));
  for (const ExtraTaskSpec& t : shape.extra_tasks)
    heads_.push_back(std::make_unique<HeadTask>(t.name, HeadTask::Kind::kBinary, head_in, shape.hidden,
                                                max_batch, workers, t.label_threshold));
  if (shape.has_towers()) {
    const int64_t item_out = tower_output_dim(shape.item_tower, shape.dim);
    TANDEM_CHECK(out_dim_ == item_out,
                 "the user tower's output (" << out_dim_ << " wide) and the item tower's ("
                     << item_out << ") must have the same width, since retrieval scores their "
                        "dot product: without tower layers, give both sides features of equal "
                        "total width, or set tower_layers");
    user_tower_ = std::make_unique<FeatureTower>("user", shape.user_tower, &users_, &user_grad_, max_batch);
    item_tower_ = std::make_unique<FeatureTower>("item", shape.item_tower, &items_, &item_grad_,
                                                 max_batch + sampled_items);
  }
  if (shape.multitask.has_experts()) {
    shape.multitask.validate();
    const MoeLayout layout = moe_layout_of(shape);
    // Over the towers' outputs when there are towers, else the embedding rows.
    user_moe_ = std::make_unique<MixtureOfExperts>(out_dim_, layout, max_batch);
    item_moe_ = std::make_unique<MixtureOfExperts>(out_dim_, layout, max_batch + sampled_items);
  }
  if (shape.multitask.weighting == TaskWeighting::kUncertainty)
    uncertainty_ = std::make_unique<UncertaintyWeighting>(shape.task_count());
}

void MultiTaskModel::init(uint64_t seed) {
  // A shard draws the whole table's stream and keeps its own rows, so that
  // every row starts as it would in one process.
  Rng user_rng(derive_seed(seed, kUserStream));
  users_.init_uniform_shard(user_rng, shard_, shape_.user_rows);
  Rng item_rng(derive_seed(seed, kItemStream));
  items_.init_uniform_shard(item_rng, shard_, shape_.item_rows);
  Rng head_rng(derive_seed(seed, kHeadStream));
  heads_[0]->init(head_rng);
  if (user_moe_) {
    Rng user_moe_rng(derive_seed(seed, kUserMoeStream));
    user_moe_->init_glorot(user_moe_rng);
    Rng item_moe_rng(derive_seed(seed, kItemMoeStream));
    item_moe_->init_glorot(item_moe_rng);
  }
  if (user_tower_) {
    const bool under_experts = user_moe_ != nullptr;
    Rng user_tower_rng(derive_seed(seed, under_experts ? kUserTowerUnderExpertsStream : kUserTowerStream));
    user_tower_->init(user_tower_rng);
    Rng item_tower_rng(derive_seed(seed, under_experts ? kItemTowerUnderExpertsStream : kItemTowerStream));
    item_tower_->init(item_tower_rng);
  }
  // Extra heads from streams of their own, after every stream above, so that
  // adding a task leaves the other parts' initialisation as it was.
  for (size_t h = 1; h < heads_.size(); ++h) {
    Rng rng(derive_seed(seed, kFirstExtraHeadStream + (h - 1)));
    heads_[h]->init(rng);
  }
  if (uncertainty_) uncertainty_->init();
}

// One training step, as a pipeline over the whole batch:
// gather -> towers -> experts -> each task's forward/backward -> task
// weighting -> experts' backward -> towers' backward / scatter into the
// tables' row gradients.
StepLosses MultiTaskModel::compute_gradients(const Batch& batch, const TaskWeights& fixed,
                                             ThreadPool* pool) {
  if (shard_.sharded()) return compute_sharded(batch, fixed, pool);
  const StepPlan plan = plan_step(batch, fixed, pool);
  // Which tasks run is the fixed weights' decision; how much each one's
  // gradient counts may be learned (w_t exp(-s_t)).
  const TaskWeights w = uncertainty_ ? uncertainty_->effective_weights(fixed) : fixed;
  StepProfile* const p = profile_;
  { PhaseTimer t(p, StepPhase::kTowersForward); gather_and_towers_forward(batch, plan, pool); }
  { PhaseTimer t(p, StepPhase::kExpertsForward); experts_forward(plan); }
  StepLosses losses;
  tasks_forward_backward(batch, plan, fixed, w, pool, losses);
  { PhaseTimer t(p, StepPhase::kExpertsBackward); experts_backward(plan); }
  { PhaseTimer t(p, StepPhase::kWeighting); losses.total = weigh_losses(fixed, w, losses); }
  { PhaseTimer t(p, StepPhase::kTowersBackward); towers_backward_and_scatter(batch, plan, pool); }
  return losses;
}

MultiTaskModel::StepPlan MultiTaskModel::plan_step(const Batch& batch, const TaskWeights& fixed,
                                                   ThreadPool* pool) {
  StepPlan plan;
  plan.n = batch.size;
  TANDEM_CHECK(plan.n > 0 && plan.n <= max_batch_,
               "batch of " << plan.n << " examples; this model was built for 1.." << max_batch_);
  plan.workers = pool ? pool->size() : 1;
  TANDEM_CHECK(plan.workers <= workers_,
               "model built for " << workers_ << " workers, run with " << plan.workers);
  TANDEM_CHECK(fixed.extra_count == 0 || fixed.extra_count == extra_task_count(),
               "weights for " << fixed.extra_count << " extra tasks; the model has "
                              << extra_task_count());
  // Mixed negatives are item rows like the batch's: they pass through the
  // item side's towers and experts too, after the batch's rows (rows n..n+m
  // of item_emb_ and of its gradient), and only retrieval reads them.
  const bool optioned = fixed.retrieval != 0.0f && retrieval_.optioned(batch);
  plan.sampled = optioned ? retrieval_.options().mixed_negatives : 0;
  if (plan.sampled > 0) sample_negatives(batch, plan.sampled);
  plan.item_n = plan.n + plan.sampled;
  plan.item_rows = plan.sampled > 0 ? grad_items_.data() : batch.items;
  return plan;
}

void MultiTaskModel::gather_and_towers_forward(const Batch& batch, const StepPlan& plan,
                                               ThreadPool* pool) {
  const int64_t n = plan.n, d = out_dim_;
  // The towers run over the whole batch (one GEMM per MLP layer); their
  // outputs are then the task vectors (or the experts' inputs), as the
  // embedding rows are without.
  if (user_tower_) {
    user_tower_->forward(batch.users, batch.timestamps, n, user_emb_.data());
    item_tower_->forward(plan.item_rows, nullptr, plan.item_n, item_emb_.data());
    return;
  }
  if (plan.sampled > 0) items_.gather(plan.item_rows + n, plan.sampled, item_emb_.data() + n * d);
  // Each worker gathers its own rows.
  run_workers(pool, [&](int worker) {
    const Range r = split_range(n, plan.workers, worker);
    if (r.size() == 0) return;
    users_.gather(batch.users + r.begin, r.size(), user_emb_.data() + r.begin * d);
    items_.gather(batch.items + r.begin, r.size(), item_emb_.data() + r.begin * d);
  });
}

void MultiTaskModel::experts_forward(const StepPlan& plan) {
  if (!user_moe_) return;
  // One GEMM per part over the whole batch (the BLAS): deterministic for
  // any worker count.
  user_moe_->forward(user_emb_.data(), plan.n);
  item_moe_->forward(item_emb_.data(), plan.item_n);
}

TaskVectors MultiTaskModel::task_vectors(int t, bool overwrite) {
  if (!user_moe_) {
    // A shared bottom or towers: every task reads the same vectors, and their
    // gradients accumulate in one buffer.
    return {user_emb_.data(), item_emb_.data(), user_dgrad_.data(), item_dgrad_.data(), out_dim_,
            overwrite};
  }
  return {user_moe_->output(t), item_moe_->output(t), user_moe_->output_grad(t),
          item_moe_->output_grad(t), shape_.multitask.expert_dim, true};
}

void MultiTaskModel::tasks_forward_backward(const Batch& batch, const StepPlan& plan,
                                            const TaskWeights& fixed, const TaskWeights& w,
                                            ThreadPool* pool, StepLosses& losses) {
  const int64_t n = plan.n;
  const bool experts = user_moe_ != nullptr;
  // The heads first: the first one on a shared buffer overwrites it, the
  // others (and retrieval, last) add to it.
  bool written = false;
  for (size_t h = 0; h < heads_.size(); ++h) {
    const int t = static_cast<int>(h) + 1;
    HeadTask& head = *heads_[h];
    const bool extra = h > 0;
    if (extra && fixed.extra_count == 0) continue;  // weights without extra tasks: all off
    TaskVectors v = task_vectors(t, !written);
    if (fixed.of(t) == 0.0f) {
      // Off: no gradient. Zeros, not stale values, in its parameters'
      // gradients keep dense_parameters() a true gradient, and in its own
      // expert mixture's (or, first on the shared buffer, in that).
      head.zero_gradients();
      if (experts) {
        std::fill_n(v.du, n * v.dim, 0.0f);
        std::fill_n(v.dm, n * v.dim, 0.0f);
      } else if (!written) {
        std::fill_n(v.du, n * v.dim, 0.0f);
        std::fill_n(v.dm, n * v.dim, 0.0f);
        written = true;
      }
    } else {
      const double loss = timed_task(t, [&] { return head.forward_backward(batch, v, w.of(t), pool); });
      if (extra) {
        losses.extra[h - 1] = loss;
      } else {
        losses.ranking = loss;
      }
      written = true;
    }
    // The sampled negatives get no gradient from a head.
    if (experts) std::fill_n(v.dm + n * v.dim, plan.sampled * v.dim, 0.0f);
  }
  // Extra tasks' expert mixtures get zero gradients when the weights leave
  // them out.
  if (experts && fixed.extra_count == 0) {
    for (int e = 0; e < extra_task_count(); ++e) {
      heads_[static_cast<size_t>(e) + 1]->zero_gradients();
      const TaskVectors v = task_vectors(2 + e, true);
      std::fill_n(v.du, n * v.dim, 0.0f);
      std::fill_n(v.dm, plan.item_n * v.dim, 0.0f);
    }
  }
  // Retrieval adds onto the heads' gradients with a shared bottom; with
  // experts it has its own mixture, zeroed first.
  const int ret = static_cast<int>(Task::kRetrieval);
  const TaskVectors v = task_vectors(ret, false);
  if (experts) {
    std::fill_n(v.du, n * v.dim, 0.0f);
    std::fill_n(v.dm, plan.item_n * v.dim, 0.0f);
  }
  if (fixed.retrieval != 0.0f) {
    losses.retrieval = timed_task(ret, [&] {
      return retrieval_.forward_backward(batch, v, plan.item_rows, plan.sampled, w.retrieval, pool,
                                         losses.score_rows, losses.score_cols);
    });
  }
}

void MultiTaskModel::set_profile(StepProfile* profile) {
  profile_ = profile;
  retrieval_.set_profile(profile);
  for (auto& h : heads_) h->set_profile(profile);
  if (profile == nullptr) return;
  // Task t's share at task_seconds[t]: retrieval, rating, then the extras.
  profile->task_names = {"retrieval", "rating"};
  for (const ExtraTaskSpec& e : shape_.extra_tasks) profile->task_names.push_back(e.name);
  profile->task_seconds.assign(profile->task_names.size(), 0.0);
}

double MultiTaskModel::timed_task(int t, const std::function<double()>& run) {
  if (profile_ == nullptr) return run();
  // The task's own time, without the reduction of its workers' gradients
  // (which the loss adds to the reduce phase meanwhile).
  const auto start = std::chrono::steady_clock::now();
  const double reduce_before = (*profile_)[StepPhase::kReduce];
  const double loss = run();
  const double own = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() -
                     ((*profile_)[StepPhase::kReduce] - reduce_before);
  (*profile_)[StepPhase::kTasks] += own;
  profile_->task_seconds[static_cast<size_t>(t)] += own;
  return loss;
}

double MultiTaskModel::weigh_losses(const TaskWeights& fixed, const TaskWeights& w,
                                    const StepLosses& losses) {
  if (uncertainty_) return uncertainty_->finish(fixed, losses);
  double total = static_cast<double>(w.retrieval) * losses.retrieval +
                 static_cast<double>(w.ranking) * losses.ranking;
  for (int e = 0; e < fixed.extra_count; ++e)
    total += static_cast<double>(w.extra[static_cast<size_t>(e)]) * losses.extra[static_cast<size_t>(e)];
  return total;
}

void MultiTaskModel::experts_backward(const StepPlan& plan) {
  if (!user_moe_) return;
  user_moe_->backward(user_emb_.data(), plan.n, user_dgrad_.data());
  item_moe_->backward(item_emb_.data(), plan.item_n, item_dgrad_.data());
}

void MultiTaskModel::towers_backward_and_scatter(const Batch& batch, const StepPlan& plan, ThreadPool* pool) {
  if (user_tower_) {
    // Through the towers' MLPs into the id and every feature table, for the
    // batch's items and the sampled ones alike.
    user_tower_->backward(user_dgrad_.data(), plan.n);
    item_tower_->backward(item_dgrad_.data(), plan.item_n);
    return;
  }
  user_grad_.assign(batch.users, user_dgrad_.data(), plan.n, 1.0f, pool);
  // The sampled negatives' rows follow the batch's, as in item_dgrad_.
  item_grad_.assign(plan.item_rows, item_dgrad_.data(), plan.item_n, 1.0f, pool);
}

void MultiTaskModel::sample_negatives(const Batch& batch, int64_t m) {
  if (!retrieval_.configured())
    configure_retrieval(retrieval_.options(), retrieval_.item_log_probability(), retrieval_.negative_pool());
  const int64_t n = batch.size;
  std::copy_n(batch.items, n, grad_items_.data());
  Rng rng(batch.sample_seed);
  const std::vector<int32_t>& pool = retrieval_.negative_pool();
  const uint64_t pool_size = pool.size();
  for (int64_t t = 0; t < m; ++t)
    grad_items_[static_cast<size_t>(n + t)] = pool[static_cast<size_t>(rng.below(pool_size))];
}

void MultiTaskModel::configure_retrieval(const RetrievalLossOptions& options,
                                         std::vector<float> item_log_probability,
                                         std::vector<int32_t> negative_pool) {
  TANDEM_CHECK(options.temperature > 0.0f && std::isfinite(options.temperature),
               "retrieval temperature must be positive, got " << options.temperature);
  TANDEM_CHECK(options.hard_negatives >= 0 && options.mixed_negatives >= 0,
               "hard and mixed negative counts must be >= 0");
  TANDEM_CHECK(options.mixed_negatives <= (int64_t{1} << 24),
               "mixed_negatives " << options.mixed_negatives << " is absurd (at most 16777216)");
  TANDEM_CHECK(!options.logq_correction ||
                   static_cast<int64_t>(item_log_probability.size()) == shape_.item_rows,
               "the logQ correction needs one log-probability per item row ("
                   << shape_.item_rows << "), got " << item_log_probability.size());
  TANDEM_CHECK(options.mixed_negatives == 0 || !negative_pool.empty(),
               "mixed negatives need a non-empty pool of items to sample from");
  for (int32_t r : negative_pool) {
    TANDEM_CHECK(r >= 0 && r < shape_.item_rows,
                 "negative pool holds row " << r << " outside the item table (" << shape_.item_rows
                                            << " rows)");
  }
  // The towers' and experts' workspace was sized at construction.
  TANDEM_CHECK(options.mixed_negatives <= sampled_items_ || (user_moe_ == nullptr && item_tower_ == nullptr),
               "mixed_negatives " << options.mixed_negatives << " exceeds the "
                                  << sampled_items_
                                  << " sampled items this model's item towers and experts were "
                                     "built for (MultiTaskModel's sampled_items)");
  retrieval_.configure(options, std::move(item_log_probability), std::move(negative_pool));
  const int64_t cols = max_batch_ + options.mixed_negatives;
  grad_items_.assign(static_cast<size_t>(cols), 0);
  const auto item_floats = static_cast<size_t>(cols * std::max(shape_.dim, out_dim_));
  if (item_emb_.size() < item_floats) item_emb_.resize(item_floats);  // a shared bottom's gather
  item_dgrad_.resize(item_emb_.size());
  item_grad_ = RowGradient(shard_.rows_of(shape_.item_rows), shape_.dim, cols);
}

// Names are part of the model and checkpoint files: never rename one.
std::vector<ParameterRef> MultiTaskModel::dense_parameters() {
  std::vector<ParameterRef> p = heads_[0]->parameters();
  if (user_moe_) {
    for (auto& r : user_moe_->parameters("user_moe")) p.push_back(r);
    for (auto& r : item_moe_->parameters("item_moe")) p.push_back(r);
  }
  for (FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t) for (auto& r : t->dense_parameters()) p.push_back(r);
  if (uncertainty_) p.push_back(uncertainty_->parameter());
  // Extra tasks' heads last, so that the other parameters keep their places.
  for (size_t h = 1; h < heads_.size(); ++h)
    for (auto& r : heads_[h]->parameters()) p.push_back(r);
  return p;
}

std::vector<ParameterView> MultiTaskModel::dense_parameter_values() const {
  std::vector<ParameterView> p = heads_[0]->parameter_values();
  if (user_moe_) {
    for (auto& v : user_moe_->parameter_values("user_moe")) p.push_back(v);
    for (auto& v : item_moe_->parameter_values("item_moe")) p.push_back(v);
  }
  for (const FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t) for (auto& v : t->dense_parameter_values()) p.push_back(v);
  if (uncertainty_) p.push_back(uncertainty_->parameter_value());
  for (size_t h = 1; h < heads_.size(); ++h)
    for (auto& v : heads_[h]->parameter_values()) p.push_back(v);
  return p;
}

std::vector<bool> MultiTaskModel::trained_dense_parameters(const TaskWeights& weights) const {
  // A head's parameters get gradients only from its own task; everything
  // else (experts, tower MLPs, learned task weights) from any task.
  const auto head_on = [&](size_t h) {
    const int t = static_cast<int>(h) + 1;
    return h == 0 ? weights.ranking != 0.0f
                  : weights.extra_count > 0 && weights.of(t) != 0.0f;
  };
  std::vector<bool> out;
  out.insert(out.end(), heads_[0]->parameter_values().size(), head_on(0));
  const size_t shared = dense_parameter_values().size() - out.size() -
                        [&] {
                          size_t c = 0;
                          for (size_t h = 1; h < heads_.size(); ++h) c += heads_[h]->parameter_values().size();
                          return c;
                        }();
  out.insert(out.end(), shared, true);
  for (size_t h = 1; h < heads_.size(); ++h)
    out.insert(out.end(), heads_[h]->parameter_values().size(), head_on(h));
  return out;
}

TaskWeights MultiTaskModel::with_extra_weights(TaskWeights w) const {
  w.extra_count = extra_task_count();
  for (int e = 0; e < w.extra_count; ++e)
    w.extra[static_cast<size_t>(e)] = shape_.extra_tasks[static_cast<size_t>(e)].weight;
  return w;
}

bool MultiTaskModel::retrieval_trains_dense() const {
  if (user_moe_ != nullptr || uncertainty_ != nullptr) return true;
  for (const FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t && !t->dense_parameter_values().empty()) return true;
  return false;
}

std::vector<double> MultiTaskModel::learned_task_weights() const {
  if (!uncertainty_) return {};
  std::vector<double> out;
  for (int t = 0; t < shape_.task_count(); ++t) out.push_back(uncertainty_->learned_weight(t));
  return out;
}

int64_t MultiTaskModel::task_dim() const { return task_dim_of(shape_); }

namespace {
// Rows per block when a tower's expert layer runs for inference, so that its
// scratch stays bounded for any catalogue.
constexpr int64_t kVectorBlock = 4096;

// Task t's vectors of n rows: the embedding rows, or the side-feature
// tower's outputs, and with experts the task's mixture over those.
void tower_vectors(const EmbeddingTable& table, const FeatureTower* tower,
                   const MixtureOfExperts* moe, Task t, const int32_t* rows,
                   const int64_t* timestamps, int64_t n, float* out, std::vector<float>& scratch) {
  const auto source = [&](const int32_t* r, const int64_t* ts, int64_t m, float* dst) {
    if (tower != nullptr) {
      tower->compute(r, ts, m, dst);
    } else {
      table.gather(r, m, dst);
    }
  };
  if (moe == nullptr) {
    source(rows, timestamps, n, out);
    return;
  }
  const int64_t d = tower != nullptr ? tower->output_dim() : table.dim;
  const int64_t td = moe->layout().expert_dim;
  const int64_t block = std::min(n, kVectorBlock);
  const auto need = static_cast<size_t>(block * d + moe->predict_scratch_floats(block));
  if (scratch.size() < need) scratch.resize(need);
  for (int64_t s = 0; s < n; s += block) {
    const int64_t m = std::min(block, n - s);
    source(rows + s, timestamps ? timestamps + s : nullptr, m, scratch.data());
    moe->predict(static_cast<int>(t), scratch.data(), m, out + s * td, scratch.data() + block * d);
  }
}
}  // namespace

bool MultiTaskModel::has_per_example_feature() const {
  if (!user_tower_) return false;
  const auto& f = user_tower_->spec().features;
  return std::any_of(f.begin(), f.end(), [](const TowerFeature& t) { return t.per_example; });
}

void MultiTaskModel::user_vectors(Task t, const int32_t* rows, int64_t n, float* out,
                                  std::vector<float>& scratch, const int64_t* timestamps) const {
  tower_vectors(users_, user_tower_.get(), user_moe_.get(), t, rows, timestamps, n, out, scratch);
}

void MultiTaskModel::described_user_vector(Task t, const DescribedEntity& user, float* out,
                                           std::vector<float>& scratch) const {
  TANDEM_CHECK(user_tower_ != nullptr, "describing a user by its features needs side-feature towers");
  if (!user_moe_) {
    user_tower_->compute_described(user, out);
    return;
  }
  const int64_t d = user_tower_->output_dim();
  const auto need = static_cast<size_t>(d + user_moe_->predict_scratch_floats(1));
  if (scratch.size() < need) scratch.resize(need);
  user_tower_->compute_described(user, scratch.data());
  user_moe_->predict(static_cast<int>(t), scratch.data(), 1, out, scratch.data() + d);
}

void MultiTaskModel::item_vectors(Task t, const int32_t* rows, int64_t n, float* out,
                                  std::vector<float>& scratch) const {
  tower_vectors(items_, item_tower_.get(), item_moe_.get(), t, rows, nullptr, n, out, scratch);
}

void MultiTaskModel::predict_from_vectors(const float* users, const float* items, int64_t n,
                                          float* out, std::vector<float>& scratch) const {
  predict_head_from_vectors(*heads_[0], task_dim(), users, items, n, out, scratch);
}

void MultiTaskModel::predict_extra_from_vectors(int e, const float* users, const float* items,
                                                int64_t n, float* out,
                                                std::vector<float>& scratch) const {
  TANDEM_CHECK(e >= 0 && e < extra_task_count(), "no extra task " << e);
  predict_head_from_vectors(*heads_[static_cast<size_t>(e) + 1], task_dim(), users, items, n, out,
                            scratch);
}

void MultiTaskModel::predict_extra(int e, const int32_t* users, const int32_t* items, int64_t n,
                                   float* out, std::vector<float>& scratch,
                                   const int64_t* timestamps) const {
  TANDEM_CHECK(e >= 0 && e < extra_task_count(), "no extra task " << e);
  const int64_t d = task_dim();
  constexpr int64_t kChunk = 1024;
  std::vector<float> u(static_cast<size_t>(std::min(n, kChunk) * d)), v(u.size()), tower;
  for (int64_t s = 0; s < n; s += kChunk) {
    const int64_t m = std::min(kChunk, n - s);
    user_vectors(extra_task(e), users + s, m, u.data(), tower, timestamps ? timestamps + s : nullptr);
    item_vectors(extra_task(e), items + s, m, v.data(), tower);
    predict_extra_from_vectors(e, u.data(), v.data(), m, out + s, scratch);
  }
}

namespace {
// A head's outputs for n pairs of task vectors ([n, d] each), a chunk at a time.
void predict_head_from_vectors(const HeadTask& head, int64_t d, const float* users,
                               const float* items, int64_t n, float* out,
                               std::vector<float>& scratch) {
  constexpr int64_t kChunk = 1024;
  std::vector<float> x(static_cast<size_t>(std::min(n, kChunk) * 2 * d));
  for (int64_t s = 0; s < n; s += kChunk) {
    const int64_t m = std::min(kChunk, n - s);
    for (int64_t i = 0; i < m; ++i) {
      std::memcpy(x.data() + i * 2 * d, users + (s + i) * d, static_cast<size_t>(d) * 4);
      std::memcpy(x.data() + i * 2 * d + d, items + (s + i) * d, static_cast<size_t>(d) * 4);
    }
    head.predict(x.data(), m, out + s, scratch);
  }
}
}  // namespace

std::vector<SparseParameterRef> MultiTaskModel::sparse_parameters() {
  std::vector<SparseParameterRef> out = {{"user_embedding", &users_, &user_grad_},
                                         {"item_embedding", &items_, &item_grad_}};
  for (FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t) for (auto& p : t->sparse_parameters()) out.push_back(p);
  return out;
}

std::vector<TableView> MultiTaskModel::sparse_parameter_values() const {
  std::vector<TableView> out = {{"user_embedding", &users_}, {"item_embedding", &items_}};
  for (const FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t) for (auto& p : t->sparse_parameter_values()) out.push_back(p);
  return out;
}

void MultiTaskModel::predict_ratings(const int32_t* users, const int32_t* items, int64_t n,
                                     float* out, std::vector<float>& scratch,
                                     const int64_t* timestamps) const {
  const int64_t d = task_dim();
  constexpr int64_t kChunk = 1024;
  std::vector<float> x(static_cast<size_t>(std::min(n, kChunk) * 2 * d));
  if (user_moe_ || user_tower_) {
    // The ranking vectors of each chunk's users and items, then concatenated.
    std::vector<float> u(static_cast<size_t>(std::min(n, kChunk) * d)), v(u.size()), tower;
    for (int64_t s = 0; s < n; s += kChunk) {
      const int64_t m = std::min(kChunk, n - s);
      user_vectors(Task::kRanking, users + s, m, u.data(), tower,
                   timestamps ? timestamps + s : nullptr);
      item_vectors(Task::kRanking, items + s, m, v.data(), tower);
      for (int64_t i = 0; i < m; ++i) {
        std::memcpy(x.data() + i * 2 * d, u.data() + i * d, static_cast<size_t>(d) * 4);
        std::memcpy(x.data() + i * 2 * d + d, v.data() + i * d, static_cast<size_t>(d) * 4);
      }
      heads_[0]->predict(x.data(), m, out + s, scratch);
    }
    return;
  }
  for (int64_t s = 0; s < n; s += kChunk) {
    const int64_t m = std::min(kChunk, n - s);
    for (int64_t i = 0; i < m; ++i) {
      std::memcpy(x.data() + i * 2 * d, users_.row(users[s + i]), static_cast<size_t>(d) * 4);
      std::memcpy(x.data() + i * 2 * d + d, items_.row(items[s + i]), static_cast<size_t>(d) * 4);
    }
    heads_[0]->predict(x.data(), m, out + s, scratch);
  }
}

}  // namespace tandem
