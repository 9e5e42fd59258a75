// `tandem export` end to end on MovieLens-100K: a kerasrs model exported as
// npz and safetensors holds the same arrays, the npz's vectors give the same
// top 10 as `tandem recommend --candidates 10` (exact retrieval) by plain dot
// products, and bad input fails with a message and no file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "e2e_util.h"
#include "support/export_readers.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

class ExportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_export_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// The 10 catalogue ids whose item vectors have the largest dot product with
// the user's vector (ties: the lower catalogue index first).
std::set<int64_t> top10(const ReadFile& f, int64_t user) {
  const std::vector<int64_t> user_ids = f.arrays.at("user_ids").values<int64_t>();
  const std::vector<float> users = f.arrays.at("user_embeddings").values<float>();
  const std::vector<int64_t> item_ids = f.arrays.at("item_ids").values<int64_t>();
  const std::vector<float> items = f.arrays.at("item_embeddings").values<float>();
  const size_t d = static_cast<size_t>(f.arrays.at("user_embeddings").shape.at(1));
  const size_t row = static_cast<size_t>(std::find(user_ids.begin(), user_ids.end(), user) - user_ids.begin());
  EXPECT_LT(row, user_ids.size()) << "user " << user;
  std::vector<double> score(item_ids.size());
  for (size_t i = 0; i < item_ids.size(); ++i)
    for (size_t k = 0; k < d; ++k) score[i] += static_cast<double>(users[row * d + k]) * items[i * d + k];
  std::vector<size_t> order(item_ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  std::set<int64_t> out;
  for (size_t i = 0; i < 10; ++i) out.insert(item_ids[order[i]]);
  return out;
}

TEST_F(ExportCli, ExportedVectorsRetrieveWhatRecommendRetrieves) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string model = path("m.tandem");
  auto train = run_tandem("train --preset kerasrs --data '" + movielens_dir() +
                          "' --epochs 1 --seed 7 --threads 1 --quiet --output '" + model + "'");
  ASSERT_EQ(train.exit_code, 0) << train.err;

  auto npz = run_tandem("export --model '" + model + "' --format npz --output '" + path("m.npz") + "' --json");
  ASSERT_EQ(npz.exit_code, 0) << npz.err;
  const auto summary = nlohmann::json::parse(npz.out);
  EXPECT_EQ(summary["format"], "npz");
  EXPECT_EQ(summary["bytes"].get<uint64_t>(), fs::file_size(path("m.npz")));
  auto st = run_tandem("export --model '" + model + "' --format safetensors --output '" + path("m.st") + "'");
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("arrays"), std::string::npos) << st.out;

  const ReadFile n = read_npz(path("m.npz"));
  const ReadFile s = read_safetensors(path("m.st"));
  EXPECT_EQ(n.arrays.at("user_embeddings").shape, (std::vector<int64_t>{944, 32}));
  EXPECT_EQ(n.arrays.at("item_embeddings").shape, (std::vector<int64_t>{1682, 32}));
  EXPECT_EQ(n.arrays.at("weights/rating_head.0.kernel").shape, (std::vector<int64_t>{64, 256}));
  // The same numeric arrays in both files.
  size_t compared = 0;
  for (const auto& [name, a] : s.arrays) {
    if (!n.arrays.count(name)) continue;
    EXPECT_EQ(a.bytes, n.arrays.at(name).bytes) << name;
    EXPECT_EQ(a.shape, n.arrays.at(name).shape) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 12u);  // ids, vectors, 2 tables, 6 weights: all but the titles, encoded differently
  EXPECT_EQ(unicode_strings(n.arrays.at("item_titles")), byte_strings(s, "item_titles"));
  EXPECT_EQ(n.metadata["config"]["preset"], "kerasrs");

  for (const int64_t user : {1, 5, 943}) {
    auto rec = run_tandem("recommend --json --model '" + model + "' --user " + std::to_string(user) +
                          " --k 10 --candidates 10");
    ASSERT_EQ(rec.exit_code, 0) << rec.err;
    std::set<int64_t> tandem_top;
    const auto r = nlohmann::json::parse(rec.out);
    ASSERT_EQ(r["items"].size(), 10u);
    for (const auto& item : r["items"]) tandem_top.insert(item["item_id"].get<int64_t>());
    EXPECT_EQ(top10(n, user), tandem_top) << "user " << user;
  }
}

TEST_F(ExportCli, BadInputFailsWithAMessageAndNoFile) {
  const std::string out = path("out.npz");
  auto format = run_tandem("export --model '" + path("none.tandem") + "' --format onnx --output '" + out + "'");
  EXPECT_EQ(format.exit_code, 1);
  EXPECT_NE(format.err.find("tandem: error: unknown export format 'onnx' (valid: npz, safetensors)"),
            std::string::npos)
      << format.err;

  auto missing = run_tandem("export --model '" + path("none.tandem") + "' --format npz --output '" + out + "'");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("tandem: error: "), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("none.tandem"), std::string::npos) << missing.err;

  {
    std::ofstream junk(path("junk.tandem"));
    junk << "not a model";
    std::ofstream old(out);
    old << "old";
  }
  auto corrupt = run_tandem("export --model '" + path("junk.tandem") + "' --format npz --output '" + out + "'");
  EXPECT_EQ(corrupt.exit_code, 1);
  EXPECT_NE(corrupt.err.find("tandem: error: "), std::string::npos) << corrupt.err;
  EXPECT_EQ(file_bytes(out), "old") << "a failed export leaves the old file";

  TANDEM_REQUIRE_MOVIELENS();
  const std::string model = path("m.tandem");
  auto train = run_tandem("train --preset kerasrs --data '" + movielens_dir() +
                          "' --epochs 1 --train-count 2000 --test-count 200 --threads 1 --quiet --output '" + model +
                          "'");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  auto unwritable = run_tandem("export --model '" + model + "' --format safetensors --output '" +
                               path("no/such/dir/m.st") + "'");
  EXPECT_EQ(unwritable.exit_code, 1);
  EXPECT_NE(unwritable.err.find("tandem: error: "), std::string::npos) << unwritable.err;
  EXPECT_NE(unwritable.err.find("no/such/dir/m.st"), std::string::npos) << unwritable.err;
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir_)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"junk.tandem", "m.tandem", "out.npz"}));
}

}  // namespace
}  // namespace tandem::testing
