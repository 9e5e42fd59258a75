// tandem data download as a user runs it: the real binary fetches a
// synthetic archive (built here, no MovieLens content) from a loopback server
// standing in for GroupLens, a second run works offline, and tandem train
// reads the extracted directory with --data.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/local_http_server.h"
#include "data/zip_builder.h"
#include "e2e_util.h"
#include "tandem/data/checksum.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

class DataDownload : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_e2e_download_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string cache() const { return (dir_ / "cache").string(); }
  // `tandem data download NAME` against the local server, expecting `zip`.
  CommandResult download(const std::string& name, const std::string& zip) {
    return run_tandem("data download " + name + " --cache-dir '" + cache() + "' --base-url " +
                      server_.url() + "/datasets --sha256 " + digest_hex(DigestKind::kSha256, zip));
  }
  fs::path dir_;
  LocalHttpServer server_;
};

TEST_F(DataDownload, DownloadThenTrainOnTheExtractedDirectory) {
  const std::string zip = make_zip(fake_ml100k(/*users=*/40, /*items=*/30));
  server_.serve("/datasets/ml-100k.zip", zip);

  const CommandResult first = download("ml-100k", zip);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string data_dir = cache() + "/ml-100k";
  EXPECT_NE(first.out.find("extracted into " + data_dir), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("--data " + data_dir), std::string::npos) << first.out;
  EXPECT_EQ(server_.requests(), 1);

  const CommandResult second = download("ml-100k", zip);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("already in the cache and verified"), std::string::npos) << second.out;
  EXPECT_EQ(server_.requests(), 1) << "the second run must not touch the network";

  const CommandResult list = run_tandem("data list --cache-dir '" + cache() + "'");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  // list judges the cache by the pinned checksums: this synthetic archive is
  // not the real ml-100k, and list says so.
  EXPECT_NE(list.out.find("verified as sha256:" + digest_hex(DigestKind::kSha256, zip) +
                          ", but the registry expects sha256:"),
            std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("ml-1m            no"), std::string::npos) << list.out;

  const CommandResult train =
      run_tandem("train --data '" + data_dir +
                 "' --epochs 1 --train-count 1000 --test-count 200 --threads 1 --quiet --json");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const auto j = nlohmann::json::parse(train.out);
  EXPECT_EQ(j["test"]["pairs"], 200) << train.out;
  EXPECT_TRUE(j.contains("rmse"));
}

TEST_F(DataDownload, OneMillionLayoutDownloadsAndIsTrainable) {
  const std::string zip = make_zip({{"ml-1m/ratings.dat", "1::1::5::978300760\n"},
                                    {"ml-1m/movies.dat", "1::Synthetic (2000)::Drama\n"}});
  server_.serve("/datasets/ml-1m.zip", zip);
  const CommandResult r = download("ml-1m", zip);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(cache() + "/ml-1m/ratings.dat"));
  EXPECT_NE(r.out.find("Use it with --data"), std::string::npos) << r.out;
}

TEST_F(DataDownload, FailuresAreOneLineWithExitCode1) {
  const std::string zip = make_zip(fake_ml100k());
  server_.serve("/datasets/ml-100k.zip", zip);
  // The pinned checksum (the real archive's) does not match the synthetic one.
  const CommandResult mismatch = run_tandem("data download ml-100k --cache-dir '" + cache() +
                                            "' --base-url " + server_.url() + "/datasets");
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.err.find("tandem: error: ml-100k: checksum mismatch"), std::string::npos)
      << mismatch.err;
  EXPECT_FALSE(fs::exists(cache() + "/ml-100k"));

  const CommandResult unknown = run_tandem("data download ml-7m --cache-dir '" + cache() + "'");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("known datasets: ml-100k, ml-1m, ml-latest-small"), std::string::npos)
      << unknown.err;
  EXPECT_EQ(server_.requests(), 1);
}

}  // namespace
}  // namespace tandem::testing
