// tandem: train, evaluate and recommend with multi-task recommenders.
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "commands.h"
#include "tandem/core/blas_core.h"
#include "tandem/core/error.h"

int main(int argc, char** argv) {
  // Before anything else: OpenBLAS reads its kernel choice only at load time.
  tandem::reexec_with_preferred_blas_core(argv);
  CLI::App app{
      "tandem: multi-task (retrieval + ranking) recommenders, trained and served natively.\n"
      "Reproduces the TFRS and Keras-RS multi-task tutorials (--preset tfrs|kerasrs)."};
  app.require_subcommand(1);
  std::map<CLI::App*, tandem::cli::Action> actions;
  auto add = [&](const char* name, const char* help, auto registrar) {
    CLI::App* sub = app.add_subcommand(name, help);
    actions[sub] = registrar(*sub);
  };
  add("compare", "Train rating-only, retrieval-only and joint models on one split; print the table",
      tandem::cli::add_compare);
  add("train", "Train one model and save it (--output FILE)", tandem::cli::add_train);
  add("evaluate", "Evaluate a saved model on its own test split or on --test FILE",
      tandem::cli::add_evaluate);
  add("recommend", "Top-k items for a user from a saved model, with predicted ratings",
      tandem::cli::add_recommend);
  add("synth", "Generate a synthetic interaction log in u.data format", tandem::cli::add_synth);
  add("bench", "Measure training and evaluation speed, memory and scaling on this machine",
      tandem::cli::add_bench);
  add("serve", "Serve a saved model over HTTP (recommend, score, similar, metrics)", tandem::cli::add_serve);
  add("index-eval", "Recall and latency of HNSW against exact top-k search", tandem::cli::add_index_eval);
  add("sweep", "One model per ranking:retrieval loss-weight pair, with the Pareto front", tandem::cli::add_sweep);
  add("report", "A sweep's self-contained HTML report (charts, metrics, recommendations)", tandem::cli::add_report);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
    }
  } catch (const tandem::Error& e) {
    std::fprintf(stderr, "tandem: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem: internal error: %s\n", e.what());
    return 2;
  }
  return 1;
}
