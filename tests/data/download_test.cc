// tandem data download's library half against a local server serving
// archives built here: success, the offline second run, and every way a
// download can fail without leaving anything that looks complete.
#include "tandem/data/download.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "local_http_server.h"
#include "tandem/data/cache_dir.h"
#include "tandem/data/checksum.h"
#include "tandem/data/ratings.h"
#include "test_util.h"
#include "zip_builder.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::LocalHttpServer;
using testing::make_zip;
using testing::TempDir;

// A registry entry for `zip` as the test server's ml-100k.
DatasetInfo entry_for(const std::string& zip) {
  return {"ml-100k", "ml-100k", "u.data", zip.size(), digest_hex(DigestKind::kSha256, zip),
          true,      "test"};
}

class Download : public ::testing::Test {
 protected:
  Download() : zip_(make_zip(testing::fake_ml100k())), info_(entry_for(zip_)) {
    options_.cache_dir = (tmp_.path() / "cache").string();
    options_.base_url = server_.url() + "/datasets";
  }
  fs::path cache() const { return options_.cache_dir; }
  // The cache holds nothing but the lock file: no dataset directory and no
  // temporaries.
  void expect_nothing_left() const {
    EXPECT_FALSE(fs::exists(cache() / "ml-100k"));
    if (!fs::exists(cache())) return;
    for (const auto& e : fs::directory_iterator(cache()))
      EXPECT_EQ(e.path().filename(), ".ml-100k.lock") << "left behind: " << e.path();
    EXPECT_FALSE(cache_status(info_, cache().string()).verified);
  }

  TempDir tmp_;
  LocalHttpServer server_;
  std::string zip_;
  DatasetInfo info_;
  DownloadOptions options_;
};

TEST_F(Download, FetchesVerifiesAndExtracts) {
  server_.serve("/datasets/ml-100k.zip", zip_);
  const DownloadResult r = download_dataset(info_, options_);
  EXPECT_TRUE(r.fetched);
  EXPECT_EQ(r.directory, (cache() / "ml-100k").string());
  EXPECT_EQ(r.checksum, "sha256:" + info_.sha256);
  EXPECT_EQ(r.archive_bytes, zip_.size());
  EXPECT_EQ(server_.requests(), 1);
  // The loaders read the extracted directory as they read MovieLens.
  EXPECT_EQ(load_ratings((cache() / "ml-100k" / "u.data").string()).size(), 120u);
  std::ifstream marker(cache() / "ml-100k" / kVerifiedMarker);
  std::string line;
  std::getline(marker, line);
  EXPECT_EQ(line, r.checksum);
  const CacheStatus s = cache_status(info_, cache().string());
  EXPECT_TRUE(s.verified) << s.state;
  for (const auto& e : fs::directory_iterator(cache()))
    EXPECT_TRUE(e.path().filename() == "ml-100k" || e.path().filename() == ".ml-100k.lock")
        << e.path();
}

TEST_F(Download, SecondRunMakesNoRequest) {
  server_.serve("/datasets/ml-100k.zip", zip_);
  download_dataset(info_, options_);
  ASSERT_EQ(server_.requests(), 1);
  const DownloadResult again = download_dataset(info_, options_);
  EXPECT_FALSE(again.fetched);
  EXPECT_EQ(again.checksum, "sha256:" + info_.sha256);
  EXPECT_EQ(server_.requests(), 1) << "a verified copy must be used without the network";
  // Even with the server gone.
  options_.base_url = "http://127.0.0.1:1/nowhere";
  EXPECT_FALSE(download_dataset(info_, options_).fetched);
  // --force fetches again.
  options_.base_url = server_.url() + "/datasets";
  options_.force = true;
  EXPECT_TRUE(download_dataset(info_, options_).fetched);
  EXPECT_EQ(server_.requests(), 2);
}

