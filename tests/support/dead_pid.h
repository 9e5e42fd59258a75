// A pid that names no running process: a child's, once it has exited and
// been reaped. (The kernel hands pids out in increasing order and wraps at
// pid_max, so one is not reused within a test.)
#pragma once

#include <sys/wait.h>
#include <unistd.h>

namespace tandem::testing {

inline pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

}  // namespace tandem::testing
