#include "tandem/experiment/resource_guard.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "tandem/core/machine_info.h"
#include "tandem/core/error.h"

namespace tandem {

namespace {

constexpr int64_t kFloat = sizeof(float);
// The softmax computes its score matrix in row blocks of this many rows per
// worker (RetrievalSoftmaxLoss' default), and top-K evaluation caps its GEMM
// scratch at 4M floats (topk.cc).
constexpr int64_t kSoftmaxBlockRows = 256;
constexpr int64_t kEvalScratchFloats = int64_t{4} << 20;

// a * b, saturating instead of overflowing: absurd sizes must still compare
// as absurd rather than wrap to something small.
int64_t mul(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  if (a > std::numeric_limits<int64_t>::max() / b) return std::numeric_limits<int64_t>::max();
  return a * b;
}
int64_t add(int64_t a, int64_t b) {
  return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max() : a + b;
}

}  // namespace

int64_t MemoryEstimate::total() const {
  int64_t t = 0;
  for (const auto& p : parts) t = add(t, p.bytes);
  return t;
}

MemoryEstimate estimate_training_memory(const ExperimentConfig& c, int64_t user_rows,
                                        int64_t item_rows, int64_t train_examples) {
  const int64_t d = c.embedding_dim;
  const int64_t batch = std::min<int64_t>(c.batch_size, std::max<int64_t>(train_examples, 1));
  const int workers = c.parallelism == Parallelism::kBatch ? effective_threads(c) : 1;
  MemoryEstimate e;
  // Weights plus the optimizer's slots (Adagrad 1, Adam 2, SGD 0 or 1) per weight.
  const int64_t slots = static_cast<int64_t>(optimizer_slot_names(c.optimizer).size());
  const std::string state = display_name(c.optimizer.kind) + " state";
  e.parts.push_back({"user embedding table + " + state + " (" + std::to_string(user_rows) +
                         " rows x " + std::to_string(d) + ")",
                     mul(mul(user_rows, d), (1 + slots) * kFloat)});
  e.parts.push_back({"item embedding table + " + state + " (" + std::to_string(item_rows) +
                         " rows x " + std::to_string(d) + ")",
                     mul(mul(item_rows, d), (1 + slots) * kFloat)});
  // Saved with the model: per-user offsets, the seen items, per-item counts.
  e.parts.push_back({"training-interaction index (seen items, popularity)",
                     add(add(mul(add(user_rows, 1), 8), mul(train_examples, 4)), mul(item_rows, 8))});
  // The head reads concat of the ranking task's vectors: embeddings with a
  // shared bottom, expert outputs with mmoe/ple.
  const int64_t td = c.multitask.has_experts() ? c.multitask.expert_dim : d;
  int64_t head_params = 0, widths = 2 * td;
  int64_t in = 2 * td;
  for (int64_t h : c.layer_sizes) {
    head_params = add(head_params, add(mul(in, h), h));
    widths = add(widths, h);
    in = h;
  }
  head_params = add(head_params, in + 1);
  widths = add(widths, 1);
  // Weights, optimizer slots, gradients, and one packed gradient per worker.
  e.parts.push_back({"rating head (weights, " + state + ", per-worker gradients)",
                     mul(head_params, mul(2 + slots + workers, kFloat))});
  // Gathered embeddings and their gradients, activations and their gradients.
  e.parts.push_back({"step workspace (batch " + std::to_string(batch) + ")",
                     mul(batch, mul(add(mul(4, d), mul(2, widths)), kFloat))});
  if (c.multitask.has_experts()) {
    // Per tower: weights, Adagrad state and gradients, and the layer's step
    // workspace (expert activations, gates, per-task outputs and gradients).
    // Their input is the side-feature towers' output when there are towers.
    const MoeLayout layout = c.multitask.moe_layout();
    const FeatureConfig& f = c.side_features;
    const auto user_features = static_cast<int64_t>(f.user.size()) + (f.timestamp_buckets > 0 ? 1 : 0);
    const int64_t in = !f.enabled()              ? d
                       : !f.tower_layers.empty() ? f.tower_layers.back()
                                                 : add(d, mul(user_features, f.feature_dim));
    // The item side's layer also runs over the step's mixed negatives.
    const int64_t weights = mul(moe_parameter_count(in, layout), 3);
    const int64_t workspace = add(moe_workspace_floats(in, layout, batch),
                                  moe_workspace_floats(in, layout, add(batch, c.retrieval.mixed_negatives)));
    e.parts.push_back({"expert layers of both towers (" + to_string(c.multitask.arch) + ")",
                       mul(add(mul(weights, 2), workspace), kFloat)});
  }
  const int64_t score_rows = c.distinct_rows ? std::min(kSoftmaxBlockRows, batch) : batch;
  e.parts.push_back({c.distinct_rows ? "softmax score blocks (per worker)" : "full softmax score matrix",
                     mul(mul(score_rows, batch), mul(workers, 2 * kFloat))});
  e.parts.push_back({"evaluation scratch", mul(kEvalScratchFloats, kFloat)});
  return e;
}

int64_t default_memory_budget() {
  const int64_t physical = physical_memory_bytes();
  if (physical <= 0) return int64_t{8} << 30;  // unknown: a modest default
  return static_cast<int64_t>(static_cast<double>(physical) * 0.8);
}



void check_training_resources(const ExperimentConfig& config, const PreparedData& data) {
  const auto catalogue = static_cast<int64_t>(data.catalogue.size());
  TANDEM_CHECK(config.k <= catalogue, "k = " << config.k << " is above the catalogue size ("
                                             << catalogue << " items): top-" << config.k
                                             << " accuracy would be 1 by definition; use --k <= "
                                             << catalogue);
  MemoryEstimate e = estimate_training_memory(config, data.users.rows(), data.items.rows(),
                                              static_cast<int64_t>(data.train.size()));
  if (config.side_features.enabled()) {
    // Feature tables (weights, Adagrad state, per-row gradient index), tower
    // MLPs (weights, state, gradient) and the towers' per-batch workspace.
    const int64_t batch = std::min<int64_t>(config.batch_size, std::max<int64_t>(static_cast<int64_t>(data.train.size()), 1));
    int64_t bytes = 0;
    for (const TowerSpec* t : {&data.towers.user, &data.towers.item}) {
      // The item tower also runs over the step's mixed negatives.
      const int64_t rows = t == &data.towers.item ? add(batch, config.retrieval.mixed_negatives) : batch;
      bytes = add(bytes, mul(tower_parameter_count(*t, config.embedding_dim), 3 * kFloat));
      int64_t width = tower_concat_dim(*t, config.embedding_dim);
      for (int64_t l : t->layers) width = add(width, l);
      bytes = add(bytes, mul(rows, mul(width, 4 * kFloat)));
      for (const auto& f : t->features) {
        bytes = add(bytes, mul(f.rows, 4));
        bytes = add(bytes, mul(mul(rows, std::max<int64_t>(f.max_bag(), 1)), mul(f.dim + 2, kFloat)));
      }
    }
    e.parts.push_back({"side-feature towers (tables, tower MLPs, step workspace)", bytes});
  }
  const int64_t budget =
      config.memory_budget_bytes > 0 ? config.memory_budget_bytes : default_memory_budget();
  if (e.total() <= budget) return;
  auto parts = e.parts;
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
  std::string detail;
  for (size_t i = 0; i < parts.size() && i < 3; ++i)
    detail += (i ? "; " : "") + parts[i].what + ": " + format_bytes(parts[i].bytes);
  TANDEM_THROW("training would need about " << format_bytes(e.total()) << ", above the memory budget of "
                                            << format_bytes(budget)
                                            << (config.memory_budget_bytes > 0 ? " (--memory-budget)"
                                                                               : " (80% of RAM; --memory-budget)")
                                            << ". Largest parts: " << detail
                                            << (config.id_mode == IdMode::kInteger
                                                    ? ". With integer ids (kerasrs) a table has max id + 1 "
                                                      "rows: check the data for stray large ids"
                                                    : ""));
}

}  // namespace tandem
