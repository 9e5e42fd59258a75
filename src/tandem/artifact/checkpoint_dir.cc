#include "tandem/artifact/checkpoint_dir.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "tandem/core/error.h"
#include "tandem/core/stale_temporaries.h"

namespace tandem {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPrefix = "ckpt-";
constexpr const char* kSuffix = ".tandem-ckpt";
constexpr const char* kTemporaryMark = ".tandem-ckpt.tmp.";

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// The step of a checkpoint file name, or -1 for any other name.
int64_t step_of(const std::string& name) {
  const std::string prefix = kPrefix, suffix = kSuffix;
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return -1;
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (!all_digits(digits) || digits.size() > 18) return -1;
  return std::stoll(digits);
}

// A temporary left by a writer that no longer runs (killed mid-write): its
// name carries the writer's pid (AtomicFile), and kill(pid, 0) says whether
// that process still exists. Our own and live writers' files are left alone.
bool stale_temporary(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0) return false;
  const size_t mark = name.find(kTemporaryMark);
  if (mark == std::string::npos) return false;
  const std::string rest = name.substr(mark + std::string(kTemporaryMark).size());
  const std::string pid_text = rest.substr(0, rest.find('.'));
  if (!all_digits(pid_text) || pid_text.size() > 9) return false;
  const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
  return pid != ::getpid() && process_is_gone(pid);
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);  // a file that cannot be removed only costs disk space
}

}  // namespace

std::string checkpoint_file_name(int64_t global_step) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%09lld%s", kPrefix, static_cast<long long>(global_step), kSuffix);
  return buf;
}

std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const int64_t step = step_of(it->path().filename().string());
    if (step >= 0) out.emplace_back(step, it->path().string());
  }
  TANDEM_CHECK(!ec, dir << ": cannot list the checkpoint directory: " << ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

ResumePoint find_resume_point(const std::string& dir) {
  TANDEM_CHECK(fs::is_directory(dir), "--resume " << dir << ": not a directory");
  ResumePoint r;
  for (const auto& [step, path] : list_checkpoints(dir)) {
    try {
      Checkpoint c = read_checkpoint(path);
      TANDEM_CHECK(c.trainer.global_step == step,
                   path << ": holds step " << c.trainer.global_step << ", not the step its name says");
      r.path = path;
      r.checkpoint = std::move(c);
      return r;
    } catch (const Error& e) {
      r.skipped.push_back({path, e.what()});
    }
  }
  std::string why;
  for (const auto& s : r.skipped) why += "; " + s.reason;
  TANDEM_THROW(dir << ": no intact checkpoint to resume from ("
                   << (r.skipped.empty() ? "no ckpt-*.tandem-ckpt files" : "every file is damaged")
                   << ")" << why);
}

CheckpointWriter::CheckpointWriter(std::string dir, const ResumePoint* resumed) : dir_(std::move(dir)) {
  if (resumed != nullptr) {
    last_good_ = resumed->path;
    last_step_ = resumed->checkpoint.trainer.global_step;
    for (const auto& s : resumed->skipped) damaged_.push_back(s.path);
    return;
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  TANDEM_CHECK(!ec, dir_ << ": cannot create the checkpoint directory: " << ec.message());
  const auto existing = list_checkpoints(dir_);
  TANDEM_CHECK(existing.empty(), dir_ << " already holds checkpoints (newest "
                                      << fs::path(existing.front().second).filename().string()
                                      << "): continue that run with --resume " << dir_
                                      << ", or checkpoint into another directory");
}

CheckpointWritten CheckpointWriter::write(const CheckpointRun& run, const MultiTaskModel& model,
                                          const TrainerState& state) {
  const auto start = std::chrono::steady_clock::now();
  CheckpointWritten w;
  w.path = (fs::path(dir_) / checkpoint_file_name(state.global_step)).string();
  w.global_step = state.global_step;
  write_checkpoint(w.path, run, model, state);
  last_good_ = w.path;
  last_step_ = state.global_step;
  std::error_code ec;
  w.bytes = static_cast<int64_t>(fs::file_size(w.path, ec));
  prune();
  w.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return w;
}

void CheckpointWriter::prune() {
  // Only after the new checkpoint is complete on disk: until then the old
  // ones are the run's only way back.
  for (const auto& d : damaged_) {
    if (d != last_good_) remove_quietly(d);
  }
  damaged_.clear();
  const auto all = list_checkpoints(dir_);
  for (size_t i = kKeepCheckpoints; i < all.size(); ++i) remove_quietly(all[i].second);
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (stale_temporary(it->path().filename().string())) remove_quietly(it->path());
  }
}

}  // namespace tandem
