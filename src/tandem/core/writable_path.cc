#include "tandem/core/writable_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "tandem/core/error.h"
#include "tandem/core/regular_file.h"
#include "tandem/core/stale_temporaries.h"

namespace tandem {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(std::string_view what, const std::string& path, const std::string& reason) {
  TANDEM_THROW(what << " " << path << ": cannot write there: " << reason);
}

// Creates and removes a temporary of `target` (a name inside `dir`), which
// is the only sure test that `dir` takes new files.
void probe(const std::string& dir, const std::string& target, std::string_view what,
           const std::string& path) {
  remove_stale_temporary_files(target);  // a probe killed before its unlink
  const std::string tmp = new_temporary_path(target);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EACCES || err == EPERM) refuse(what, path, "permission denied in " + dir);
    if (err == EROFS) refuse(what, path, dir + " is on a read-only file system");
    refuse(what, path, "cannot create a file in " + dir + ": " + std::strerror(err));
  }
  ::close(fd);
  ::unlink(tmp.c_str());
}

// `dir` as written in messages: "." for the current directory.
std::string shown(const fs::path& dir) { return dir.empty() ? std::string(".") : dir.string(); }

}  // namespace

void require_creatable_file(const std::string& path, std::string_view what) {
  struct stat st {};
  // The file is replaced by a rename: never a directory, nor a device, FIFO
  // or socket that a regular file would silently take the place of.
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    refuse(what, path, "it is " + file_kind(st.st_mode) + ", not a regular file");
  const fs::path dir = fs::path(path).parent_path();
  const std::string dir_text = shown(dir);
  if (::stat(dir_text.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) refuse(what, path, "no such directory " + dir_text);
    if (err == ENOTDIR) refuse(what, path, "a component of " + dir_text + " is not a directory");
    if (err == EACCES) refuse(what, path, "permission denied to reach " + dir_text);
    refuse(what, path, dir_text + ": " + std::strerror(err));
  }
  if (!S_ISDIR(st.st_mode))
    refuse(what, path, dir_text + " is not a directory (" + file_kind(st.st_mode) + ")");
  probe(dir_text, path, what, path);
}

void require_writable_directory(const std::string& dir, std::string_view what) {
  // The directory itself when it exists, else the nearest existing ancestor
  // (create_directories makes the rest there).
  fs::path at = fs::path(dir).lexically_normal();
  if (!at.has_filename() && at.has_parent_path()) at = at.parent_path();  // "ck/" -> "ck"
  struct stat st {};
  while (::stat(shown(at).c_str(), &st) != 0) {
    const int err = errno;
    if (err == EACCES) refuse(what, dir, "permission denied to reach " + shown(at));
    if (err != ENOENT && err != ENOTDIR) refuse(what, dir, shown(at) + ": " + std::strerror(err));
    if (at.empty() || !at.has_parent_path() || at.parent_path() == at) {
      at = fs::path();
      if (::stat(".", &st) != 0) refuse(what, dir, std::string(".: ") + std::strerror(errno));
      break;
    }
    at = at.parent_path();
  }
  if (!S_ISDIR(st.st_mode))
    refuse(what, dir, shown(at) + " is not a directory (" + file_kind(st.st_mode) + ")");
  probe(shown(at), (fs::path(shown(at)) / ".tandem-write-probe").string(), what, dir);
}

}  // namespace tandem
