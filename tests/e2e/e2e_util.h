// Helpers for end-to-end tests: where the real data is, and running the
// tandem binary.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/movielens_data.h"

namespace tandem::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string tandem_binary() {
  const char* b = std::getenv("TANDEM_BINARY");
  return b ? b : "./tandem";
}

// Runs a shell command line; stdout and stderr are captured separately.
inline CommandResult run_command(const std::string& command) {
  namespace fs = std::filesystem;
  static int counter = 0;
  const fs::path err_file =
      fs::temp_directory_path() / ("tandem_e2e_err_" + std::to_string(::getpid()) + "_" +
                                   std::to_string(counter++));
  const std::string cmd = command + " 2>" + err_file.string();
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* f = std::fopen(err_file.c_str(), "r")) {
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) r.err.append(buf.data(), n);
    std::fclose(f);
  }
  fs::remove(err_file);
  return r;
}

// Starts `tandem <args>` as a child process (fork/exec, no shell) with its
// stdout and stderr in the given files; returns its pid (-1 if fork failed).
inline pid_t spawn_tandem(const std::vector<std::string>& args, const std::string& out_file,
                          const std::string& err_file) {
  const std::string binary = tandem_binary();
  std::vector<std::string> all = {binary};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: only async-signal-safe calls until exec.
  const int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
  ::execv(binary.c_str(), argv.data());
  ::_exit(127);
}

struct BoundedCommandResult : CommandResult {
  bool finished = false;  // false: still running at the deadline, and killed
  double seconds = 0.0;   // from start to exit (or to the kill)
};

// Runs `tandem <args>` (no shell), killing it with SIGKILL should it still
// run after `limit_seconds`: for the commands that once read or waited
// forever, so that a regression fails the test instead of hanging it.
inline BoundedCommandResult run_tandem_within(const std::vector<std::string>& args, double limit_seconds) {
  namespace fs = std::filesystem;
  static int counter = 0;
  const std::string stem = (fs::temp_directory_path() / ("tandem_e2e_bounded_" + std::to_string(::getpid()) +
                                                         "_" + std::to_string(counter++)))
                               .string();
  BoundedCommandResult r;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = spawn_tandem(args, stem + ".out", stem + ".err");
  if (pid <= 0) return r;
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      r.finished = true;
      break;
    }
    if (std::chrono::steady_clock::now() - start > std::chrono::duration<double>(limit_seconds)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = r.finished && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  for (const auto& [file, text] : {std::pair{stem + ".out", &r.out}, std::pair{stem + ".err", &r.err}}) {
    std::ifstream in(file, std::ios::binary);
    text->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    fs::remove(file);
  }
  return r;
}

// Runs `tandem <args>` with stdout and stderr on a pseudo-terminal (util-linux
// `script`), as a person at a terminal would; what the terminal showed comes
// back in `out`.
inline CommandResult run_tandem_on_terminal(const std::string& args) {
  return run_command("script -qec \"" + tandem_binary() + " " + args + "\" /dev/null");
}

// Runs `tandem <args>` through the shell; args must already be quoted.
inline CommandResult run_tandem(const std::string& args) { return run_command(tandem_binary() + " " + args); }

}  // namespace tandem::testing
