// Files that are not regular files, for the tests of what refuses them
// (a FIFO, a socket; /dev/zero is used as it is), and a bounded way to call
// code that might block on one: in a forked child with an alarm, so that a
// regression that waits on a FIFO or reads /dev/zero forever fails the test
// instead of hanging the suite.
#pragma once

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <string>

#include "tandem/core/error.h"

namespace tandem::testing {

// Makes a FIFO at `path`; fails the test if it cannot.
inline void make_fifo(const std::filesystem::path& path) {
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0) << path << ": " << std::strerror(errno);
}

// Binds a Unix socket at `path` (the socket file stays after the descriptor
// is closed); returns false when the path is too long for sockaddr_un.
inline bool make_socket_file(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof addr.sun_path) return false;
  std::strcpy(addr.sun_path, path.c_str());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return false;
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

struct BoundedCall {
  bool finished = false;  // false: killed by the alarm (it blocked or looped)
  bool threw = false;     // ended with a tandem::Error
  std::string message;    // that error's message
};

// Runs fn in a forked child that an alarm kills after `seconds`; reports
// whether it finished in time and the tandem::Error it threw, if any.
inline BoundedCall call_within(unsigned seconds, const std::function<void()>& fn) {
  BoundedCall r;
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return r;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return r;
  }
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::alarm(seconds);
    int code = 0;
    std::string message;
    try {
      fn();
    } catch (const Error& e) {
      message = e.what();
      code = 1;
    } catch (...) {
      code = 2;
    }
    if (!message.empty()) (void)!::write(pipe_fds[1], message.data(), message.size());
    ::_exit(code);
  }
  ::close(pipe_fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    r.message.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.finished = WIFEXITED(status);
  r.threw = r.finished && WEXITSTATUS(status) == 1;
  return r;
}

}  // namespace tandem::testing
