#include "tandem/data/ratings_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "data/test_util.h"
#include "tandem/data/ratings.h"
#include "tandem/data/synthetic.h"

namespace tandem {
namespace {

// True when a temporary of `path` (path.tmp.*) is left in its directory.
bool has_temporary(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string prefix = p.filename().string() + ".tmp";
  for (const auto& e : std::filesystem::directory_iterator(p.parent_path()))
    if (e.path().filename().string().rfind(prefix, 0) == 0) return true;
  return false;
}

using testing::error_of;
using testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// Every column of `a` equals `b`'s bit for bit.
void expect_same_columns(const Ratings& a, const Ratings& b) {
  EXPECT_TRUE(same_bits(a.users, b.users));
  EXPECT_TRUE(same_bits(a.items, b.items));
  EXPECT_TRUE(same_bits(a.ratings, b.ratings));
  EXPECT_TRUE(same_bits(a.timestamps, b.timestamps));
}

TEST(WriteRatings, MovieLensFormatWithIntegerAndFractionalRatings) {
  TempDir dir;
  Ratings r;
  r.push_back(196, 242, 3.0f, 881250949);
  r.push_back(186, 302, 3.5f, 891717742);
  r.push_back(0, 9000000000, 0.1f, 0);
  const std::string path = (dir.path() / "u.data").string();
  write_ratings(r, path);
  EXPECT_EQ(slurp(path),
            "196\t242\t3\t881250949\n"
            "186\t302\t3.5\t891717742\n"
            "0\t9000000000\t0.1\t0\n");
  EXPECT_FALSE(has_temporary(path));
}

TEST(WriteRatings, SyntheticRoundTripGivesIdenticalColumns) {
  TempDir dir;
  SyntheticSpec s;
  s.users = 3000;
  s.items = 4000;
  s.interactions = 100000;
  s.seed = 7;
  const Ratings r = generate_synthetic(s);
  const std::string path = (dir.path() / "synthetic.data").string();
  write_ratings(r, path);
  const Ratings back = load_ratings(path);
  expect_same_columns(back, r);
}

TEST(WriteRatings, FractionalRatingsRoundTripExactly) {
  TempDir dir;
  Ratings r;
  const float values[] = {1.0f, 1.5f, 2.25f, 3.3333333f, 4.1f, 4.999999f, 5.0f};
  int64_t t = 0;
  for (const float v : values) r.push_back(1, 2, v, t++);
  const std::string path = (dir.path() / "u.data").string();
  write_ratings(r, path);
  EXPECT_TRUE(same_bits(load_ratings(path).ratings, r.ratings));
}

TEST(WriteRatings, ReplacesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.write("u.data", "old content that is longer than the new one\n");
  Ratings r;
  r.push_back(1, 2, 4.0f, 5);
  write_ratings(r, path);
  EXPECT_EQ(slurp(path), "1\t2\t4\t5\n");
}

TEST(WriteRatings, UnwritableRowLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  const std::string path = dir.write("u.data", "1\t2\t3\t4\n");
  Ratings r;
  r.push_back(1, 2, 4.0f, 5);
  r.push_back(-3, 2, 4.0f, 6);
  const std::string msg = error_of([&] { write_ratings(r, path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "row 1");
  EXPECT_CONTAINS(msg, "user -3");
  EXPECT_EQ(slurp(path), "1\t2\t3\t4\n");
  EXPECT_FALSE(has_temporary(path));

  Ratings nan;
  nan.push_back(1, 2, std::numeric_limits<float>::quiet_NaN(), 5);
  EXPECT_CONTAINS(error_of([&] { write_ratings(nan, path); }), "rating nan");
  EXPECT_EQ(slurp(path), "1\t2\t3\t4\n");
}

TEST(WriteRatings, ColumnsOfDifferentLengthsAreAnError) {
  TempDir dir;
  Ratings r;
  r.push_back(1, 2, 4.0f, 5);
  r.timestamps.push_back(6);
  const std::string path = (dir.path() / "u.data").string();
  const std::string msg = error_of([&] { write_ratings(r, path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "timestamps 2");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(WriteRatings, MissingDirectoryNamesThePath) {
  TempDir dir;
  Ratings r;
  r.push_back(1, 2, 4.0f, 5);
  const std::string path = (dir.path() / "no_such_dir" / "u.data").string();
  const std::string msg = error_of([&] { write_ratings(r, path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "No such file or directory");
}

TEST(WriteRatings, EmptyTableGivesAnEmptyFile) {
  TempDir dir;
  const std::string path = (dir.path() / "u.data").string();
  write_ratings(Ratings{}, path);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
}

TEST(WriteRatings, LargeTableCrossesTheBufferBoundary) {
  // More than one 4 MiB buffer of lines, to exercise the flush path.
  TempDir dir;
  Ratings r;
  const size_t n = 300000;
  r.reserve(n);
  for (size_t i = 0; i < n; ++i)
    r.push_back(static_cast<int64_t>(i) * 1000003, static_cast<int64_t>(i % 977), (i % 9) * 0.5f + 1.0f,
                1000000000 + static_cast<int64_t>(i));
  const std::string path = (dir.path() / "u.data").string();
  write_ratings(r, path);
  const Ratings back = load_ratings(path);
  expect_same_columns(back, r);
}

TEST(RatingsWriter, MovieLensCsvLayoutReadsBack) {
  TempDir dir;
  Ratings r;
  r.push_back(3, 7, 4.5f, 100);
  r.push_back(1, 2, 1.0f, 200);
  const std::string path = (dir.path() / "ratings.csv").string();
  write_ratings(r, path, movielens_csv_ratings());
  EXPECT_EQ(slurp(path), "userId,movieId,rating,timestamp\n3,7,4.5,100\n1,2,1,200\n");
  expect_same_columns(load_ratings(path, movielens_csv_ratings()), r);
}

}  // namespace
}  // namespace tandem
