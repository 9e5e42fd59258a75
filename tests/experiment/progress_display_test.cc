#include "tandem/experiment/progress_display.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace tandem {
namespace {

// Captures what a display writes, with a clock the test moves by hand.
struct Capture {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  double now = 0.0;
  ~Capture() {
    if (f) std::fclose(f);
    std::free(buf);
  }
  std::string text() {
    std::fflush(f);
    return std::string(buf, size);
  }
  ProgressDisplay display(ProgressDisplay::Mode mode, double interval = 10.0) {
    return ProgressDisplay(mode, f, interval, [this] { return now; });
  }
};

StepProgress at(int64_t step, double seconds) {
  // Epoch 1 of 3, 10 steps of 100 examples.
  return {1, 3, step, 10, step * 100, 0.25, 123.0, seconds};
}

EpochStats epoch_stats() {
  EpochStats e;
  e.epoch = 1;
  e.steps = 10;
  e.examples = 1000;
  e.ranking_loss = 0.2;
  e.retrieval_loss = 100.0;
  e.total_loss = 100.2;
  e.seconds = 2.0;
  return e;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(ProgressDisplay, BarRedrawsInPlaceWithRateLossesAndEta) {
  Capture c;
  auto d = c.display(ProgressDisplay::Mode::kBar);
  const auto hooks = d.hooks();
  c.now = 1.0;
  hooks.on_step("joint", at(5, 2.5));  // 0.5 s per step, 5 steps left
  const std::string t = c.text();
  EXPECT_EQ(t.rfind("\r\033[K[joint] Epoch 1/3 5/10 [===============>..............]", 0), 0u) << t;
  EXPECT_NE(t.find("200 ex/s"), std::string::npos) << t;  // 500 examples in 2.5 s
  EXPECT_NE(t.find("ranking 0.2500 - retrieval 123"), std::string::npos) << t;
  EXPECT_NE(t.find("ETA 2.5s"), std::string::npos) << t;
  EXPECT_EQ(count(t, "\n"), 0u);  // still on the same line
  // Redraws are throttled to one per 0.1 s.
  c.now = 1.05;
  hooks.on_step("joint", at(6, 3.0));
  EXPECT_EQ(count(c.text(), "\r"), 1u);
  c.now = 1.2;
  hooks.on_step("joint", at(7, 3.5));
  EXPECT_EQ(count(c.text(), "\r"), 2u);
  // The epoch's end replaces the bar with a finished one and a newline.
  d.on_epoch(3)("joint", epoch_stats());
  const std::string end = c.text();
  EXPECT_NE(end.find("Epoch 1/3 10/10 [==============================] 2.0s - 500 ex/s"), std::string::npos)
      << end;
  EXPECT_EQ(end.back(), '\n');
}

TEST(ProgressDisplay, PlainLinesAtMostOnePerInterval) {
  Capture c;
  auto d = c.display(ProgressDisplay::Mode::kLines, 10.0);
  const auto hooks = d.hooks();
  for (int s = 1; s <= 25; ++s) {  // one step per second
    c.now = s;
    hooks.on_step("joint", at(s % 10 == 0 ? 9 : s % 10, 1.0));
  }
  std::string t = c.text();
  EXPECT_EQ(count(t, "\n"), 2u) << t;  // at 11 s and 21 s, not at the start
  EXPECT_EQ(t.find('\r'), std::string::npos);
  EXPECT_NE(t.find("[joint] epoch 1/3: step "), std::string::npos) << t;
  d.on_epoch(3)("joint", epoch_stats());
  t = c.text();
  EXPECT_EQ(count(t, "\n"), 3u);
  EXPECT_NE(t.find("[joint] epoch 1/3: 10 steps, 2.00 s, 500 ex/s, ranking loss 0.2000"), std::string::npos) << t;
  // A short evaluation prints nothing in plain mode; a long one reports.
  hooks.on_eval("joint", 500, 1000);
  hooks.on_eval("joint", 1000, 1000);
  EXPECT_EQ(count(c.text(), "\n"), 3u);
  c.now = 100;
  hooks.on_eval("joint", 100, 1000);
  c.now = 111;
  hooks.on_eval("joint", 200, 1000);
  EXPECT_NE(c.text().find("[joint] evaluating: 200/1000 test pairs ranked"), std::string::npos);
}

TEST(ProgressDisplay, QuietWritesNothing) {
  Capture c;
  auto d = c.display(ProgressDisplay::Mode::kQuiet);
  const auto hooks = d.hooks();
  hooks.on_step("joint", at(5, 1.0));
  hooks.on_eval("joint", 10, 10);
  d.on_epoch(3)("joint", epoch_stats());
  EXPECT_EQ(c.text(), "");
  EXPECT_EQ(ProgressDisplay::detect(true), ProgressDisplay::Mode::kQuiet);
}

}  // namespace
}  // namespace tandem
