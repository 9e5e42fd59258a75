#include "tandem/experiment/resource_guard.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "tandem/core/machine_info.h"
#include "tandem/core/error.h"
#include "tandem/model/model_plan.h"

namespace tandem {

namespace {

constexpr int64_t kFloat = sizeof(float);
// Top-K evaluation caps its GEMM scratch at 4M floats (topk.cc).
constexpr int64_t kEvalScratchFloats = int64_t{4} << 20;

constexpr const char* kInteractionIndexPart = "training-interaction index (seen items, popularity)";

int64_t mul(int64_t a, int64_t b) { return footprint_mul(a, b); }
int64_t add(int64_t a, int64_t b) { return footprint_add(a, b); }

// The towers' widths as the config gives them, for an estimate made before
// the data is read: one feature of feature_dim per configured name (and the
// timestamp's on the user side), no table rows. Enough for what depends on
// the towers' output width (the step vectors, the expert layers' input).
TowerSpec outline_tower(const FeatureConfig& f, const std::vector<std::string>& names, bool timestamp) {
  TowerSpec t;
  for (const auto& name : names) {
    TowerFeature feature;
    feature.name = name;
    feature.dim = f.feature_dim;
    t.features.push_back(feature);
  }
  if (timestamp) {
    TowerFeature ts;
    ts.name = "timestamp";
    ts.dim = f.feature_dim;
    ts.per_example = true;
    t.features.push_back(ts);
  }
  t.layers = f.tower_layers;
  return t;
}

// The model as experiment.cc builds it: the plan's input.
ModelPlanInput plan_input(const ExperimentConfig& c, int64_t user_rows, int64_t item_rows,
                          int64_t train_examples, TowerSpec user_tower, TowerSpec item_tower) {
  ModelPlanInput in;
  in.shape = model_shape(c, user_rows, item_rows);
  in.shape.user_tower = std::move(user_tower);
  in.shape.item_tower = std::move(item_tower);
  in.max_batch = std::min<int64_t>(c.batch_size, std::max<int64_t>(train_examples, 1));
  const int threads = effective_threads(c);
  in.workers = c.parallelism == Parallelism::kBatch && threads > 1 ? threads : 1;
  in.sampled_items = c.retrieval.mixed_negatives;
  return in;
}

// The estimate's parts, read from the model's plan (model_plan.h); the
// towers' part only when their real specs (table rows) are known.
MemoryEstimate estimate(const ExperimentConfig& c, int64_t user_rows, int64_t item_rows,
                        int64_t train_examples, const ModelPlanInput& in, bool towers_known) {
  const ModelPlan plan = plan_model(in);
  const int64_t d = c.embedding_dim;
  MemoryEstimate e;
  // Weights plus the optimizer's slots (Adagrad 1, Adam 2, SGD 0 or 1) per weight.
  const auto slots = static_cast<int64_t>(optimizer_slot_names(c.optimizer).size());
  const auto with_state = [&](const Footprint& part) {
    return add(part.parameters, optimizer_state_bytes(part, slots));
  };
  const std::string state = display_name(c.optimizer.kind) + " state";
  e.parts.push_back({"user embedding table + " + state + " (" + std::to_string(user_rows) +
                         " rows x " + std::to_string(d) + ")",
                     with_state(plan.user_table)});
  e.parts.push_back({"item embedding table + " + state + " (" + std::to_string(item_rows) +
                         " rows x " + std::to_string(d) + ")",
                     with_state(plan.item_table)});
  // Saved with the model: per-user offsets, the seen items, per-item counts.
  e.parts.push_back({kInteractionIndexPart,
                     add(add(mul(add(user_rows, 1), 8), mul(train_examples, 4)), mul(item_rows, 8))});
  // Weights, optimizer slots, gradients, and one packed gradient per worker.
  const std::string heads = c.extra_tasks.empty()
                                ? std::string("rating head")
                                : "task heads (rating + " + std::to_string(c.extra_tasks.size()) + " extra)";
  e.parts.push_back({heads + " (weights, " + state + ", per-worker gradients)",
                     add(with_state(plan.heads), plan.heads.gradients)});
  // Gathered task vectors and their gradients, the heads' activations and
  // their gradients, the tables' sparse gradients.
  e.parts.push_back({"step workspace (batch " + std::to_string(in.max_batch) + ")",
                     add(plan.heads.workspace, plan.step.bytes())});
  if (c.multitask.has_experts()) {
    // Per tower: weights, optimizer state and gradients, and the layer's step
    // workspace (expert activations, gates, per-task outputs and gradients);
    // the item side's layer also runs over the step's mixed negatives.
    e.parts.push_back({"expert layers of both towers (" + to_string(c.multitask.arch) + ")",
                       add(with_state(plan.experts), add(plan.experts.gradients, plan.experts.workspace))});
  }
  // Score blocks per worker, the batch's distinct rows and their gradients,
  // and what its first steps add (per-worker dC, the item -> column map).
  e.parts.push_back({"retrieval softmax (score blocks per worker, distinct rows)",
                     add(plan.retrieval.bytes(), plan.retrieval_growth_bytes)});
  e.parts.push_back({"evaluation scratch", mul(kEvalScratchFloats, kFloat)});
  if (towers_known && c.side_features.enabled()) {
    // Feature tables (weights, optimizer state, sparse gradients), tower MLPs
    // (weights, state, gradients) and the towers' per-batch workspace.
    e.parts.push_back({"side-feature towers (tables, tower MLPs, step workspace)",
                       add(with_state(plan.towers), add(plan.towers.gradients, plan.towers.workspace))});
  }
  return e;
}

}  // namespace

int64_t MemoryEstimate::total() const {
  int64_t t = 0;
  for (const auto& p : parts) t = add(t, p.bytes);
  return t;
}

MemoryEstimate estimate_training_memory(const ExperimentConfig& c, int64_t user_rows,
                                        int64_t item_rows, int64_t train_examples) {
  const FeatureConfig& f = c.side_features;
  TowerSpec user, item;
  if (f.enabled()) {
    user = outline_tower(f, f.user, f.timestamp_buckets > 0);
    item = outline_tower(f, f.item, false);
  }
  return estimate(c, user_rows, item_rows, train_examples,
                  plan_input(c, user_rows, item_rows, train_examples, std::move(user), std::move(item)),
                  false);
}

MemoryEstimate estimate_training_memory(const ExperimentConfig& c, const PreparedData& data) {
  const auto examples = static_cast<int64_t>(data.train.size());
  return estimate(c, data.users.rows(), data.items.rows(), examples,
                  plan_input(c, data.users.rows(), data.items.rows(), examples, data.towers.user,
                             data.towers.item),
                  true);
}

int64_t default_memory_budget() {
  const int64_t physical = physical_memory_bytes();
  if (physical <= 0) return int64_t{8} << 30;  // unknown: a modest default
  return static_cast<int64_t>(static_cast<double>(physical) * 0.8);
}



namespace {

void check_k(const ExperimentConfig& config, int64_t catalogue) {
  TANDEM_CHECK(config.k <= catalogue, "k = " << config.k << " is above the catalogue size ("
                                             << catalogue << " items): top-" << config.k
                                             << " accuracy would be 1 by definition; use --k <= "
                                             << catalogue);
}

// An embedding table's part (its name starts with `table`, e.g. "user
// embedding table") and where the id that sets its rows was read, as
// "u.data:7: user id 2000000000"; "" when that is unknown.
struct TableIdPlace {
  std::string table;
  std::string id_place;
};

// "u.data:7: user id 2000000000" for `largest` read with integer ids and a
// known line, else "".
std::string id_place(const LargestId& largest, const char* role) {
  const std::string place = largest.place_of(largest.id);
  if (place.empty()) return "";
  return place + ": " + role + " id " + std::to_string(largest.id);
}

void check_within_budget(const ExperimentConfig& config, const MemoryEstimate& e,
                         const std::vector<TableIdPlace>& id_places = {}) {
  const int64_t budget =
      config.memory_budget_bytes > 0 ? config.memory_budget_bytes : default_memory_budget();
  if (e.total() <= budget) return;
  auto parts = e.parts;
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
  std::string detail;
  // Where the largest id of each table among the parts named was read: with
  // integer ids a stray large id is the usual reason for such a table.
  std::string places;
  for (size_t i = 0; i < parts.size() && i < 3; ++i) {
    detail += (i ? "; " : "") + parts[i].what + ": " + format_bytes(parts[i].bytes);
    for (const TableIdPlace& t : id_places)
      if (!t.id_place.empty() && parts[i].what.rfind(t.table, 0) == 0)
        places += (places.empty() ? " (" : "; ") + t.id_place;
  }
  if (!places.empty()) places += ")";
  TANDEM_THROW("training would need about " << format_bytes(e.total()) << ", above the memory budget of "
                                            << format_bytes(budget)
                                            << (config.memory_budget_bytes > 0 ? " (--memory-budget)"
                                                                               : " (80% of RAM; --memory-budget)")
                                            << ". Largest parts: " << detail
                                            << (config.id_mode == IdMode::kInteger
                                                    ? ". With integer ids (kerasrs) a table has max id + 1 "
                                                      "rows: check the data for stray large ids" + places
                                                    : ""));
}

}  // namespace

void check_training_resources(const ExperimentConfig& config, const PreparedData& data) {
  check_k(config, static_cast<int64_t>(data.catalogue.size()));
  check_within_budget(config, estimate_training_memory(config, data),
                      {{"user embedding table", id_place(data.largest_user, "user")},
                       {"item embedding table", id_place(data.largest_item, "item")}});
}

MemoryEstimate estimate_store_training_memory(const ExperimentConfig& config, int64_t user_rows,
                                              int64_t item_rows, int64_t train_examples,
                                              int64_t buffer_bytes, int64_t eval_pairs,
                                              const std::vector<int64_t>* stored_seen_offsets) {
  MemoryEstimate e = estimate_training_memory(config, user_rows, item_rows, train_examples);
  e.parts.push_back({"streaming buffers (shuffle windows read ahead)", buffer_bytes});
  // users, items, labels, raw ratings, timestamps, weights; the evaluation's
  // per-pair scores and ranks.
  e.parts.push_back({"test pairs evaluated (" + std::to_string(eval_pairs) + ")", mul(eval_pairs, 4 * 4 + 8 + 4 + 16)});
  if (stored_seen_offsets == nullptr) {
    e.parts.push_back({"seen-items index build (per-user cursors)", mul(add(user_rows, 1), 8)});
    return e;
  }
  // The index is the store's: held are the offsets (twice: the store's and
  // the model's) and counts; exclude_seen reads the evaluated users' lists,
  // at most those of the eval_pairs users with the longest lists.
  int64_t evaluated_seen = 0;
  if (config.exclude_seen && stored_seen_offsets->size() > 1) {
    std::vector<int64_t> lengths(stored_seen_offsets->size() - 1);
    for (size_t u = 0; u < lengths.size(); ++u) lengths[u] = (*stored_seen_offsets)[u + 1] - (*stored_seen_offsets)[u];
    const auto top = static_cast<size_t>(std::clamp<int64_t>(eval_pairs, 0, static_cast<int64_t>(lengths.size())));
    std::nth_element(lengths.begin(), lengths.begin() + static_cast<std::ptrdiff_t>(top), lengths.end(),
                     std::greater<>());
    for (size_t i = 0; i < top; ++i) evaluated_seen = add(evaluated_seen, lengths[i]);
  }
  for (auto& part : e.parts)
    if (part.what == kInteractionIndexPart)
      part.bytes = add(add(mul(add(user_rows, 1), 16), mul(item_rows, 16)), mul(evaluated_seen, 4));
  return e;
}

void check_store_training_resources(const ExperimentConfig& config, int64_t catalogue_size,
                                    const MemoryEstimate& estimate) {
  check_k(config, catalogue_size);
  check_within_budget(config, estimate);
}

}  // namespace tandem
