#include "tandem/core/stale_temporaries.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace tandem {

namespace fs = std::filesystem;

namespace {

// A non-empty run of at most 9 decimal digits (pids stay below 2^22 on
// Linux), as a number; -1 otherwise.
long small_number(const std::string& text) {
  if (text.empty() || text.size() > 9) return -1;
  long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

std::string new_temporary_path(const std::string& target) {
  static std::atomic<uint64_t> counter{0};
  return target + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
}

bool process_is_gone(pid_t pid) {
  if (pid <= 0) return false;  // kill(0, ...) and kill(-n, ...) address groups
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

pid_t temporary_writer_pid(const std::string& name, const std::string& target_name) {
  const std::string mark = target_name + ".tmp.";
  if (target_name.empty() || name.size() <= mark.size() || name.compare(0, mark.size(), mark) != 0)
    return -1;
  const std::string rest = name.substr(mark.size());
  const size_t dot = rest.find('.');
  if (dot != std::string::npos && small_number(rest.substr(dot + 1)) < 0) return -1;
  const long pid = small_number(rest.substr(0, dot));
  return pid > 0 ? static_cast<pid_t>(pid) : -1;
}

std::vector<std::string> stale_temporaries(const std::string& target) {
  std::vector<std::string> out;
  const fs::path path(target);
  const std::string target_name = path.filename().string();
  if (target_name.empty()) return out;
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const pid_t self = ::getpid();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t pid = temporary_writer_pid(it->path().filename().string(), target_name);
    if (pid > 0 && pid != self && process_is_gone(pid)) out.push_back(it->path().string());
  }
  return out;
}

void remove_stale_temporary_files(const std::string& target) {
  for (const std::string& stale : stale_temporaries(target)) {
    std::error_code ec;
    if (fs::symlink_status(stale, ec).type() == fs::file_type::regular) ::unlink(stale.c_str());
  }
}

}  // namespace tandem
