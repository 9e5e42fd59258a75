#include "tandem/data/catalogue.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>

#include "data/test_util.h"
#include "support/movielens_data.h"
#include "support/special_files.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

using testing::error_of;

TEST(Latin1ToUtf8, AsciiIsUnchanged) {
  EXPECT_EQ(latin1_to_utf8("Toy Story (1995)"), "Toy Story (1995)");
  EXPECT_EQ(latin1_to_utf8(""), "");
}

TEST(Latin1ToUtf8, HighBytesBecomeTwoByteSequences) {
  EXPECT_EQ(latin1_to_utf8("Mis\xE9rables"), "Mis\xC3\xA9rables");
  EXPECT_EQ(latin1_to_utf8("\x80"), "\xC2\x80");
  EXPECT_EQ(latin1_to_utf8("\xA0"), "\xC2\xA0");
  EXPECT_EQ(latin1_to_utf8("\xFF"), "\xC3\xBF");
  EXPECT_EQ(latin1_to_utf8(std::string_view("a\0b", 3)), std::string("a\0b", 3));
}

TEST(ParseCatalogue, ReadsIdsAndTitlesInFileOrder) {
  const Catalogue c = parse_catalogue(
      "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1\n"
      "543|Mis\xE9rables, Les (1995)|01-Jan-1995||http://y|0|0\n"
      "2|GoldenEye (1995)\n",
      "u.item");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.item_ids, (std::vector<int64_t>{1, 543, 2}));
  EXPECT_EQ(c.titles[0], "Toy Story (1995)");
  EXPECT_EQ(c.titles[1], "Mis\xC3\xA9rables, Les (1995)");
  EXPECT_EQ(c.titles[2], "GoldenEye (1995)");
}

TEST(ParseCatalogue, AcceptsCrlfAndTrailingBlankLines) {
  const Catalogue c = parse_catalogue("1|A|x\r\n2|B\r\n\r\n", "u.item");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c.titles[0], "A");
  EXPECT_EQ(c.titles[1], "B");  // no '\r' left on the last field
}

TEST(ParseCatalogue, TooFewFields) {
  const std::string msg = error_of([] { parse_catalogue("1|A\n2\n", "u.item"); });
  EXPECT_CONTAINS(msg, "u.item:2:");
  EXPECT_CONTAINS(msg, "found 1");
}

TEST(ParseCatalogue, NonNumericOrNegativeId) {
  EXPECT_CONTAINS(error_of([] { parse_catalogue("1|A\nx|B\n", "u.item"); }),
                  "u.item:2: field 1 (item id) is not an integer: 'x'");
  EXPECT_CONTAINS(error_of([] { parse_catalogue("-1|A\n", "u.item"); }),
                  "u.item:1: field 1 (item id) is negative: -1");
}

TEST(ParseCatalogue, DuplicateId) {
  const std::string msg = error_of([] { parse_catalogue("1|A\n2|B\n1|C\n", "u.item"); });
  EXPECT_CONTAINS(msg, "u.item:3: duplicate item id 1");
  EXPECT_CONTAINS(msg, "line 1");
}

TEST(ParseCatalogue, EmptyInput) {
  for (const char* text : {"", "\n\n"}) {
    const std::string msg = error_of([&] { parse_catalogue(text, "u.item"); });
    EXPECT_CONTAINS(msg, "u.item");
    EXPECT_CONTAINS(msg, "no items");
  }
}

TEST(ParseCatalogue, BlankLineInTheMiddle) {
  EXPECT_CONTAINS(error_of([] { parse_catalogue("1|A\n\n2|B\n", "u.item"); }),
                  "u.item:2: blank line");
}

TEST(LoadCatalogue, ReadsAFileAndConvertsLatin1) {
  testing::TempDir dir;
  const std::string path = dir.write("u.item", "7|Caf\xE9 (1990)|x\n");
  const Catalogue c = load_catalogue(path);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c.item_ids[0], 7);
  EXPECT_EQ(c.titles[0], "Caf\xC3\xA9 (1990)");
}

TEST(LoadCatalogue, MissingAndEmptyFiles) {
  testing::TempDir dir;
  const std::string missing = (dir.path() / "missing.item").string();
  EXPECT_CONTAINS(error_of([&] { load_catalogue(missing); }), missing);
  const std::string empty = dir.write("empty.item", "");
  EXPECT_CONTAINS(error_of([&] { load_catalogue(empty); }), empty + ": no items");
}

TEST(LoadCatalogue, ErrorsNameTheFileAndLine) {
  testing::TempDir dir;
  const std::string path = dir.write("dup.item", "1|A\n2|B\n2|C\n");
  EXPECT_CONTAINS(error_of([&] { load_catalogue(path); }), path + ":3: duplicate item id 2");
}

