// MultiTaskModel's step when its embedding tables are sharded over the ranks
// of a job (set_communicator; the design is in docs/distributed.md). The
// phases are the local step's: gather (here a lookup from the rows' owners
// and an all-gather of the batch's item vectors), the tasks (each rank its
// own examples), the reduction (the item vectors' gradients, the dense
// gradients and the losses, each summed in rank order) and the scatter (row
// gradients to the rows' owners). The tasks themselves are the local ones,
// run on this rank's part of the batch.
#include <algorithm>
#include <cstring>

#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/model/multitask_model.h"

namespace tandem {

namespace {

// Bytes of n values of T.
template <typename T>
size_t byte_count(int64_t n) {
  return static_cast<size_t>(n) * sizeof(T);
}

bool same_weights(const TaskWeights& a, const TaskWeights& b) {
  if (a.task_count() != b.task_count()) return false;
  for (int t = 0; t < a.task_count(); ++t)
    if (a.of(t) != b.of(t)) return false;
  return true;
}

}  // namespace

void MultiTaskModel::set_communicator(Communicator* comm) {
  if (comm != nullptr) {
    TANDEM_CHECK(comm->size() == shard_.ranks && comm->rank() == shard_.rank,
                 "this model holds rank " << shard_.rank << " of " << shard_.ranks
                                          << "'s shard, the job's communicator is rank " << comm->rank()
                                          << " of " << comm->size());
    if (!sharded_) {
      sharded_ = std::make_unique<ShardedWorkspace>();
      sharded_->user_rows = RowDedup(shape_.user_rows, max_batch_);
      sharded_->params = dense_parameters();
    }
  }
  comm_ = comm;
}

void MultiTaskModel::lookup_rows(const EmbeddingTable& table, RowDedup& dedup, const int32_t* ids,
                                 int64_t n, float* out) {
  Communicator& comm = *comm_;
  ShardedWorkspace& ws = *sharded_;
  const int ranks = comm.size();
  const int64_t d = table.dim;
  dedup.assign(ids, n);
  const int64_t distinct = dedup.distinct();
  // Requests grouped by owner (a counting sort, stable: first-appearance
  // order within each owner), as local row numbers.
  std::vector<size_t> per_owner(static_cast<size_t>(ranks), 0);
  const std::vector<int32_t>& first = dedup.first();
  for (int64_t v = 0; v < distinct; ++v) per_owner[static_cast<size_t>(shard_.owner(ids[first[v]]))] += 1;
  std::vector<int64_t> start(static_cast<size_t>(ranks) + 1, 0);
  for (int k = 0; k < ranks; ++k) start[static_cast<size_t>(k) + 1] = start[static_cast<size_t>(k)] + static_cast<int64_t>(per_owner[static_cast<size_t>(k)]);
  std::vector<int64_t> slot_of(static_cast<size_t>(distinct));  // where distinct row v's answer lands
  ws.send.resize(byte_count<int32_t>(distinct));
  auto* request = reinterpret_cast<int32_t*>(ws.send.data());
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t v = 0; v < distinct; ++v) {
      const int32_t row = ids[first[v]];
      const auto k = static_cast<size_t>(shard_.owner(row));
      slot_of[static_cast<size_t>(v)] = next[k];
      request[next[k]++] = static_cast<int32_t>(shard_.local(row));
    }
  }
  std::vector<size_t> send(static_cast<size_t>(ranks));
  for (int k = 0; k < ranks; ++k) send[static_cast<size_t>(k)] = per_owner[static_cast<size_t>(k)] * sizeof(int32_t);
  const std::vector<size_t> recv = comm.exchange_sizes(send, TrafficKind::kLookup);
  size_t asked = 0;
  for (size_t b : recv) asked += b;
  counts_.lookup_rows += distinct;
  counts_.lookup_remote_rows += distinct - static_cast<int64_t>(per_owner[static_cast<size_t>(shard_.rank)]);
  counts_.served_rows += static_cast<int64_t>((asked - recv[static_cast<size_t>(shard_.rank)]) / sizeof(int32_t));
  ws.ids.resize(asked / sizeof(int32_t));
  comm.alltoallv(request, send, ws.ids.data(), recv, TrafficKind::kLookup);
  // Answer with the rows asked for, in the order asked.
  const auto asked_rows = static_cast<int64_t>(ws.ids.size());
  ws.vectors.resize(static_cast<size_t>(asked_rows * d));
  for (int64_t i = 0; i < asked_rows; ++i) {
    const int32_t local = ws.ids[static_cast<size_t>(i)];
    TANDEM_CHECK(local >= 0 && local < table.rows,
                 "a lookup asked rank " << shard_.rank << " for its local row " << local << " of " << table.rows);
    std::memcpy(ws.vectors.data() + i * d, table.row(local), byte_count<float>(d));
  }
  std::vector<size_t> answer_send(recv.size()), answer_recv(send.size());
  for (size_t k = 0; k < recv.size(); ++k) answer_send[k] = recv[k] / sizeof(int32_t) * byte_count<float>(d);
  for (size_t k = 0; k < send.size(); ++k) answer_recv[k] = send[k] / sizeof(int32_t) * byte_count<float>(d);
  ws.recv.resize(byte_count<float>(distinct * d));
  comm.alltoallv(ws.vectors.data(), answer_send, ws.recv.data(), answer_recv, TrafficKind::kLookup);
  const auto* rows = reinterpret_cast<const float*>(ws.recv.data());
  const std::vector<int32_t>& index = dedup.index();
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(out + i * d, rows + slot_of[static_cast<size_t>(index[static_cast<size_t>(i)])] * d,
                byte_count<float>(d));
}

