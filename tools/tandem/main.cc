// tandem: train, evaluate and recommend with multi-task recommenders.
#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <vector>
#include <algorithm>

#include "commands.h"
#include "tandem/core/blas_core.h"
#include "tandem/core/edit_distance.h"
#include "tandem/core/error.h"

int main(int argc, char** argv) {
  // Before anything else: OpenBLAS reads its kernel choice only at load time.
  tandem::reexec_with_preferred_blas_core(argv);
  CLI::App app{
      "tandem: multi-task (retrieval + ranking) recommenders, trained and served natively.\n"
      "Reproduces the TFRS and Keras-RS multi-task tutorials (--preset tfrs|kerasrs)."};
  app.require_subcommand(1);
  app.footer(
      "\nExamples:\n"
      "  tandem compare --preset kerasrs                 the Keras-RS tutorial's table\n"
      "  tandem train --config examples/tfrs.toml --output m.tandem\n"
      "  tandem recommend --model m.tandem --user 5 --k 10\n"
      "  tandem serve --model m.tandem --port 8080\n"
      "Data: --data DIR, else $TANDEM_DATA, else ../shared/data/ml-100k (MovieLens-100K:\n"
      "u.data and u.item from https://grouplens.org/datasets/movielens/100k/).\n"
      "Each subcommand has --help; README.md and docs/ have the rest.");
  std::map<CLI::App*, tandem::cli::Action> actions;
  auto add = [&](const char* name, const char* help, auto registrar) {
    CLI::App* sub = app.add_subcommand(name, help);
    actions[sub] = registrar(*sub);
    return sub;
  };
  add("compare", "Train rating-only, retrieval-only and joint models on one split; print the table",
      tandem::cli::add_compare)
      ->footer("\nExample: tandem compare --preset tfrs --seed 3 --output-dir out/tfrs");
  add("train", "Train one model and save it (--output FILE)", tandem::cli::add_train)
      ->footer("\nExamples:\n"
               "  tandem train --preset kerasrs --ranking-weight 1 --retrieval-weight 0.3 --output m.tandem\n"
               "  tandem train --config examples/kerasrs.toml --epochs 10 --checkpoint-dir ck --output m.tandem\n"
               "  tandem train --resume ck");
  add("evaluate", "Evaluate a saved model on its own test split or on --test FILE",
      tandem::cli::add_evaluate);
  add("recommend", "Top-k items for a user from a saved model, with predicted ratings",
      tandem::cli::add_recommend)
      ->footer("\nExample: tandem recommend --model m.tandem --user 5 --k 10 --candidates 100 --exclude-seen");
  add("synth", "Generate a synthetic interaction log in u.data format", tandem::cli::add_synth);
  add("bench", "Measure training and evaluation speed, memory and scaling on this machine",
      tandem::cli::add_bench);
  add("serve", "Serve a saved model over HTTP (recommend, score, similar, metrics)", tandem::cli::add_serve)
      ->footer("\nThen: curl -X POST localhost:8080/v1/recommend -d '{\"user_id\": \"5\", \"k\": 10, "
               "\"candidates\": 100}'\nEndpoints, errors and limits: docs/serving.md");
  add("index", "Saved ANN indexes: index build saves a model's HNSW graph", tandem::cli::add_index);
  add("index-eval", "Recall and latency of HNSW against exact top-k search", tandem::cli::add_index_eval);
  add("config", "Show the effective experiment configuration (--print) as TOML", tandem::cli::add_config);
  add("data", "Download MovieLens into a local cache (download), or list what it holds (list)", tandem::cli::add_data);
  add("sweep", "One model per ranking:retrieval loss-weight pair, with the Pareto front", tandem::cli::add_sweep);
  add("report", "A sweep's self-contained HTML report (charts, metrics, recommendations)", tandem::cli::add_report);
  add("export", "A saved model as numpy .npz or safetensors (embeddings, ids, weights, config)", tandem::cli::add_export);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A mistyped subcommand: name it and suggest the closest one.
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) known = known || (argc > 1 && sub->get_name() == argv[1]);
    if (argc > 1 && argv[1][0] != '-' && !known) {
      std::string best;
      size_t best_d = 3;  // suggest only near misses
      for (const CLI::App* sub : app.get_subcommands({})) {
        const size_t d = tandem::edit_distance(argv[1], sub->get_name());
        if (d < best_d) best_d = d, best = sub->get_name();
      }
      std::fprintf(stderr, "tandem: error: unknown subcommand '%s'%s; see tandem --help\n", argv[1],
                   best.empty() ? "" : (" (did you mean '" + best + "'?)").c_str());
      return 1;
    }
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
