// Everything that defines one experiment: data, model, training, evaluation.
// Presets reproduce the two reference tutorials; every field can be
// overridden from the command line, and the whole config travels inside the
// model file so that evaluate can re-create the same split.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/config/feature_config.h"
#include "tandem/data/csv_ratings.h"
#include "tandem/data/time_split.h"
#include "tandem/model/multitask_model.h"
#include "tandem/model/ranking_loss.h"
#include "tandem/train/optimizer_config.h"
#include "tandem/train/trainer.h"

namespace tandem {

// How raw ids become embedding rows.
enum class IdMode {
  kInteger,     // Keras-RS: the id is the row (table sized max id + 1)
  kVocabulary,  // TFRS: StringLookup-like vocabulary with one OOV row
};

// What the ranking task learns from a rating r.
enum class LabelTransform {
  kRaw,           // r itself (TFRS: stars 1..5)
  kUnitInterval,  // (r - 1) / 4 (Keras-RS)
};

// What an item's embedding row stands for.
enum class ItemKey {
  kId,     // each item id its own row (Keras-RS; every other layout)
  kTitle,  // each distinct title one row (TFRS: StringLookup over movie titles,
           // so two movies with one title share a row); needs vocabulary ids
};

enum class Parallelism { kBatch, kBlas };

struct ExperimentConfig {
  std::string preset;

  // Data.
  std::string data_dir;    // holds u.data (seeded split) and u.item (titles), or another layout
  // "auto" (detected from the files in data_dir) or a DatasetLayout name.
  std::string data_format = "auto";
  // Format "csv": the ratings (and items) files and how their columns map.
  CsvRatingsSpec csv;
  // How train and test are drawn (data/time_split.h); the time split keeps
  // the earliest time_cut_fraction, or what precedes time_cut_timestamp.
  SplitStrategy split = SplitStrategy::kRandom;
  double time_cut_fraction = 0.8;
  std::optional<int64_t> time_cut_timestamp;
  std::string train_file;  // explicit split instead of the seeded one ...
  std::string test_file;   // ... both or neither
  IdMode id_mode = IdMode::kInteger;
  ItemKey item_key = ItemKey::kId;
  LabelTransform label_transform = LabelTransform::kUnitInterval;
  uint64_t seed = 42;  // split, initialisation and shuffling
  int64_t train_count = 80000;
  int64_t test_count = 20000;

  // Model.
  int64_t embedding_dim = 32;
  std::vector<int64_t> layer_sizes = {256, 128};
  TaskWeights weights;
  // Side features and towers (off by default).
  FeatureConfig side_features;
  // Retrieval softmax options (all off in the presets).
  RetrievalLossOptions retrieval;
  // Shared bottom (default) or mmoe/ple towers, and fixed (default) or
  // learned task weights (see model/multitask_architecture.h).
  MultitaskSpec multitask;
  // Tasks beyond retrieval and rating (config/task_config.h); none by default.
  std::vector<ExtraTaskSpec> extra_tasks;

  // Training.
  OptimizerConfig optimizer;  // Adagrad at 0.1 unless configured (optimizer_config.h)
  int64_t batch_size = 1000;
  int epochs = 5;
  ShuffleMode shuffle = ShuffleMode::kNone;
  // Seeds initialisation, shuffling and sampling apart from the split: runs
  // that differ only in it train on the same split (unset: `seed`).
  std::optional<uint64_t> init_seed;
  uint64_t training_seed() const { return init_seed.value_or(seed); }
  int threads = 0;  // 0 = all cores
  // How training uses the threads: split each batch between worker threads
  // (each calling a single-threaded BLAS), or hand them to the BLAS.
  Parallelism parallelism = Parallelism::kBatch;
  // Pin the training threads (workers 1..) to their own cores when the
  // process may use at least as many CPUs as it runs threads.
  bool pin_threads = true;
  // Retrieval loss over the batch's distinct users x distinct items (exact,
  // fewer FLOPs when ids repeat) instead of the full batch x batch matrix.
  bool distinct_rows = true;
  // Training from a store (tandem train --prepared): examples per block and
  // blocks per shuffle window of the streaming order (train/block_shuffle.h).
  int64_t stream_block_rows = 65536;
  int64_t stream_window_blocks = 4;
  // Precision of the retrieval softmax's score GEMMs (forward and
  // gradients); bfloat16 needs an OpenBLAS with cblas_sbgemm.
  blas::GemmPrecision softmax_precision = blas::GemmPrecision::kFloat32;
  // The ranking task's loss (model/ranking_loss.h); mse is the tutorials'.
  // Under any other loss the head's output is no rating (see
  // evaluate/ranking_output.h): RMSE is not reported and serving labels it.
  RankingLossKind ranking_loss = RankingLossKind::kMse;
  float ranking_margin = 1.0f;  // pairwise-hinge's margin
  // bce: a rating >= this, on the raw rating scale (stars), is a positive.
  float ranking_positive_threshold = 4.0f;

  // Evaluation.
  int64_t k = 10;
  // Further k values whose accuracy is reported beside k's (accuracy_at).
  std::vector<int64_t> accuracy_at = {1, 5, 10, 50, 100};
  int64_t eval_batch_size = 1000;
  // Evaluate on the first this many test pairs only (0: all of them); for
  // test splits too large to score against the whole catalogue.
  int64_t eval_max_pairs = 0;
  // Largest memory a training run may plan to allocate (see resource_guard.h);
  // 0: 80% of physical memory.
  int64_t memory_budget_bytes = 0;
  // Only test pairs rated at least this count towards top-K accuracy
  // (Keras-RS counts 5-star pairs only); unset = all pairs.
  std::optional<float> topk_min_rating;
  // Per-user ranking metrics (Recall, NDCG, MAP at each of these K; MRR).
  std::vector<int64_t> metrics_at = {10, 100};
  // Remove each user's training items from the candidates before ranking
  // (top-K accuracy and ranking metrics alike); off = the tutorials' protocol.
  bool exclude_seen = false;
  // AUC label: a test pair is positive when its raw rating is >= this.
  float positive_threshold = 4.0f;

  bool explicit_split() const { return !train_file.empty(); }
  // Checks ranges and consistency; throws tandem::Error naming the field.
  void validate() const;

  // The config's JSON (model files, checkpoints, run records): every
  // setting of the registry (settings.h) at its TOML path, e.g.
  // {"training": {"full_score_matrix": false, ...}, ...}. from_json also
  // reads the keys of files written before the registry ("train.distinct_rows",
  // "evaluate.eval_batch_size", ...); absent settings keep their defaults.
  nlohmann::json to_json() const;
  static ExperimentConfig from_json(const nlohmann::json& j);
};

// "kerasrs" or "tfrs"; anything else is an error listing the presets.
ExperimentConfig preset_config(const std::string& name);
std::vector<std::string> preset_names();

float transform_label(LabelTransform t, float rating);
float rating_from_label(LabelTransform t, float label);

std::string to_string(IdMode m);
std::string to_string(ItemKey k);
// "id" or "title"; anything else is an error naming them.
ItemKey parse_item_key(const std::string& s);
std::string to_string(Parallelism p);
Parallelism parse_parallelism(const std::string& s);
// The model shape this config gives for tables of these sizes.
ModelShape model_shape(const ExperimentConfig& config, int64_t user_rows, int64_t item_rows);
// config.threads, or the machine's core count when it is 0.
int effective_threads(const ExperimentConfig& config);
std::string to_string(LabelTransform t);

}  // namespace tandem