// A byte-order mark before the first id is skipped; a last line without its
// newline is read like any other, or refused saying so; the largest id and
// its line are recorded.
TEST(ParseCatalogue, ByteOrderMarkLastLineAndLargestId) {
  const Catalogue c = parse_catalogue("\xEF\xBB\xBF" "1|A\n2147483648|B\n3|C", "u.item");
  EXPECT_EQ(c.item_ids, (std::vector<int64_t>{1, 2147483648, 3}));
  EXPECT_EQ(c.titles.back(), "C");
  EXPECT_EQ(c.largest_id.place_of(2147483648), "u.item:2");
  EXPECT_EQ(error_of([] { parse_catalogue("1|A\n2", "u.item"); }),
            "u.item:2: expected at least 2 '|'-separated fields (id, title), found 1 (last line, no final newline)");
  EXPECT_EQ(error_of([] { parse_catalogue("1|A\n\xEF\xBB\xBF" "2|B\n", "u.item"); }),
            "u.item:2: field 1 (item id) is not an integer: '\\ufeff2' (contains a UTF-8 BOM)");
}

// movies.csv's lines are numbered as in the file, the header being line 1,
// blank lines and the largest id's line included.
TEST(ParseCatalogue, LinesAfterAHeaderAreTheFilesLines) {
  EXPECT_EQ(error_of([] { parse_catalogue("movieId,title,genres\n1,A,x\n\n2,B,x\n", "movies.csv", movielens_csv_items()); }),
            "movies.csv:3: blank line before the end of the file (only trailing blank lines are allowed)");
  const Catalogue c = parse_catalogue("\xEF\xBB\xBFmovieId,title,genres\n1,A,x\n9,B,x\n", "movies.csv",
                                      movielens_csv_items());
  EXPECT_EQ(c.largest_id.place_of(9), "movies.csv:3");
}

// The real MovieLens-100K u.item ($TANDEM_DATA or ../shared/data/ml-100k);
// missing data fails unless TANDEM_ALLOW_MISSING_DATA=1.
TEST(RealData, MovieLens100kCatalogue) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::filesystem::path dir = testing::movielens_dir();
  const Catalogue c = load_catalogue((dir / "u.item").string());
  ASSERT_EQ(c.size(), 1682u);
  EXPECT_EQ(c.item_ids.front(), 1);
  EXPECT_EQ(c.titles.front(), "Toy Story (1995)");
  EXPECT_EQ(c.item_ids.back(), 1682);
  ASSERT_EQ(c.item_ids[542], 543);
  EXPECT_EQ(c.titles[542], "Mis\xC3\xA9rables, Les (1995)");
}


TEST(ParseCatalogue, MovieLens1mLayoutIsLatin1) {
  const Catalogue c = parse_catalogue("1::Toy Story (1995)::Animation|Children's|Comedy\n"
                                      "2::Mis\xe9rables, Les (1995)::Drama\n",
                                      "movies.dat", movielens_1m_items());
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c.titles[0], "Toy Story (1995)");
  EXPECT_EQ(c.titles[1], "Mis\xc3\xa9rables, Les (1995)");
}

// movies.csv: UTF-8, header, titles quoted when they hold commas or quotes.
TEST(ParseCatalogue, MovieLensCsvLayoutWithQuotes) {
  const Catalogue c = parse_catalogue(
      "movieId,title,genres\n"
      "1,Toy Story (1995),Adventure|Animation\n"
      "11,\"American President, The (1995)\",Comedy|Drama|Romance\n"
      "7,\"Say \"\"Hi\"\" (2001)\",Comedy\n"
      "8,Am\xc3\xa9lie (2001),Comedy\n",
      "movies.csv", movielens_csv_items());
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c.item_ids[1], 11);
  EXPECT_EQ(c.titles[1], "American President, The (1995)");
  EXPECT_EQ(c.titles[2], "Say \"Hi\" (2001)");
  EXPECT_EQ(c.titles[3], "Am\xc3\xa9lie (2001)");  // UTF-8 kept as is
  auto error_of = [](const std::string& text) {
    try {
      parse_catalogue(text, "movies.csv", movielens_csv_items());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("movieId,title,genres\n1,\"Open (1995),Drama\n"),
            "movies.csv:2: the title's opening quote is never closed");
  EXPECT_EQ(error_of("movieId,title,genres\n1,\"A\"b,Drama\n"),
            "movies.csv:2: text after the closing quote of the title");
  EXPECT_EQ(error_of("id,title\n1,A\n").rfind("movies.csv:1: expected the header line", 0), 0u);
}

TEST(LoadCatalogue, DevicesFifosAndDirectoriesAreRefusedByName) {
  testing::TempDir dir;
  testing::make_fifo(dir.path() / "u.item");
  const std::string fifo = (dir.path() / "u.item").string();
  for (const auto& [path, kind] : {std::pair<std::string, std::string>{"/dev/zero", "(a character device)"},
                                   {fifo, "(a FIFO)"},
                                   {dir.path().string(), "(a directory)"}}) {
    // A named copy: C++17 lambdas cannot capture a structured binding (clang refuses it).
    const std::string& file = path;
    const testing::BoundedCall r = testing::call_within(10, [&file] { (void)load_catalogue(file); });
    EXPECT_TRUE(r.finished) << path << ": still reading after 10 s";
    EXPECT_EQ(r.message, path + ": cannot read item file: not a regular file " + kind);
  }
}

}  // namespace
}  // namespace tandem
