// Training and evaluation progress for people: on a terminal a Keras-like bar
// per epoch redrawn in place (step/total, examples/s, running loss per task,
// ETA); elsewhere (CI logs, pipes) plain lines, at most one per interval plus
// one per epoch; nothing when quiet. It writes to stderr (or a given stream),
// never stdout, so --json output stays clean.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "tandem/experiment/experiment.h"

namespace tandem {

class ProgressDisplay {
 public:
  enum class Mode { kQuiet, kBar, kLines };
  using Clock = std::function<double()>;  // seconds, monotonic

  // kBar when `stream` is a terminal (and TERM is not "dumb"), else kLines;
  // kQuiet when quiet.
  static Mode detect(bool quiet, std::FILE* stream = stderr);

  // `line_interval`: seconds between two plain lines within an epoch.
  ProgressDisplay(Mode mode, std::FILE* out = stderr, double line_interval = 10.0, Clock clock = {});

  // Callbacks for train_and_evaluate; they refer to this object, which must
  // outlive their use.
  EpochCallback on_epoch(int epochs);
  ProgressHooks hooks();

  Mode mode() const { return mode_; }

 private:
  void step(const std::string& model, const StepProgress& p);
  void epoch(const std::string& model, int epochs, const EpochStats& e);
  void eval(const std::string& model, int64_t done, int64_t total);
  std::string bar(int64_t done, int64_t total) const;

  Mode mode_;
  std::FILE* out_;
  double interval_;
  Clock clock_;
  double last_draw_ = -1e300;
  int64_t eval_steps_ = 0;
};

}  // namespace tandem
