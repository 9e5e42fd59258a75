// tandem: train, evaluate and recommend with multi-task recommenders.
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <algorithm>

#include "argument_error.h"
#include "commands.h"
#include "tandem/core/blas_core.h"
#include "tandem/core/edit_distance.h"
#include "tandem/core/error.h"

namespace {

// The subcommands selected on the command line, outermost first, as far as
// the parse got (tandem data prepare: data, prepare).
std::vector<const CLI::App*> selected_chain(const CLI::App& app) {
  std::vector<const CLI::App*> chain;
  const CLI::App* at = &app;
  while (chain.size() < 8) {  // subcommands nest two deep at most
    const std::vector<CLI::App*> selected = at->get_subcommands();
    if (selected.empty()) break;
    at = selected.front();
    chain.push_back(at);
  }
  return chain;
}

// "tandem train", "tandem data prepare"; "tandem" when none was selected.
std::string command_path(const std::vector<const CLI::App*>& chain) {
  std::string path = "tandem";
  for (const CLI::App* sub : chain) path += " " + sub->get_name();
  return path;
}

// When `word` should name one of `parent`'s subcommands and names none: the
// error, with the nearest name suggested (near misses only).
std::optional<std::string> unknown_subcommand(const CLI::App& parent, const std::string& word) {
  const std::vector<const CLI::App*> subs = parent.get_subcommands([](const CLI::App*) { return true; });
  if (subs.empty() || word.empty() || word[0] == '-') return std::nullopt;
  std::string best;
  size_t best_d = 3;
  for (const CLI::App* sub : subs) {
    if (sub->get_name() == word) return std::nullopt;
    const size_t d = tandem::edit_distance(word, sub->get_name());
    if (d < best_d) best_d = d, best = sub->get_name();
  }
  return "unknown subcommand '" + word + "'" + (best.empty() ? "" : " (did you mean '" + best + "'?)");
}

// Every error in the command line, CLI11's or ours, looks alike: one line
// `tandem: error: ...` naming the option, then where the usage is; exit 1
// (docs/bad-input.md).
int argument_error(std::string message, const std::string& command) {
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  while (!message.empty() && message.back() == ' ') message.pop_back();
  std::fprintf(stderr, "tandem: error: %s\nRun '%s --help' for more information.\n", message.c_str(),
               command.c_str());
  return 1;
}

}  // namespace

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
    // --help and --version are "errors" with exit code 0: CLI11 prints them.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    // A mistyped subcommand (tandem trian, tandem data downlaod): name it and
    // suggest the closest one. The names of the selected subcommands come
    // first on the command line, so the word after them is the one to judge.
    const std::vector<const CLI::App*> chain = selected_chain(app);
    const size_t next = chain.size() + 1;
    if (next < static_cast<size_t>(argc)) {
      const CLI::App& parent = chain.empty() ? app : *chain.back();
      if (const auto unknown = unknown_subcommand(parent, argv[next]); unknown && parent.get_subcommands().empty())
        return argument_error(*unknown, command_path(chain));
    }
    return argument_error(e.what(), command_path(chain));
  }
  try {
    for (auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
    }
  } catch (const tandem::cli::ArgumentError& e) {
    return argument_error(e.what(), command_path(selected_chain(app)));
  } catch (const tandem::Error& e) {
    std::fprintf(stderr, "tandem: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem: internal error: %s\n", e.what());
    return 2;
  }
  return 1;
}
