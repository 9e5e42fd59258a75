// A child `tandem serve` process for end-to-end tests: started with its
// arguments, its stderr read until the ready line gives the port, stopped
// with a signal, killed if the test ends first.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "e2e_util.h"

namespace tandem::testing {

// A child `tandem serve` whose stderr is read until its ready line.
class ServerProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<std::string> argv_s{tandem_binary(), "serve"};
      argv_s.insert(argv_s.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    err_fd_ = fds[0];
    // Wait (bounded) for "listening on http://HOST:PORT".
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    const std::string ready = "listening on http://";
    fcntl(err_fd_, F_SETFL, O_NONBLOCK);
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[512];
      const ssize_t n = read(err_fd_, buf, sizeof buf);
      if (n > 0) log_.append(buf, static_cast<size_t>(n));
      // "listening on http://HOST:PORT (" once the whole line is in.
      if (const size_t at = log_.find(ready); at != std::string::npos) {
        const size_t colon = log_.find(':', at + ready.size());
        const size_t end = log_.find(' ', colon == std::string::npos ? at : colon);
        if (colon != std::string::npos && end != std::string::npos) {
          port_ = std::stoi(log_.substr(colon + 1, end - colon - 1));
          return;
        }
      }
      if (n == 0) return;  // exited before it was ready
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~ServerProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) close(err_fd_);
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& log() const { return log_; }
  // Whether the process is still running (not reaped, no exit pending).
  bool running() {
    if (reaped_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      exit_status_ = status;
      return false;
    }
    return true;
  }
  // Appends what the server has written to stderr since the last look.
  void pump() {
    char buf[512];
    ssize_t n;
    while ((n = read(err_fd_, buf, sizeof buf)) > 0) log_.append(buf, static_cast<size_t>(n));
  }
  // The raw wait status once reaped by stop() or running().
  int exit_status() const { return exit_status_; }

  // Sends `sig` and waits (at most `wait`) for the exit; the exit code, or -1
  // (killed by a signal, or still running).
  int stop(int sig, std::chrono::milliseconds wait = std::chrono::seconds(10)) {
    if (!reaped_) kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + wait;
    int status = exit_status_;
    while (std::chrono::steady_clock::now() < deadline || reaped_) {
      if (reaped_ || waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        exit_status_ = status;
        char buf[512];
        ssize_t n;
        while ((n = read(err_fd_, buf, sizeof buf)) > 0) log_.append(buf, static_cast<size_t>(n));
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int err_fd_ = -1, port_ = -1;
  bool reaped_ = false;
  int exit_status_ = 0;
  std::string log_;
};

}  // namespace tandem::testing
