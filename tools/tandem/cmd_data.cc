// tandem data: fetch MovieLens archives into a local cache (data download)
// and show what the cache holds (data list). The work is in
// tandem/data/download.h; this file parses options and words the results.
#include <cstdio>
#include <memory>
#include <string>

#include "argument_error.h"
#include "commands.h"
#include "tandem/core/error.h"
#include "tandem/data/cache_dir.h"
#include "tandem/data/checksum.h"
#include "tandem/data/dataset_registry.h"
#include "tandem/data/download.h"

namespace tandem::cli {

namespace {

constexpr const char* kDownloadFooter = R"(
The archive is <base-url>/<dataset>.zip. Its size and SHA-256 are checked
against the values pinned in Tandem before anything is unpacked; it is then
extracted into <cache-dir>/<dataset>/, which appears only once complete and
verified. When that directory is already there and verified, nothing is
requested (so it works offline); --force fetches it again. Responses over
1 GiB, archives unpacking to over 1 GiB, and entries with absolute or ".."
paths are refused.

Cache directory: --cache-dir, else $TANDEM_DATA_CACHE, else
$XDG_CACHE_HOME/tandem, else ~/.cache/tandem.

Train on a downloaded dataset with --data <cache-dir>/<name>: the layout
(ml-100k's u.data/u.item, ml-1m's ratings.dat/movies.dat, ml-latest-small's
ratings.csv/movies.csv) is detected from the files.

MovieLens is distributed by GroupLens under its own licence (see the
README in each archive): it may not be redistributed.)";

// Quotes `s` for a POSIX shell when it holds anything beyond plain path
// characters, so the printed command can be pasted as is.
std::string shell_word(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789/._-+:@%=,") == std::string::npos)
    return s;
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct DownloadArgs {
  std::string dataset, cache_dir;
  std::string base_url = kGroupLensBaseUrl;
  std::string sha256;  // replaces the pinned checksum (and size) when given
  bool force = false;
};

int run_download(const DownloadArgs& a) {
  DatasetInfo info = find_dataset(movielens_registry(), a.dataset);
  if (!a.sha256.empty()) {
    TANDEM_ARGUMENT_CHECK(is_hex_digest(DigestKind::kSha256, a.sha256),
                          "--sha256 '" << a.sha256 << "' is not 64 hexadecimal digits");
    info.sha256 = a.sha256;
    info.archive_bytes = 0;  // the pinned size belongs to the pinned checksum
  }
  DownloadOptions o;
  o.cache_dir = a.cache_dir;
  o.base_url = a.base_url;
  o.force = a.force;
  o.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  const DownloadResult r = download_dataset(info, o);
  if (r.fetched) {
    std::printf("%s: downloaded from %s, verified (%s), extracted into %s\n", info.name.c_str(),
                r.url.c_str(), r.checksum.c_str(), r.directory.c_str());
  } else {
    std::printf("%s: already in the cache and verified (%s), nothing downloaded: %s\n",
                info.name.c_str(), r.checksum.c_str(), r.directory.c_str());
  }
  const std::string dir = shell_word(r.directory);
  if (info.tandem_can_train) {
    std::printf(
        "Use it with --data, e.g.\n"
        "  tandem compare --preset kerasrs --data %s\n"
        "  tandem train --preset tfrs --data %s --output model.tandem\n"
        "or for every command: export TANDEM_DATA=%s\n",
        dir.c_str(), dir.c_str(), dir.c_str());
  } else {
    std::printf("Note: Tandem cannot train on %s (%s).\n", info.name.c_str(), info.format.c_str());
  }
  return 0;
}

int run_list(const std::string& cache_flag) {
  const std::string cache = cache_flag.empty() ? default_cache_dir() : cache_flag;
  std::printf("Cache directory: %s\n", cache.c_str());
  std::printf("%-16s %-8s %-10s %s\n", "dataset", "cached", "trainable", "directory or state");
  for (const DatasetInfo& info : movielens_registry()) {
    const CacheStatus s = cache_status(info, cache);
    std::printf("%-16s %-8s %-10s %s\n", info.name.c_str(), s.verified ? "yes" : "no",
                info.tandem_can_train ? "yes" : "not yet",
                s.verified ? s.directory.c_str() : s.state.c_str());
  }
  return 0;
}

}  // namespace

Action add_data(CLI::App& app) {
  app.require_subcommand(1);
  auto d = std::make_shared<DownloadArgs>();
  CLI::App* download = app.add_subcommand(
      "download", "Fetch a MovieLens archive, verify its checksum and unpack it into the cache");
  download->add_option("dataset", d->dataset, "ml-100k, ml-1m or ml-latest-small")->required();
  download->add_option("--cache-dir", d->cache_dir, "Where datasets are kept (see below)");
  download->add_option("--base-url", d->base_url, "Where the archives are served")
      ->capture_default_str();
  download->add_flag("--force", d->force, "Download again even if a verified copy is cached");
  download->add_option("--sha256", d->sha256,
                       "Expect this SHA-256 instead of the pinned one (a mirror, or an archive "
                       "GroupLens has replaced)");
  download->footer(kDownloadFooter);

  auto list_cache = std::make_shared<std::string>();
  CLI::App* list = app.add_subcommand("list", "Known datasets, and whether each is in the cache");
  list->add_option("--cache-dir", *list_cache, "The cache to look in (default as for download)");

  CLI::App* prepare = app.add_subcommand(
      "prepare", "Load, split and encode the data as train would (train's data flags), print the counts");
  const Action run_prepare = add_data_prepare(*prepare);

  return [d, download, list_cache, prepare, run_prepare] {
    if (download->parsed()) return run_download(*d);
    if (prepare->parsed()) return run_prepare();
    return run_list(*list_cache);
  };
}

}  // namespace tandem::cli
