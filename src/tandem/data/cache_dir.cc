#include "tandem/data/cache_dir.h"

#include <cstdlib>

#include "tandem/core/error.h"

namespace tandem {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

std::string default_cache_dir() {
  if (const std::string dir = env("TANDEM_DATA_CACHE"); !dir.empty()) return dir;
  if (const std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty() && xdg.front() == '/')
    return xdg + "/tandem";
  if (const std::string home = env("HOME"); !home.empty()) return home + "/.cache/tandem";
  TANDEM_THROW(
      "no cache directory: TANDEM_DATA_CACHE, XDG_CACHE_HOME and HOME are all unset; "
      "pass --cache-dir DIR");
}

}  // namespace tandem
