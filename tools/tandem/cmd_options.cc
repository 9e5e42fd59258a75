#include "cmd_options.h"

#include <cstdio>
#include <filesystem>

#include "tandem/app/config_file.h"
#include "tandem/app/resource_guard.h"
#include "tandem/core/error.h"
#include "tandem/data/data_dir.h"

namespace tandem::cli {

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
  app.add_option("--train-count", train_count, "Training pairs of the seeded split (default 80000)");
  app.add_option("--test-count", test_count, "Test pairs of the seeded split (default 20000)");
  app.add_option("--embedding-dim", embedding_dim, "Embedding dimension (default 32)");
  app.add_option("--layers", layers, "Rating-head hidden layer sizes, e.g. 256,128")
      ->delimiter(',')
      ->each([this](const std::string&) { layers_given = true; });
  app.add_option("--learning-rate", learning_rate, "Adagrad learning rate (default 0.1)");
  app.add_option("--batch-size", batch_size, "Training batch size (preset: 1000 / 8192)");
  app.add_option("--epochs", epochs, "Training epochs (preset: 5 / 3)");
  app.add_option("--threads", threads, "Threads (default: all cores)");
  app.add_option("--parallelism", parallelism,
                 "How training uses the threads: batch (split each batch between threads) or "
                 "blas (multi-threaded BLAS)")
      ->check(CLI::IsMember({"batch", "blas"}));
  app.add_option("--k", k, "K of the top-K accuracy (preset: 10 / 100)");
  app.add_option("--eval-batch-size", eval_batch_size, "Evaluation batch size");
  app.add_option("--memory-budget", memory_budget,
                 "Most memory a run may plan to allocate, e.g. 4G or 512M; refused before "
                 "training otherwise (default: 80% of RAM)");
  if (with_weights) {
    app.add_option("--ranking-weight", ranking_weight, "Weight of the ranking (MSE) loss (default 1)");
    app.add_option("--retrieval-weight", retrieval_weight,
                   "Weight of the retrieval (in-batch softmax) loss (default 1)");
  }
  app.add_flag("--full-score-matrix", full_score_matrix,
               "Retrieval loss over the full batch x batch score matrix instead of the batch's "
               "distinct users x distinct items (same loss, more FLOPs when ids repeat)");
  app.add_flag("--json", json, "Machine-readable output: one JSON object per line");
  app.add_flag("--quiet,-q", quiet, "No progress lines on stderr");
  data_options.add_to(app);
}

void ExperimentOptions::apply_overrides(ExperimentConfig& c) const {
  data_options.apply(c);
  if (seed) c.seed = *seed;
  if (train_count) c.train_count = *train_count;
  if (test_count) c.test_count = *test_count;
  if (embedding_dim) c.embedding_dim = *embedding_dim;
  if (layers_given) c.layer_sizes = layers;
  if (learning_rate) c.adagrad.learning_rate = *learning_rate;
  if (batch_size) c.batch_size = *batch_size;
  if (epochs) c.epochs = *epochs;
  if (!memory_budget.empty()) c.memory_budget_bytes = parse_byte_size(memory_budget);
  if (threads) c.threads = *threads;
  if (!parallelism.empty()) c.parallelism = parse_parallelism(parallelism);
  if (full_score_matrix) c.distinct_rows = false;
  if (k) c.k = *k;
  if (eval_batch_size) c.eval_batch_size = *eval_batch_size;
  if (ranking_weight) c.weights.ranking = *ranking_weight;
  if (retrieval_weight) c.weights.retrieval = *retrieval_weight;
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

EpochCallback epoch_printer(const ExperimentConfig& config, bool quiet) {
  if (quiet) return {};
  const int epochs = config.epochs;
  return [epochs](const std::string& model, const EpochStats& e) {
    std::fprintf(stderr,
                 "[%s] epoch %d/%d: %lld steps, %.2f s, ranking loss %.4f, retrieval loss %.2f, "
                 "total %.4f\n",
                 model.c_str(), e.epoch, epochs, static_cast<long long>(e.steps), e.seconds,
                 e.ranking_loss, e.retrieval_loss, e.total_loss);
  };
}

}  // namespace tandem::cli
