// tandem train: one model, saved to --output; optionally checkpointed
// (--checkpoint-dir, --checkpoint-every) and resumed (--resume).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "argument_error.h"
#include "cmd_options.h"
#include "commands.h"
#include "tandem/artifact/checkpoint_dir.h"
#include "tandem/artifact/rank_checkpoints.h"
#include "tandem/dist/mpi_communicator.h"
#include "tandem/evaluate/eval_summary.h"
#include "tandem/experiment/experiment.h"
#include "tandem/experiment/progress_display.h"
#include "tandem/config/resume_config.h"
#include "tandem/core/error.h"
#include "tandem/core/memory_bandwidth.h"
#include "tandem/core/writable_path.h"
#include "tandem/prepare/prepared_store.h"

namespace tandem::cli {

namespace {

struct TrainOptions {
  std::string output, checkpoint_dir, checkpoint_every, resume, prepared;
  bool profile = false;
};

std::function<void(const CheckpointWritten&)> checkpoint_printer(bool quiet) {
  if (quiet) return {};
  return [](const CheckpointWritten& w) {
    std::fprintf(stderr, "[custom] checkpoint %s: step %lld, %.2f MB in %.1f ms\n", w.path.c_str(),
                 static_cast<long long>(w.global_step), static_cast<double>(w.bytes) / 1e6,
                 w.seconds * 1e3);
  };
}

int run_train(const std::shared_ptr<ExperimentOptions>& opts, const std::shared_ptr<TrainOptions>& o,
              Ranks ranks);

}  // namespace

Action add_train(CLI::App& app) {
  auto opts = std::make_shared<ExperimentOptions>();
  auto o = std::make_shared<TrainOptions>();
  opts->add_to(app, /*with_weights=*/true);
  app.add_option("--output,-o", o->output, "Model file to write (atomically)");
  CLI::Option* dir =
      app.add_option("--checkpoint-dir", o->checkpoint_dir,
                     "Write checkpoints into DIR (atomically; the newest 2 are kept, and one "
                     "more when training ends). DIR must hold no checkpoints yet");
  app.add_option("--checkpoint-every", o->checkpoint_every,
                 "How often to checkpoint: every N steps (500 or 500steps) or every N epochs "
                 "(epoch, 2epochs). Default: every epoch");
  app.add_option("--resume", o->resume,
                 "Continue the run checkpointed in DIR from its newest intact checkpoint (damaged "
                 "ones are skipped with a warning) and keep checkpointing there. The run's config, "
                 "--output and --checkpoint-every come from the checkpoint; flags given must agree, "
                 "except --data/--train/--test (same content), --epochs (to extend) and "
                 "evaluation settings")
      ->excludes(dir);
  app.add_flag("--profile", o->profile,
               "Report where the training steps' time went: wall seconds per phase (shuffle, batch "
               "gather, towers, each task, reduction of the workers' gradients, backward and "
               "scatter, optimizer updates), the serial fraction and Amdahl's bound, and the "
               "estimated bytes per step against the memory bandwidth measured after training "
               "(JSON: \"profile\", with \"memory_traffic\")");
  app.add_option("--prepared", o->prepared,
                 "Train from the example store in DIR (written by tandem data prepare --output DIR) "
                 "instead of --data: the examples are streamed from disk in a block-shuffled order, "
                 "never loaded whole; the store's data settings (split, ids, labels) apply");
  return [opts, o] {
    // Under mpirun, one rank of a job (docs/distributed.md); alone otherwise.
    std::unique_ptr<MpiCommunicator> mpi;
    if (launched_by_mpi()) mpi = std::make_unique<MpiCommunicator>();
    const Ranks ranks{mpi.get()};
    if (!ranks.distributed()) return run_train(opts, o, ranks);
    try {
      return run_train(opts, o, ranks);
    } catch (const std::exception& e) {
      // The other ranks wait in a collective for this one: end the job.
      std::fprintf(stderr, "tandem: error on rank %d of %d: %s\n", ranks.rank(), ranks.size(), e.what());
      MpiCommunicator::abort_job(1);
    }
  };
}

namespace {

int run_train(const std::shared_ptr<ExperimentOptions>& opts, const std::shared_ptr<TrainOptions>& o,
              Ranks ranks) {
  {
    namespace fs = std::filesystem;
    // Rank 0 alone reports and writes; the others train quietly.
    const bool lead = ranks.rank() == 0;
    if (!lead) opts->quiet = true;
    std::optional<ResumePoint> resume;
    ExperimentConfig c;
    std::string output = o->output.empty() ? "" : fs::absolute(o->output).string();
    std::string every = o->checkpoint_every;
    Checkpointing ck;
    if (!o->resume.empty()) {
      resume = find_rank_resume_point(o->resume, ranks.rank(), ranks.size());
      for (const auto& s : resume->skipped)
        std::fprintf(stderr, "tandem: warning: skipping damaged checkpoint: %s\n", s.reason.c_str());
      const Checkpoint& from = resume->checkpoint;
      c = resume_config(from.run.config, opts->apply_given(from.run.config),
                        from.trainer.epochs_done, resume->path);
      // --threads 0 means all cores, which another machine counts differently;
      // the batch-splitting sums, and so the result, depend on the count.
      const int threads_before = from.run.settings.value("threads", 0);
      if (threads_before > 0 && threads_before != effective_threads(c))
        std::fprintf(stderr,
                     "tandem: warning: the checkpointed run used %d threads, this one uses %d: "
                     "training continues, but not bit for bit as the original run would have\n",
                     threads_before, effective_threads(c));
      if (output.empty()) output = from.run.settings.value("output", "");
      if (every.empty()) every = from.run.settings.value("checkpoint_every", "epoch");
      if (o->prepared.empty()) o->prepared = from.run.settings.value("prepared", "");
      ck.dir = o->resume;
      ck.resume = &*resume;
    } else {
      TANDEM_ARGUMENT_CHECK(!o->checkpoint_dir.empty() || every.empty(),
                            "--checkpoint-every needs --checkpoint-dir (or --resume)");
      c = opts->resolve(/*need_data=*/o->prepared.empty());
      ck.dir = o->checkpoint_dir;
      if (every.empty()) every = "epoch";
    }
    // Where the run writes, checked before any data is loaded or step taken:
    // a model that trains for an hour and then cannot be saved is lost.
    if (lead && !output.empty()) require_creatable_file(output, "--output");
    if (!ck.dir.empty()) require_writable_directory(ck.dir, resume ? "--resume" : "--checkpoint-dir");
    std::optional<PreparedStore> store;
    if (!o->prepared.empty()) {
      store = open_prepared_store(o->prepared);
      c = with_store_data(c, *store);
    }
    ck.schedule = as_argument_error([&] { return parse_checkpoint_every(every); });
    ck.settings = {{"output", output},
                   {"checkpoint_every", ck.schedule.text()},
                   {"threads", effective_threads(c)}};
    if (store) ck.settings["prepared"] = fs::absolute(o->prepared).string();
    ck.on_write = checkpoint_printer(opts->quiet);
    if (resume && !opts->quiet) {
      const TrainerState& s = resume->checkpoint.trainer;
      std::fprintf(stderr, "[custom] resuming from %s: step %lld (%d epochs done, step %lld of epoch %d)\n",
                   resume->path.c_str(), static_cast<long long>(s.global_step), s.epochs_done,
                   static_cast<long long>(s.step_in_epoch), s.epochs_done + 1);
    }

    ProgressDisplay progress(ProgressDisplay::detect(opts->quiet));
    const ProgressHooks hooks = progress.hooks();
    std::string source;
    int64_t train_pairs = 0;
    auto [model, result] = [&] {
      if (store) {
        source = store->source + " (store " + o->prepared + ")";
        train_pairs = store->train.rows;
        return train_and_evaluate_store(c, *store, "custom", progress.on_epoch(c.epochs),
                                        ck.dir.empty() ? nullptr : &ck, &hooks, ranks);
      }
      const PreparedData data = prepare_data(c);
      source = data.source;
      train_pairs = static_cast<int64_t>(data.train.size());
      return train_and_evaluate(c, data, "custom", progress.on_epoch(c.epochs), ck.dir.empty() ? nullptr : &ck,
                                &hooks, ranks);
    }();
    if (!lead) return 0;
    if (!output.empty()) save_model(output, model);
    // The profile's memory traffic against the bandwidth measured now, on
    // the run's threads (a few seconds: three arrays of 64-256 MiB).
    std::optional<MemoryBandwidth> bandwidth;
    // Under a memory budget the arrays take at most an eighth of it each, so
    // that measuring never lifts the run's peak above the budget.
    if (o->profile) {
      int64_t array_bytes = default_stream_array_bytes();
      if (c.memory_budget_bytes > 0)
        array_bytes = std::min(array_bytes, std::max<int64_t>(int64_t{8} << 20, c.memory_budget_bytes / 8));
      bandwidth = measure_memory_bandwidth(effective_threads(c), array_bytes);
    }
    const double step_seconds =
        result.profile.steps > 0 ? result.profile.step_seconds / static_cast<double>(result.profile.steps) : 0.0;
    if (opts->json) {
      nlohmann::json j = result.to_json();
      j["output"] = output;
      j["world_size"] = ranks.size();
      if (!result.distributed.is_null()) j["distributed"] = result.distributed;
      if (o->profile) {
        j["profile"] = result.profile.to_json();
        j["profile"]["memory_traffic"] = result.traffic.to_json(step_seconds, bandwidth->triad_gbs);
        j["profile"]["memory_traffic"]["bandwidth"] = bandwidth->to_json();
      }
      if (resume) {
        j["resumed_from"] = resume->path;
        j["resumed_at_step"] = resume->checkpoint.trainer.global_step;
      }
      std::cout << j.dump() << std::endl;
    } else {
      std::printf("Trained on %s: %lld train pairs, %lld test pairs evaluated.\n", source.c_str(),
                  static_cast<long long>(train_pairs), static_cast<long long>(result.eval.evaluated));
      std::printf("top-%lld accuracy %.4f, RMSE %s, training %.2f s\n",
                  static_cast<long long>(c.k), result.eval.topk_accuracy,
                  rmse_text(result.eval.rmse, c).c_str(), result.train_seconds);
      const std::string ranking = ranking_summary(result.eval);
      if (!ranking.empty()) std::printf("%s\n", ranking.c_str());
      if (!output.empty()) {
        std::printf("Model saved to %s\n", output.c_str());
      } else {
        std::printf("No --output given: the model was not saved.\n");
      }
      if (o->profile) {
        std::printf("%s", result.profile.table().c_str());
        std::printf("%s", result.traffic.summary(step_seconds, bandwidth->triad_gbs).c_str());
      }
    }
    return 0;
  }
}

}  // namespace

}  // namespace tandem::cli
