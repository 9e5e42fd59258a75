#include "tandem/data/data_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "tandem/core/error.h"
#include "tandem/core/message_text.h"
#include "tandem/data/dataset_layout.h"

namespace tandem {

namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultDir = "../shared/data/ml-100k";
constexpr const char* kHint =
    "pass --data DIR or set TANDEM_DATA to a directory holding MovieLens-100K's u.data and "
    "u.item ('tandem data download ml-100k' fetches it and prints the directory)";

// Why `dir` cannot be used, or "" if it can.
std::string why_unusable(const fs::path& dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) return "does not exist";
  if (!fs::is_directory(st)) return "is not a directory";
  if (!detect_dataset_layout(dir.string())) {
    // A directory whose files cannot be reached looks empty: say why.
    if (std::string problem = directory_read_problem(dir.string()); !problem.empty()) return problem;
    return "is a directory but holds no ratings file (u.data, ratings.dat or ratings.csv)";
  }
  return "";
}

[[noreturn]] void fail(const std::string& looked) {
  TANDEM_THROW("no usable data directory. Looked at:\n" << looked << "To fix: " << kHint);
}

}  // namespace

std::string directory_read_problem(const std::string& dir) {
  // Reaching "dir/." takes the search permission that opening dir/u.data
  // does. Listing the directory (read permission) is never needed: its
  // files are looked up by name.
  struct stat st {};
  if (::stat((fs::path(dir) / ".").c_str(), &st) != 0) return describe_errno(errno);
  return "";
}

// An explicit choice (--data, or a non-empty TANDEM_DATA) that is unusable is
// an error rather than a reason to fall back: silently training on other data
// than the user named would be worse than stopping. An empty TANDEM_DATA counts
// as unset.
std::string resolve_data_dir(const std::string& flag) {
  std::ostringstream looked;
  if (!flag.empty()) {
    const std::string why = why_unusable(flag);
    if (why.empty()) return flag;
    looked << "  --data '" << flag << "': " << why << "\n";
    fail(looked.str());
  }
  looked << "  --data: not given\n";

  const char* env = std::getenv("TANDEM_DATA");
  if (env != nullptr && *env != '\0') {
    const std::string why = why_unusable(env);
    if (why.empty()) return env;
    looked << "  TANDEM_DATA '" << env << "': " << why << "\n";
    fail(looked.str());
  }
  looked << "  TANDEM_DATA: not set\n";

  const std::string why = why_unusable(kDefaultDir);
  if (why.empty()) return kDefaultDir;
  std::error_code ec;
  const fs::path absolute = fs::absolute(kDefaultDir, ec).lexically_normal();
  looked << "  default '" << kDefaultDir << "' (here: '" << (ec ? kDefaultDir : absolute.string())
         << "'): " << why << "\n";
  fail(looked.str());
}

}  // namespace tandem
