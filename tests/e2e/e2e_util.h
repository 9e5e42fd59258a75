// Helpers for end-to-end tests: where the real data is, and running the
// tandem binary.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
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

// Runs `tandem <args>` with stdout and stderr on a pseudo-terminal (util-linux
// `script`), as a person at a terminal would; what the terminal showed comes
// back in `out`.
inline CommandResult run_tandem_on_terminal(const std::string& args) {
  return run_command("script -qec \"" + tandem_binary() + " " + args + "\" /dev/null");
}

// Runs `tandem <args>` through the shell; args must already be quoted.
inline CommandResult run_tandem(const std::string& args) { return run_command(tandem_binary() + " " + args); }

}  // namespace tandem::testing
