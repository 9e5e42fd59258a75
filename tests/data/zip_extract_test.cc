#include "tandem/data/zip_extract.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "test_util.h"
#include "zip_builder.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::make_zip;
using testing::TempDir;
using testing::ZipEntries;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class ZipExtract : public ::testing::Test {
 protected:
  // Writes the archive of `entries` and returns its path; out_ is empty.
  std::string archive(const ZipEntries& entries) {
    fs::create_directories(out());
    return dir_.write("a.zip", make_zip(entries));
  }
  fs::path out() const { return dir_.path() / "out"; }
  // Nothing but directories under out_: a refused archive wrote no file.
  bool wrote_no_file() const {
    for (const auto& e : fs::recursive_directory_iterator(out()))
      if (!e.is_directory()) return false;
    return true;
  }
  TempDir dir_;
};

TEST_F(ZipExtract, ExtractsFilesAndDirectories) {
  const std::string zip = archive(testing::fake_ml100k(3, 4));
  const ZipExtractResult r = extract_zip(zip, out().string());
  EXPECT_EQ(r.files, 3u);
  EXPECT_TRUE(fs::is_directory(out() / "ml-100k"));
  EXPECT_EQ(read(out() / "ml-100k" / "README"), "synthetic test archive\n");
  const std::string data = read(out() / "ml-100k" / "u.data");
  EXPECT_EQ(std::count(data.begin(), data.end(), '\n'), 12);
  EXPECT_EQ(r.bytes, fs::file_size(out() / "ml-100k" / "u.data") +
                         fs::file_size(out() / "ml-100k" / "u.item") +
                         fs::file_size(out() / "ml-100k" / "README"));
}

TEST_F(ZipExtract, RefusesPathTraversal) {
  for (const std::string name : {"../evil.txt", "ml-100k/../../evil.txt", "/tmp/evil.txt",
                                 "a\\..\\evil.txt", "C:/evil.txt"}) {
    SCOPED_TRACE(name);
    const std::string zip = archive({{"ml-100k/u.data", "1\t1\t5\t0\n"}, {name, "pwned"}});
    const std::string msg = error_of([&] { extract_zip(zip, out().string()); });
    EXPECT_CONTAINS(msg, "refusing the archive: entry '" + name + "'");
    EXPECT_TRUE(wrote_no_file()) << "nothing is written before every entry passed";
    EXPECT_FALSE(fs::exists(dir_.path() / "evil.txt"));
  }
}

TEST_F(ZipExtract, RefusesAZipBomb) {
  // 8 MiB of zeros deflate to a few KiB: declared sizes give it away.
  const std::string zip = archive({{"ml-100k/u.data", std::string(8 << 20, '\0')}});
  EXPECT_LT(fs::file_size(zip), 100000u);
  ZipLimits limits;
  limits.max_total_bytes = 1 << 20;
  const std::string msg = error_of([&] { extract_zip(zip, out().string(), limits); });
  EXPECT_CONTAINS(msg, "expand to more than 1048576 bytes");
  EXPECT_CONTAINS(msg, "zip bomb");
  EXPECT_TRUE(wrote_no_file());
}

TEST_F(ZipExtract, RefusesTooManyEntries) {
  ZipEntries many;
  for (int i = 0; i < 20; ++i) many.push_back({std::to_string(i) + ".txt", "x"});
  ZipLimits limits;
  limits.max_entries = 10;
  EXPECT_CONTAINS(error_of([&] { extract_zip(archive(many), out().string(), limits); }),
                  "20 entries, more than the limit of 10");
}

TEST_F(ZipExtract, RefusesWhatIsNotAZip) {
  fs::create_directories(out());
  const std::string bogus = dir_.write("bogus.zip", "<html>404 Not Found</html>");
  EXPECT_CONTAINS(error_of([&] { extract_zip(bogus, out().string()); }),
                  "bogus.zip: not a readable zip archive");
}

TEST_F(ZipExtract, DetectsACorruptEntry) {
  std::string bytes = make_zip({{"big.txt", std::string(100000, 'x') + std::string(100000, 'y')}});
  // Flip bytes inside the compressed data (after the 30-byte local header and
  // the name), leaving the directory readable.
  for (size_t i = 60; i < 80; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5A);
  fs::create_directories(out());
  const std::string zip = dir_.write("corrupt.zip", bytes);
  EXPECT_CONTAINS(error_of([&] { extract_zip(zip, out().string()); }), "big.txt");
}

}  // namespace
}  // namespace tandem