void MultiTaskModel::fetch_rows(bool items, const int32_t* rows, int64_t n, float* out) {
  TANDEM_CHECK(comm_ != nullptr && sharded_ != nullptr,
               "fetching rows from their owners needs a sharded model with its communicator");
  const int64_t table_rows = items ? shape_.item_rows : shape_.user_rows;
  for (int64_t i = 0; i < n; ++i)
    TANDEM_CHECK(rows[i] >= 0 && rows[i] < table_rows,
                 "row " << rows[i] << " is outside the " << (items ? "item" : "user") << " table (" << table_rows << ")");
  RowDedup dedup(table_rows, std::max<int64_t>(n, 1));
  lookup_rows(items ? items_ : users_, dedup, rows, n, out);
}

void MultiTaskModel::scatter_to_owners(RowGradient& grad, const int32_t* ids, const float* grads,
                                       int64_t n, ThreadPool* pool) {
  Communicator& comm = *comm_;
  ShardedWorkspace& ws = *sharded_;
  const int ranks = comm.size();
  const int64_t d = shape_.dim;
  // One record per example: its local row number (as the float's bits),
  // then its gradient; grouped by owner, in example order within each.
  const int64_t record = d + 1;
  std::vector<size_t> per_owner(static_cast<size_t>(ranks), 0);
  for (int64_t i = 0; i < n; ++i) per_owner[static_cast<size_t>(shard_.owner(ids[i]))] += 1;
  std::vector<int64_t> next(static_cast<size_t>(ranks), 0);
  for (int k = 1; k < ranks; ++k)
    next[static_cast<size_t>(k)] = next[static_cast<size_t>(k) - 1] + static_cast<int64_t>(per_owner[static_cast<size_t>(k) - 1]);
  ws.send.resize(byte_count<float>(n * record));
  auto* out = reinterpret_cast<float*>(ws.send.data());
  for (int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<size_t>(shard_.owner(ids[i]));
    float* r = out + next[k]++ * record;
    const auto local = static_cast<int32_t>(shard_.local(ids[i]));
    std::memcpy(r, &local, sizeof(local));
    std::memcpy(r + 1, grads + i * d, byte_count<float>(d));
  }
  counts_.scatter_examples += n;
  counts_.scatter_remote_examples += n - static_cast<int64_t>(per_owner[static_cast<size_t>(shard_.rank)]);
  std::vector<size_t> send(static_cast<size_t>(ranks));
  for (int k = 0; k < ranks; ++k) send[static_cast<size_t>(k)] = per_owner[static_cast<size_t>(k)] * byte_count<float>(record);
  const std::vector<size_t> recv = comm.exchange_sizes(send, TrafficKind::kRowGradient);
  size_t total = 0;
  for (size_t b : recv) total += b;
  ws.recv.resize(total);
  comm.alltoallv(out, send, ws.recv.data(), recv, TrafficKind::kRowGradient);
  // Rank 0's examples first, then rank 1's...: the batch's order.
  const auto m = static_cast<int64_t>(total / byte_count<float>(record));
  const auto* in = reinterpret_cast<const float*>(ws.recv.data());
  ws.ids.resize(static_cast<size_t>(m));
  ws.vectors.resize(static_cast<size_t>(m * d));
  for (int64_t i = 0; i < m; ++i) {
    int32_t local = 0;
    std::memcpy(&local, in + i * record, sizeof(local));
    ws.ids[static_cast<size_t>(i)] = local;
    std::memcpy(ws.vectors.data() + i * d, in + i * record + 1, byte_count<float>(d));
  }
  grad.assign(ws.ids.data(), ws.vectors.data(), m, 1.0f, pool);
}