TEST_F(Download, ChecksumMismatchLeavesNothingComplete) {
  server_.serve("/datasets/ml-100k.zip", zip_);
  DatasetInfo wrong = info_;
  wrong.sha256 = std::string(64, 'a');
  const std::string msg = error_of([&] { download_dataset(wrong, options_); });
  EXPECT_CONTAINS(msg, "ml-100k: checksum mismatch for " + server_.url() + "/datasets/ml-100k.zip");
  EXPECT_CONTAINS(msg, "expected sha256 " + std::string(64, 'a') + " (" +
                           std::to_string(zip_.size()) + " bytes)");
  EXPECT_CONTAINS(msg, "got " + info_.sha256);
  expect_nothing_left();
}

TEST_F(Download, SizeMismatchIsAChecksumMismatch) {
  server_.serve("/datasets/ml-100k.zip", zip_);
  DatasetInfo wrong = info_;
  wrong.archive_bytes = zip_.size() + 1;
  EXPECT_CONTAINS(error_of([&] { download_dataset(wrong, options_); }), "checksum mismatch");
  expect_nothing_left();
}

TEST_F(Download, ReplacesAnIncompleteOrForeignCopy) {
  // What a crash of some other tool, or an old Tandem, might have left: a
  // directory without the marker, and stale temporaries.
  fs::create_directories(cache() / "ml-100k");
  std::ofstream(cache() / "ml-100k" / "u.data") << "1\t1\t5\t0\n";
  fs::create_directories(cache() / ".ml-100k.tmp-999-0.d" / "ml-100k");
  std::ofstream(cache() / ".ml-100k.tmp-999-0.zip") << "partial";
  EXPECT_EQ(cache_status(info_, cache().string()).state, "incomplete (no verification marker)");
  server_.serve("/datasets/ml-100k.zip", zip_);
  EXPECT_TRUE(download_dataset(info_, options_).fetched);
  EXPECT_TRUE(cache_status(info_, cache().string()).verified);
  EXPECT_EQ(load_ratings((cache() / "ml-100k" / "u.data").string()).size(), 120u);
  EXPECT_FALSE(fs::exists(cache() / ".ml-100k.tmp-999-0.d"));
  EXPECT_FALSE(fs::exists(cache() / ".ml-100k.tmp-999-0.zip"));
}

TEST_F(Download, MarkerForAnotherChecksumIsNotVerified) {
  server_.serve("/datasets/ml-100k.zip", zip_);
  download_dataset(info_, options_);
  DatasetInfo updated = info_;
  updated.sha256 = std::string(64, 'b');
  const CacheStatus s = cache_status(updated, cache().string());
  EXPECT_FALSE(s.verified);
  EXPECT_CONTAINS(s.state, "but the registry expects sha256:" + std::string(64, 'b'));
}

