#include "cmd_options.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "tandem/config/config_file.h"
#include "tandem/config/task_config.h"
#include "tandem/experiment/resource_guard.h"
#include "tandem/core/error.h"
#include "tandem/data/data_dir.h"

namespace tandem::cli {

void EvaluationOptions::add_to(CLI::App& app) {
  app.add_option("--metrics-at", metrics_at,
                 "K values of the per-user Recall/NDCG/MAP@K, e.g. 10,100 (default 10,100)")
      ->delimiter(',');
  app.add_flag("--exclude-seen", exclude_seen,
               "Evaluate without each user's training items among the candidates (top-K accuracy "
               "and ranking metrics; default: the tutorials' protocol, which keeps them)");
  app.add_option("--positive-threshold", positive_threshold,
                 "AUC label: a test pair is positive when its rating (stars) is at least this "
                 "(default 4)");
}

void EvaluationOptions::apply(ExperimentConfig& c) const {
  if (!metrics_at.empty()) c.metrics_at = metrics_at;
  if (exclude_seen) c.exclude_seen = true;
  if (positive_threshold) c.positive_threshold = *positive_threshold;
}

void ExperimentOptions::add_to(CLI::App& app, bool with_weights) {
  app.add_option("--config,-c", config_file,
                 "Experiment described in a TOML file (see examples/); flags given as well "
                 "override its values")
      ->check(CLI::ExistingFile);
  app.add_option("--preset", preset, "Reference protocol: kerasrs or tfrs")
      ->check(CLI::IsMember(preset_names()))
      ->capture_default_str()
      ->each([this](const std::string&) { preset_given = true; });
  app.add_option("--data", data,
                 "MovieLens-100K directory (u.data, u.item); default $TANDEM_DATA, else "
                 "../shared/data/ml-100k");
  app.add_option("--train", train_file, "Explicit training file in u.data format (with --test)");
  app.add_option("--test", test_file, "Explicit test file in u.data format (with --train)");
  app.add_option("--seed", seed, "Seed for split, initialisation and shuffling (default 42)");
  app.add_option("--init-seed", init_seed,
                 "Seed for initialisation, shuffling and sampling only, keeping --seed's split");
  app.add_option("--train-count", train_count, "Training pairs of the seeded split (default 80000)");
  app.add_option("--test-count", test_count, "Test pairs of the seeded split (default 20000)");
  app.add_option("--embedding-dim", embedding_dim, "Embedding dimension (default 32)");
  app.add_option("--layers", layers, "Rating-head hidden layer sizes, e.g. 256,128")
      ->delimiter(',')
      ->each([this](const std::string&) { layers_given = true; });
  app.add_option("--learning-rate", learning_rate, "Learning rate of the optimizer (default 0.1)");
  optimizer.add_to(app);
  app.add_option("--batch-size", batch_size, "Training batch size (preset: 1000 / 8192)");
  app.add_option("--epochs", epochs, "Training epochs (preset: 5 / 3)");
  app.add_option("--shuffle", shuffle,
                 "Training order: none (the examples' order every epoch; kerasrs), once (one "
                 "shuffled order replayed every epoch; tfrs) or every-epoch (a new order each epoch)")
      ->check(CLI::IsMember({"none", "once", "every-epoch"}));
  app.add_option("--threads", threads, "Threads (default: all cores)");
  app.add_option("--parallelism", parallelism,
                 "How training uses the threads: batch (split each batch between threads) or "
                 "blas (multi-threaded BLAS)")
      ->check(CLI::IsMember({"batch", "blas"}));
  app.add_option("--k", k, "K of the top-K accuracy (preset: 10 / 100)");
  app.add_option("--eval-batch-size", eval_batch_size, "Evaluation batch size");
  evaluation.add_to(app);
  app.add_option("--memory-budget", memory_budget,
                 "Most memory a run may plan to allocate, e.g. 4G or 512M; refused before "
                 "training otherwise (default: 80% of RAM)");
  if (with_weights) {
    app.add_option("--ranking-weight", ranking_weight, "Weight of the ranking loss (MSE unless --ranking-loss) (default 1)");
    app.add_option("--retrieval-weight", retrieval_weight,
                   "Weight of the retrieval (in-batch softmax) loss (default 1)");
  }
  app.add_option("--ranking-loss", ranking_loss,
                 "Ranking task's loss: mse (default; predicts the rating), bce (on rating >= "
                 "--ranking-positive-threshold; predicts its probability), pairwise-logistic, "
                 "pairwise-hinge or softmax-listwise (over each user's examples in a batch; "
                 "predict a score, no rating)")
      ->check(CLI::IsMember(ranking_loss_names()));
  app.add_option("--ranking-margin", ranking_margin, "Margin of the pairwise-hinge loss (default 1)");
  app.add_option("--ranking-positive-threshold", ranking_positive_threshold,
                 "bce: a rating at least this (in stars) is a positive (default 4)");
  app.add_option("--multitask", multitask,
                 "How the tasks share the towers: shared-bottom (default; both read the "
                 "embeddings), mmoe (shared experts, a gate per task) or ple (shared and "
                 "task-specific experts)")
      ->check(CLI::IsMember({"shared-bottom", "mmoe", "ple"}));
  app.add_option("--experts", experts, "Experts per tower with --multitask mmoe (default 4)");
  app.add_option("--shared-experts", shared_experts,
                 "Shared experts per tower with --multitask ple (default 2)");
  app.add_option("--task-experts", task_experts,
                 "Experts of each task per tower with --multitask ple (default 2)");
  app.add_option("--expert-dim", expert_dim,
                 "Width of each expert and of the task vectors with mmoe/ple (default 32)");
  app.add_option("--task-weighting", task_weighting,
                 "fixed (default: the task weights) or uncertainty (learned weights exp(-s_t), "
                 "the fixed ones kept as multipliers)")
      ->check(CLI::IsMember({"fixed", "uncertainty"}));
  app.add_option("--task", tasks,
                 "An extra task NAME:binary:WEIGHT[:THRESHOLD] (repeatable; replaces the config's), "
                 "e.g. liked:binary:1 learns P(rating >= 4 stars)");
  app.add_flag("--full-score-matrix", full_score_matrix,
               "Retrieval loss over the full batch x batch score matrix instead of the batch's "
               "distinct users x distinct items (same loss, more FLOPs when ids repeat)");
  features.add_to(app);
  app.add_option("--temperature", temperature,
                 "Retrieval softmax temperature: logits are scores / T (default 1)");
  app.add_flag("--remove-accidental-hits", remove_accidental_hits,
               "Mask other copies of an example's positive item out of its retrieval softmax");
  app.add_flag("--logq-correction", logq_correction,
               "Subtract log of each candidate's sampling probability (item frequency) from its "
               "retrieval logit, so popular items are not over-penalised as in-batch negatives");
  app.add_option("--hard-negatives", hard_negatives,
                 "Keep only each example's k highest-scoring in-batch negatives (default 0: all)");
  app.add_option("--mixed-negatives", mixed_negatives,
                 "Extra negatives sampled uniformly from the catalogue per batch (default 0)");
  app.add_flag("--json", json, "Machine-readable output: one JSON object per line");
  app.add_flag("--quiet,-q", quiet, "No progress lines on stderr");
  data_options.add_to(app);
}

void ExperimentOptions::apply_overrides(ExperimentConfig& c) const {
  data_options.apply(c);
  if (seed) c.seed = *seed;
  if (init_seed) c.init_seed = *init_seed;
  if (train_count) c.train_count = *train_count;
  if (test_count) c.test_count = *test_count;
  if (embedding_dim) c.embedding_dim = *embedding_dim;
  if (layers_given) c.layer_sizes = layers;
  if (learning_rate) c.optimizer.learning_rate = *learning_rate;
  optimizer.apply(c.optimizer);
  if (batch_size) c.batch_size = *batch_size;
  if (epochs) c.epochs = *epochs;
  if (!shuffle.empty()) c.shuffle = parse_shuffle_mode(shuffle);
  if (!memory_budget.empty()) c.memory_budget_bytes = parse_byte_size(memory_budget);
  if (threads) c.threads = *threads;
  if (!parallelism.empty()) c.parallelism = parse_parallelism(parallelism);
  if (full_score_matrix) c.distinct_rows = false;
  if (!ranking_loss.empty()) c.ranking_loss = parse_ranking_loss(ranking_loss);
  if (ranking_margin) c.ranking_margin = *ranking_margin;
  if (ranking_positive_threshold) c.ranking_positive_threshold = *ranking_positive_threshold;
  if (!multitask.empty()) c.multitask.arch = parse_multitask_arch(multitask);
  if (experts) c.multitask.experts = *experts;
  if (shared_experts) c.multitask.shared_experts = *shared_experts;
  if (task_experts) c.multitask.task_experts = *task_experts;
  if (expert_dim) c.multitask.expert_dim = *expert_dim;
  if (!task_weighting.empty()) c.multitask.weighting = parse_task_weighting(task_weighting);
  if (!tasks.empty()) {
    c.extra_tasks.clear();
    for (const std::string& t : tasks) c.extra_tasks.push_back(parse_extra_task_spec(t));
  }
  if (k) c.k = *k;
  if (eval_batch_size) c.eval_batch_size = *eval_batch_size;
  evaluation.apply(c);
  if (ranking_weight) c.weights.ranking = *ranking_weight;
  if (retrieval_weight) c.weights.retrieval = *retrieval_weight;
  features.apply(c.side_features);
  if (temperature) c.retrieval.temperature = *temperature;
  if (hard_negatives) c.retrieval.hard_negatives = *hard_negatives;
  if (mixed_negatives) c.retrieval.mixed_negatives = *mixed_negatives;
  if (remove_accidental_hits) c.retrieval.remove_accidental_hits = true;
  if (logq_correction) c.retrieval.logq_correction = true;
}

ExperimentConfig ExperimentOptions::resolve() const {
  // Precedence: preset < config file < flags (a --preset flag replaces the
  // file's preset as the base the file's other keys apply to).
  ExperimentConfig c = config_file.empty() ? preset_config(preset)
                                           : load_config_file(config_file, preset_given ? preset : "");
  apply_overrides(c);
  namespace fs = std::filesystem;
  // A data directory from the flag, else from the config file, else the
  // default search ($TANDEM_DATA, ../shared/data/ml-100k).
  const std::string data_arg = !data.empty() ? data : c.data_dir;
  if (!train_file.empty()) c.train_file = fs::absolute(train_file).string();
  if (!test_file.empty()) c.test_file = fs::absolute(test_file).string();
  if (!c.train_file.empty() || !c.test_file.empty() || c.data_format == "csv") {
    // Titles are optional with explicit files (the csv format names its own
    // files): use a data directory if one is found.
    try {
      c.data_dir = fs::absolute(resolve_data_dir(data_arg)).lexically_normal().string();
    } catch (const Error&) {
      if (!data_arg.empty()) throw;
      c.data_dir.clear();
    }
  } else {
    c.data_dir = fs::absolute(resolve_data_dir(data_arg)).lexically_normal().string();
  }
  c.validate();
  return c;
}

ExperimentConfig ExperimentOptions::apply_given(ExperimentConfig c) const {
  if (preset_given) c.preset = preset;
  apply_overrides(c);
  namespace fs = std::filesystem;
  if (!train_file.empty()) c.train_file = fs::absolute(train_file).string();
  if (!test_file.empty()) c.test_file = fs::absolute(test_file).string();
  if (!data.empty()) c.data_dir = fs::absolute(resolve_data_dir(data)).lexically_normal().string();
  return c;
}

std::string rmse_text(double rmse, const ExperimentConfig& config) {
  if (std::isnan(rmse))
    return "n/a (the " + to_string(config.ranking_loss) + " ranking loss predicts no rating)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", rmse);
  return buf;
}

EpochCallback epoch_printer(const ExperimentConfig& config, bool quiet) {
  if (quiet) return {};
  const int epochs = config.epochs;
  return [epochs](const std::string& model, const EpochStats& e) {
    std::fprintf(stderr,
                 "[%s] epoch %d/%d: %lld steps, %.2f s, ranking loss %.4f, retrieval loss %.2f, "
                 "total %.4f, lr %.4g\n",
                 model.c_str(), e.epoch, epochs, static_cast<long long>(e.steps), e.seconds,
                 e.ranking_loss, e.retrieval_loss, e.total_loss, e.learning_rate);
    if (e.learned_task_weights.size() == 2)
      std::fprintf(stderr, "[%s] learned task weights: retrieval %.4g, ranking %.4g\n",
                   model.c_str(), e.learned_task_weights[0], e.learned_task_weights[1]);
  };
}

}  // namespace tandem::cli