StepLosses MultiTaskModel::compute_sharded(const Batch& part, const TaskWeights& fixed,
                                           ThreadPool* pool) {
  TANDEM_CHECK(comm_ != nullptr, "a sharded model (rank " << shard_.rank << " of " << shard_.ranks
                                                          << ") needs the job's communicator");
  Communicator& comm = *comm_;
  ShardedWorkspace& ws = *sharded_;
  StepProfile* const p = profile_;
  const int ranks = comm.size(), me = comm.rank();
  const int64_t d = shape_.dim;
  const int64_t nl = part.size;
  TANDEM_CHECK(fixed.extra_count == 0 || fixed.extra_count == extra_task_count(),
               "weights for " << fixed.extra_count << " extra tasks; the model has " << extra_task_count());
  const int workers = pool ? pool->size() : 1;
  TANDEM_CHECK(workers <= workers_, "model built for " << workers_ << " workers, run with " << workers);

  // Where each rank's part lies in the whole batch; the whole batch's items.
  std::vector<int64_t> bounds(static_cast<size_t>(ranks) + 1, 0);
  int64_t sampled = 0;
  int64_t n = 0;
  {
    PhaseTimer t(p, StepPhase::kTowersForward);
    const std::vector<int64_t> sizes = comm.allgather_value(nl, TrafficKind::kControl);
    for (int k = 0; k < ranks; ++k) bounds[static_cast<size_t>(k) + 1] = bounds[static_cast<size_t>(k)] + sizes[static_cast<size_t>(k)];
    n = bounds.back();
    TANDEM_CHECK(n > 0 && n <= max_batch_,
                 "a batch of " << n << " examples over the ranks; this model was built for 1.." << max_batch_);
    const bool optioned = fixed.retrieval != 0.0f && retrieval_.optioned(part);
    sampled = optioned ? retrieval_.options().mixed_negatives : 0;
    if (sampled > 0 && !retrieval_.configured())
      configure_retrieval(retrieval_.options(), retrieval_.item_log_probability(), retrieval_.negative_pool());
    ws.items.resize(static_cast<size_t>(n + sampled));
    if (ws.item_capacity < max_batch_ + sampled) {
      // Sized once for the batch and the mixed negatives (a step allocates
      // nothing after the first).
      ws.item_capacity = max_batch_ + sampled;
      ws.item_rows = RowDedup(shape_.item_rows, ws.item_capacity);
    }
    std::vector<size_t> item_bytes(static_cast<size_t>(ranks));
    for (int k = 0; k < ranks; ++k) item_bytes[static_cast<size_t>(k)] = byte_count<int32_t>(sizes[static_cast<size_t>(k)]);
    comm.allgatherv(part.items, ws.items.data(), item_bytes, TrafficKind::kSoftmaxGather);
    // The mixed negatives, drawn alike on every rank from the step's seed
    // (as sample_negatives draws them in one process).
    if (sampled > 0) {
      Rng rng(part.sample_seed);
      const std::vector<int32_t>& negatives = retrieval_.negative_pool();
      const uint64_t pool_size = negatives.size();
      for (int64_t t = 0; t < sampled; ++t)
        ws.items[static_cast<size_t>(n + t)] = negatives[static_cast<size_t>(rng.below(pool_size))];
    }
  }
  // The last rank's part of the item side also holds the sampled negatives.
  std::vector<int64_t> item_bounds = bounds;
  item_bounds.back() += sampled;
  const int64_t off = bounds[static_cast<size_t>(me)];
  const int64_t my_items = item_bounds[static_cast<size_t>(me) + 1] - off;
  counts_.steps += 1;
  counts_.batch_examples += n;
  counts_.part_examples += nl;
  counts_.part_item_rows += my_items;
  counts_.sampled_rows += sampled;
  {
    PhaseTimer t(p, StepPhase::kBatchGather);
    lookup_rows(users_, ws.user_rows, part.users, nl, user_emb_.data());
    ws.my_items.resize(static_cast<size_t>(std::max<int64_t>(my_items, 1) * d));
    lookup_rows(items_, ws.item_rows, ws.items.data() + off, my_items, ws.my_items.data());
    std::vector<size_t> vector_bytes(static_cast<size_t>(ranks));
    for (int k = 0; k < ranks; ++k)
      vector_bytes[static_cast<size_t>(k)] =
          byte_count<float>((item_bounds[static_cast<size_t>(k) + 1] - item_bounds[static_cast<size_t>(k)]) * d);
    comm.allgatherv(ws.my_items.data(), item_emb_.data(), vector_bytes, TrafficKind::kSoftmaxGather);
  }

  // The tasks on this rank's examples; the softmax over every item.
  std::fill_n(user_dgrad_.data(), nl * d, 0.0f);
  std::fill_n(item_dgrad_.data(), (n + sampled) * d, 0.0f);
  Batch local = part;
  local.global_size = n;
  StepLosses losses;
  for (size_t h = 0; h < heads_.size(); ++h) {
    const int t = static_cast<int>(h) + 1;
    HeadTask& head = *heads_[h];
    const bool extra = h > 0;
    if ((extra && fixed.extra_count == 0) || fixed.of(t) == 0.0f) {
      head.zero_gradients();
      continue;
    }
    const TaskVectors v{user_emb_.data(), item_emb_.data() + off * d, user_dgrad_.data(),
                        item_dgrad_.data() + off * d, d, false};
    const double loss = timed_task(t, [&] { return head.forward_backward(local, v, fixed.of(t), pool); });
    if (extra) {
      losses.extra[h - 1] = loss;
    } else {
      losses.ranking = loss;
    }
  }
  if (fixed.retrieval != 0.0f) {
    const TaskVectors v{user_emb_.data(), item_emb_.data(), user_dgrad_.data(), item_dgrad_.data(), d, false};
    losses.retrieval = timed_task(static_cast<int>(Task::kRetrieval), [&] {
      return retrieval_.forward_backward_part(local, v, ws.items.data(), n, off, sampled, fixed.retrieval, pool,
                                              losses.score_rows, losses.score_cols);
    });
  }

  {
    PhaseTimer t(p, StepPhase::kReduce);
    // Each item vector's gradient, summed over the ranks' softmax rows, to
    // the rank of its example (the sampled negatives' to the last rank).
    comm.reduce_scatter_rows(item_dgrad_.data(), d, item_bounds, TrafficKind::kBatchReduce);
    // The dense gradients the step computed, end to end, summed in rank order.
    if (!ws.trained_known || !same_weights(ws.trained_for, fixed)) {
      ws.trained = trained_dense_parameters(fixed);
      ws.trained_for = fixed;
      ws.trained_known = true;
    }
    const std::vector<ParameterRef>& params = ws.params;
    const std::vector<bool>& trained = ws.trained;
    int64_t floats = 0;
    for (size_t i = 0; i < params.size(); ++i)
      if (trained[i]) floats += params[i].size;
    ws.dense.resize(static_cast<size_t>(floats));
    counts_.dense_floats += floats;
    int64_t at = 0;
    for (size_t i = 0; i < params.size(); ++i) {
      if (!trained[i]) continue;
      std::copy_n(params[i].grad, params[i].size, ws.dense.data() + at);
      at += params[i].size;
    }
    comm.ordered_sum(ws.dense.data(), floats, TrafficKind::kDenseReduce);
    at = 0;
    for (size_t i = 0; i < params.size(); ++i) {
      if (!trained[i]) continue;
      std::copy_n(ws.dense.data() + at, params[i].size, params[i].grad);
      at += params[i].size;
    }
    // The losses: each rank's are its examples' share of the batch's.
    std::vector<double> l(2 + kMaxExtraTasks + 1);
    l[0] = losses.ranking;
    l[1] = losses.retrieval;
    for (int e = 0; e < kMaxExtraTasks; ++e) l[static_cast<size_t>(2 + e)] = losses.extra[static_cast<size_t>(e)];
    l.back() = static_cast<double>(losses.score_rows);
    comm.ordered_sum(l.data(), static_cast<int64_t>(l.size()), TrafficKind::kControl);
    losses.ranking = l[0];
    losses.retrieval = l[1];
    for (int e = 0; e < kMaxExtraTasks; ++e) losses.extra[static_cast<size_t>(e)] = l[static_cast<size_t>(2 + e)];
    losses.score_rows = static_cast<int64_t>(l.back());
  }
  { PhaseTimer t(p, StepPhase::kWeighting); losses.total = weigh_losses(fixed, fixed, losses); }
  {
    PhaseTimer t(p, StepPhase::kTowersBackward);
    scatter_to_owners(user_grad_, part.users, user_dgrad_.data(), nl, pool);
    scatter_to_owners(item_grad_, ws.items.data() + off, item_dgrad_.data() + off * d, my_items, pool);
  }
  return losses;
}

}  // namespace tandem