TEST_F(Download, HttpErrors) {
  server_.server().Get("/datasets/ml-100k.zip",
                       [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
  EXPECT_CONTAINS(error_of([&] { download_dataset(info_, options_); }),
                  "GET " + server_.url() + "/datasets/ml-100k.zip: HTTP 500");
  expect_nothing_left();
  options_.base_url = server_.url() + "/elsewhere";
  EXPECT_CONTAINS(error_of([&] { download_dataset(info_, options_); }),
                  "GET " + server_.url() + "/elsewhere/ml-100k.zip: HTTP 404 Not Found");
  expect_nothing_left();
}

TEST_F(Download, TruncatedBody) {
  server_.server().Get(
      "/datasets/ml-100k.zip", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content_provider(zip_.size(), "application/zip",
                                 [this](size_t offset, size_t, httplib::DataSink& sink) {
                                   if (offset > 0)
                                     return false;  // half the archive, then the connection drops
                                   return sink.write(zip_.data(), zip_.size() / 2);
                                 });
      });
  EXPECT_CONTAINS(error_of([&] { download_dataset(info_, options_); }),
                  "the connection dropped after " + std::to_string(zip_.size() / 2) + " of " +
                      std::to_string(zip_.size()) + " bytes");
  expect_nothing_left();
}

TEST_F(Download, FollowsARedirect) {
  server_.serve("/mirror/ml-100k.zip", zip_);
  server_.server().Get("/datasets/ml-100k.zip",
                       [](const httplib::Request&, httplib::Response& res) {
                         res.set_redirect("/mirror/ml-100k.zip", 302);
                       });
  const DownloadResult r = download_dataset(info_, options_);
  EXPECT_TRUE(r.fetched);
  EXPECT_EQ(r.url, server_.url() + "/mirror/ml-100k.zip");
  EXPECT_EQ(server_.requests(), 2);
  EXPECT_TRUE(cache_status(info_, cache().string()).verified);
}

TEST_F(Download, RefusesAnOversizeResponse) {
  server_.serve("/datasets/ml-100k.zip", zip_);
  options_.fetch.max_bytes = 512;
  EXPECT_CONTAINS(
      error_of([&] { download_dataset(info_, options_); }),
      "announces " + std::to_string(zip_.size()) + " bytes, more than the limit of 512");
  expect_nothing_left();
}

TEST_F(Download, RefusesPathTraversal) {
  // Checksummed like a genuine archive: extraction must still refuse it.
  testing::ZipEntries entries = testing::fake_ml100k();
  entries.push_back({"ml-100k/../../escaped.txt", "pwned"});
  const std::string evil = make_zip(entries);
  server_.serve("/datasets/ml-100k.zip", evil);
  EXPECT_CONTAINS(error_of([&] { download_dataset(entry_for(evil), options_); }),
                  "refusing the archive: entry 'ml-100k/../../escaped.txt' has a '..' component");
  expect_nothing_left();
  EXPECT_FALSE(fs::exists(tmp_.path() / "escaped.txt"));
  EXPECT_FALSE(fs::exists(cache() / "escaped.txt"));
}

TEST_F(Download, RefusesAZipBomb) {
  testing::ZipEntries entries = testing::fake_ml100k();
  entries.push_back({"ml-100k/zeros", std::string(4 << 20, '\0')});
  const std::string bomb = make_zip(entries);
  server_.serve("/datasets/ml-100k.zip", bomb);
  options_.zip.max_total_bytes = 1 << 20;
  EXPECT_CONTAINS(error_of([&] { download_dataset(entry_for(bomb), options_); }), "zip bomb");
  expect_nothing_left();
}

TEST_F(Download, RefusesAnArchiveWithoutTheExpectedLayout) {
  const std::string other = make_zip({{"ml-1m/ratings.dat", "1::1::5::0\n"}});
  server_.serve("/datasets/ml-100k.zip", other);
  EXPECT_CONTAINS(error_of([&] { download_dataset(entry_for(other), options_); }),
                  "the archive holds no ml-100k/u.data, so it is not ml-100k");
  expect_nothing_left();
}

TEST_F(Download, UnknownDataset) {
  const std::string msg = error_of([] { find_dataset(movielens_registry(), "ml-10k"); });
  EXPECT_CONTAINS(msg, "unknown dataset 'ml-10k'; known datasets: ml-100k, ml-1m, ml-latest-small");
}

TEST_F(Download, UnwritableCacheDir) {
  server_.serve("/datasets/ml-100k.zip", zip_);
  // A cache directory below a regular file can never be created, even by root.
  const std::string file = tmp_.write("not-a-dir", "x");
  options_.cache_dir = file + "/cache";
  EXPECT_CONTAINS(error_of([&] { download_dataset(info_, options_); }),
                  "cannot create the cache directory " + file + "/cache");
  EXPECT_EQ(server_.requests(), 0) << "refused before any request";
  // An existing directory where no file can be created, even by root.
  if (fs::is_directory("/proc/self")) {
    options_.cache_dir = "/proc";
    EXPECT_CONTAINS(error_of([&] { download_dataset(info_, options_); }),
                    "cache directory /proc is not writable");
    EXPECT_EQ(server_.requests(), 0);
  }
  if (::geteuid() != 0) {  // root ignores permission bits
    const fs::path ro = tmp_.path() / "read-only";
    fs::create_directories(ro);
    ::chmod(ro.c_str(), 0555);
    options_.cache_dir = ro.string();
    EXPECT_CONTAINS(error_of([&] { download_dataset(info_, options_); }),
                    "cache directory " + ro.string() + " is not writable");
    ::chmod(ro.c_str(), 0755);
    EXPECT_EQ(server_.requests(), 0);
  }
}

TEST_F(Download, WithoutAPinnedChecksumUsesThePublishedMd5) {
  server_.serve("/datasets/ml-100k.zip", zip_);
  server_.serve("/datasets/ml-100k.zip.md5",
                "MD5 (ml-100k.zip) = " + digest_hex(DigestKind::kMd5, zip_) + "\n");
  DatasetInfo unpinned = info_;
  unpinned.sha256.clear();
  unpinned.archive_bytes = 0;
  const DownloadResult r = download_dataset(unpinned, options_);
  EXPECT_EQ(r.checksum, "md5:" + digest_hex(DigestKind::kMd5, zip_));
  EXPECT_EQ(server_.requests(), 2);
  EXPECT_TRUE(cache_status(unpinned, cache().string()).verified);
  EXPECT_FALSE(download_dataset(unpinned, options_).fetched);
  EXPECT_EQ(server_.requests(), 2);
}

TEST_F(Download, PublishedMd5MismatchLeavesNothing) {
  server_.serve("/datasets/ml-100k.zip", zip_);
  server_.serve("/datasets/ml-100k.zip.md5", std::string(32, '0') + "  ml-100k.zip\n");
  DatasetInfo unpinned = info_;
  unpinned.sha256.clear();
  EXPECT_CONTAINS(error_of([&] { download_dataset(unpinned, options_); }),
                  "expected md5 " + std::string(32, '0'));
  expect_nothing_left();
}

TEST(DatasetRegistry, PinsEveryKnownArchive) {
  const DatasetRegistry& r = movielens_registry();
  ASSERT_EQ(r.size(), 3u);
  for (const DatasetInfo& d : r) {
    SCOPED_TRACE(d.name);
    EXPECT_TRUE(is_hex_digest(DigestKind::kSha256, d.sha256));
    EXPECT_GT(d.archive_bytes, 0u);
    EXPECT_EQ(&find_dataset(r, d.name), &d);
  }
  EXPECT_TRUE(find_dataset(r, "ml-100k").tandem_can_train);
  EXPECT_TRUE(find_dataset(r, "ml-1m").tandem_can_train);  // dataset_layout.h reads all three
  EXPECT_TRUE(find_dataset(r, "ml-latest-small").tandem_can_train);
}

// Sets an environment variable for one scope, restoring it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_ = std::getenv(name) != nullptr;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(CacheDir, EnvironmentOrder) {
  ScopedEnv home("HOME", "/home/u");
  {
    ScopedEnv a("TANDEM_DATA_CACHE", "/data/cache");
    ScopedEnv b("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(default_cache_dir(), "/data/cache");
  }
  {
    ScopedEnv a("TANDEM_DATA_CACHE", "");
    ScopedEnv b("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(default_cache_dir(), "/xdg/tandem");
  }
  {
    ScopedEnv a("TANDEM_DATA_CACHE", nullptr);
    ScopedEnv b("XDG_CACHE_HOME", "relative/ignored");
    EXPECT_EQ(default_cache_dir(), "/home/u/.cache/tandem");
  }
  {
    ScopedEnv a("TANDEM_DATA_CACHE", nullptr);
    ScopedEnv b("XDG_CACHE_HOME", nullptr);
    ScopedEnv c("HOME", nullptr);
    EXPECT_CONTAINS(error_of([] { default_cache_dir(); }), "pass --cache-dir DIR");
  }
}

}  // namespace
}  // namespace tandem
