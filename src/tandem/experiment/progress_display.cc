#include "tandem/experiment/progress_display.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace tandem {

namespace {

constexpr int kBarWidth = 30;
constexpr double kRedrawSeconds = 0.1;  // a terminal redraw at most this often

std::string seconds_text(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, static_cast<int>(s) / 60 % 60);
  }
  return buf;
}

std::string rate_text(double examples, double seconds) {
  char buf[32];
  const double r = seconds > 0 ? examples / seconds : 0.0;
  if (r >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2fM ex/s", r / 1e6);
  } else if (r >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1fk ex/s", r / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f ex/s", r);
  }
  return buf;
}

}  // namespace

ProgressDisplay::Mode ProgressDisplay::detect(bool quiet, std::FILE* stream) {
  if (quiet) return Mode::kQuiet;
  const char* term = std::getenv("TERM");
  const bool dumb = term != nullptr && std::strcmp(term, "dumb") == 0;
  return isatty(fileno(stream)) && !dumb ? Mode::kBar : Mode::kLines;
}

ProgressDisplay::ProgressDisplay(Mode mode, std::FILE* out, double line_interval, Clock clock)
    : mode_(mode), out_(out), interval_(line_interval), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    };
  }
}

std::string ProgressDisplay::bar(int64_t done, int64_t total) const {
  const int filled = total > 0 ? static_cast<int>(kBarWidth * done / total) : kBarWidth;
  std::string b = "[";
  for (int i = 0; i < kBarWidth; ++i) b += i < filled ? '=' : (i == filled ? '>' : '.');
  if (filled >= kBarWidth) b.back() = '=';
  return b + "]";
}

void ProgressDisplay::step(const std::string& model, const StepProgress& p) {
  if (mode_ == Mode::kQuiet) return;
  const double now = clock_();
  if (mode_ == Mode::kLines && last_draw_ < -1e299) {
    last_draw_ = now;  // a plain line only once an interval of the epoch has passed
    return;
  }
  const double wait = mode_ == Mode::kBar ? kRedrawSeconds : interval_;
  if (now - last_draw_ < wait) return;
  last_draw_ = now;
  const double per_step = p.step > 0 ? p.seconds / static_cast<double>(p.step) : 0.0;
  const double eta = per_step * static_cast<double>(p.steps - p.step);
  if (mode_ == Mode::kBar) {
    std::fprintf(out_, "\r\033[K[%s] Epoch %d/%d %lld/%lld %s %s - ranking %.4f - retrieval %.4g - ETA %s",
                 model.c_str(), p.epoch, p.epochs, static_cast<long long>(p.step),
                 static_cast<long long>(p.steps), bar(p.step, p.steps).c_str(),
                 rate_text(static_cast<double>(p.examples), p.seconds).c_str(), p.ranking_loss,
                 p.retrieval_loss, seconds_text(eta).c_str());
  } else {
    std::fprintf(out_, "[%s] epoch %d/%d: step %lld/%lld, %s, ranking loss %.4f, retrieval loss %.4g, ETA %s\n",
                 model.c_str(), p.epoch, p.epochs, static_cast<long long>(p.step),
                 static_cast<long long>(p.steps), rate_text(static_cast<double>(p.examples), p.seconds).c_str(),
                 p.ranking_loss, p.retrieval_loss, seconds_text(eta).c_str());
  }
  std::fflush(out_);
}

void ProgressDisplay::epoch(const std::string& model, int epochs, const EpochStats& e) {
  if (mode_ == Mode::kQuiet) return;
  if (mode_ == Mode::kBar) {
    std::fprintf(out_, "\r\033[K[%s] Epoch %d/%d %lld/%lld %s %s - %s - ranking %.4f - retrieval %.4g - total %.4g - lr %.4g\n",
                 model.c_str(), e.epoch, epochs, static_cast<long long>(e.steps),
                 static_cast<long long>(e.steps), bar(1, 1).c_str(), seconds_text(e.seconds).c_str(),
                 rate_text(static_cast<double>(e.examples), e.seconds).c_str(), e.ranking_loss,
                 e.retrieval_loss, e.total_loss, e.learning_rate);
  } else {
    std::fprintf(out_,
                 "[%s] epoch %d/%d: %lld steps, %.2f s, %s, ranking loss %.4f, retrieval loss %.4g, "
                 "total %.4g, lr %.4g\n",
                 model.c_str(), e.epoch, epochs, static_cast<long long>(e.steps), e.seconds,
                 rate_text(static_cast<double>(e.examples), e.seconds).c_str(), e.ranking_loss,
                 e.retrieval_loss, e.total_loss, e.learning_rate);
  }
  if (!e.extra_losses.empty()) {
    std::fprintf(out_, "[%s] extra task losses:", model.c_str());
    for (double l : e.extra_losses) std::fprintf(out_, " %.4f", l);
    std::fprintf(out_, "\n");
  }
  if (e.learned_task_weights.size() >= 2) {
    std::fprintf(out_, "[%s] learned task weights: retrieval %.4g, ranking %.4g", model.c_str(),
                 e.learned_task_weights[0], e.learned_task_weights[1]);
    for (size_t t = 2; t < e.learned_task_weights.size(); ++t)
      std::fprintf(out_, ", extra %.4g", e.learned_task_weights[t]);
    std::fprintf(out_, "\n");
  }
  // The next epoch's first step may draw at once; evaluation starts afresh.
  last_draw_ = -1e300;
  eval_steps_ = 0;
  std::fflush(out_);
}

void ProgressDisplay::eval(const std::string& model, int64_t done, int64_t total) {
  if (mode_ == Mode::kQuiet) return;
  const double now = clock_();
  const bool last = done >= total;
  if (mode_ == Mode::kBar) {
    if (!last && now - last_draw_ < kRedrawSeconds) return;
    last_draw_ = now;
    std::fprintf(out_, "\r\033[K[%s] Evaluating %lld/%lld %s%s", model.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total), bar(done, total).c_str(), last ? "\n" : "");
  } else {
    // Plain lines only for evaluations long enough to need them.
    if (last || now - last_draw_ < interval_) return;
    if (eval_steps_++ == 0 && last_draw_ < -1e299) {  // first chunk: start the clock
      last_draw_ = now;
      return;
    }
    last_draw_ = now;
    std::fprintf(out_, "[%s] evaluating: %lld/%lld test pairs ranked\n", model.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total));
  }
  std::fflush(out_);
}

EpochCallback ProgressDisplay::on_epoch(int epochs) {
  return [this, epochs](const std::string& model, const EpochStats& e) { epoch(model, epochs, e); };
}

ProgressHooks ProgressDisplay::hooks() {
  ProgressHooks h;
  h.on_step = [this](const std::string& model, const StepProgress& p) { step(model, p); };
  h.on_eval = [this](const std::string& model, int64_t done, int64_t total) { eval(model, done, total); };
  return h;
}

}  // namespace tandem
