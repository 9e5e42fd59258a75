#include "tandem/data/ratings.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "data/test_util.h"
#include "support/movielens_data.h"
#include "support/special_files.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

using testing::error_of;

TEST(ParseRatings, ReadsAllFieldsInOrder) {
  const Ratings r = parse_ratings("196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n0\t7\t1\t0\n",
                                  "u.data");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r.users, (std::vector<int64_t>{196, 186, 0}));
  EXPECT_EQ(r.items, (std::vector<int64_t>{242, 302, 7}));
  EXPECT_EQ(r.ratings, (std::vector<float>{3.0f, 3.5f, 1.0f}));
  EXPECT_EQ(r.timestamps, (std::vector<int64_t>{881250949, 891717742, 0}));
}

TEST(ParseRatings, LastLineWithoutNewline) {
  const Ratings r = parse_ratings("1\t2\t5\t10\n3\t4\t1\t20", "u.data");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.users[1], 3);
  EXPECT_EQ(r.timestamps[1], 20);
}

TEST(ParseRatings, AcceptsCrlfAndTrailingBlankLines) {
  const Ratings r = parse_ratings("1\t2\t5\t10\r\n3\t4\t1\t20\r\n\r\n\n", "u.data");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.timestamps, (std::vector<int64_t>{10, 20}));
  EXPECT_EQ(r.ratings[0], 5.0f);
}

TEST(ParseRatings, LargeIdsAreKept) {
  const Ratings r = parse_ratings("9000000000\t2\t5\t10\n", "u.data");
  EXPECT_EQ(r.users[0], 9000000000);
}

TEST(ParseRatings, BlankLineInTheMiddleIsAnError) {
  const std::string msg = error_of([] { parse_ratings("1\t2\t5\t10\n\n3\t4\t1\t20\n", "u.data"); });
  EXPECT_CONTAINS(msg, "u.data:2:");
  EXPECT_CONTAINS(msg, "blank line");
}

TEST(ParseRatings, WrongColumnCount) {
  const std::string text =
      "1\t2\t5\t10\n"
      "1\t2\t5\n";
  const std::string msg = error_of([&] { parse_ratings(text, "u.data"); });
  EXPECT_CONTAINS(msg, "u.data:2: expected 4 tab-separated fields");
  EXPECT_CONTAINS(msg, "found 3");

  const std::string msg5 = error_of([] { parse_ratings("1\t2\t5\t10\t99\n", "x.data"); });
  EXPECT_CONTAINS(msg5, "x.data:1:");
  EXPECT_CONTAINS(msg5, "found 5");

  // Spaces are not separators.
  const std::string msg1 = error_of([] { parse_ratings("1 2 5 10\n", "x.data"); });
  EXPECT_CONTAINS(msg1, "x.data:1:");
  EXPECT_CONTAINS(msg1, "found 1");
}

TEST(ParseRatings, NonNumericRating) {
  const std::string msg =
      error_of([] { parse_ratings("1\t2\t5\t10\n1\t2\tx\t10\n", "bad.data"); });
  EXPECT_CONTAINS(msg, "bad.data:2: field 3 (rating) is not a number: 'x'");
}

TEST(ParseRatings, NonFiniteRatingIsNotANumber) {
  for (const char* bad : {"nan", "inf", "3.5abc", "", " 3"}) {
    const std::string text = std::string("1\t2\t") + bad + "\t10\n";
    const std::string msg = error_of([&] { parse_ratings(text, "bad.data"); });
    EXPECT_CONTAINS(msg, "bad.data:1: field 3 (rating) is not a number") << bad;
  }
}

TEST(ParseRatings, NonNumericIds) {
  EXPECT_CONTAINS(error_of([] { parse_ratings("u1\t2\t5\t10\n", "bad.data"); }), "bad.data:1: field 1 (user) is not an integer: 'u1'");
  EXPECT_CONTAINS(error_of([] { parse_ratings("1\t2.5\t5\t10\n", "bad.data"); }), "bad.data:1: field 2 (item) is not an integer: '2.5'");
  EXPECT_CONTAINS(error_of([] { parse_ratings("1\t2\t5\t\n", "bad.data"); }), "bad.data:1: field 4 (timestamp) is not an integer: ''");
  EXPECT_CONTAINS(error_of([] { parse_ratings("1\t2\t5\t99999999999999999999\n", "bad.data"); }), "bad.data:1: field 4 (timestamp) does not fit a 64-bit integer");
}

TEST(ParseRatings, NegativeId) {
  const std::string msg =
      error_of([] { parse_ratings("1\t2\t5\t10\n1\t2\t5\t10\n-3\t2\t5\t10\n", "neg.data"); });
  EXPECT_CONTAINS(msg, "neg.data:3: field 1 (user) is negative: -3");
  EXPECT_CONTAINS(error_of([] { parse_ratings("1\t-2\t5\t10\n", "neg.data"); }), "neg.data:1: field 2 (item) is negative");
}

TEST(ParseRatings, RatingOutOfRange) {
  const std::string msg = error_of([] { parse_ratings("1\t2\t5\t10\n1\t2\t7\t10\n", "r.data"); });
  EXPECT_CONTAINS(msg, "r.data:2: rating 7 out of range [1, 5]");
  EXPECT_CONTAINS(error_of([] { parse_ratings("1\t2\t0.5\t10\n", "r.data"); }), "r.data:1: rating 0.5 out of range [1, 5]");
}

TEST(ParseRatings, FormatSetsTheRange) {
  RatingsFormat zero_to_ten;
  zero_to_ten.min_rating = 0.0f;
  zero_to_ten.max_rating = 10.0f;
  const Ratings r = parse_ratings("1\t2\t0\t10\n1\t2\t10\t10\n", "r.data", zero_to_ten);
  EXPECT_EQ(r.ratings, (std::vector<float>{0.0f, 10.0f}));
  EXPECT_CONTAINS(error_of([&] { parse_ratings("1\t2\t10.5\t10\n", "r.data", zero_to_ten); }), "r.data:1: rating 10.5 out of range [0, 10]");
}

TEST(ParseRatings, EmptyInputIsAnError) {
  for (const char* text : {"", "\n", "\r\n\n"}) {
    const std::string msg = error_of([&] { parse_ratings(text, "empty.data"); });
    EXPECT_CONTAINS(msg, "empty.data");
    EXPECT_CONTAINS(msg, "no ratings");
  }
}

// A last line without its newline is read like any other: complete, it is
// a record (a timestamp cut short is still an integer, so nothing tells it
// was cut); with fields missing, it gets every line's error, saying that the
// line had no final newline.
TEST(ParseRatings, LastLineWithoutNewlineIsParsedOrRefusedWhole) {
  const Ratings cut_timestamp = parse_ratings("1\t2\t5\t10\n196\t242\t3\t88125", "u.data");
  ASSERT_EQ(cut_timestamp.size(), 2u);
  EXPECT_EQ(cut_timestamp.timestamps[1], 88125);
  EXPECT_EQ(error_of([] { parse_ratings("1\t2\t5\t10\n196\t242\t3", "u.data"); }),
            "u.data:2: expected 4 tab-separated fields (user, item, rating, timestamp), found 3 "
            "(last line, no final newline)");
  EXPECT_EQ(error_of([] { parse_ratings("1\t2\t5\t10\n196\t24", "u.data"); }),
            "u.data:2: expected 4 tab-separated fields (user, item, rating, timestamp), found 2 "
            "(last line, no final newline)");
  EXPECT_EQ(error_of([] { parse_ratings("1\t2\t5\t10\n196\t242\t3\t", "u.data"); }),
            "u.data:2: field 4 (timestamp) is not an integer: '' (last line, no final newline)");
  // The same line with its newline: the same error, without the remark.
  EXPECT_EQ(error_of([] { parse_ratings("1\t2\t5\t10\n196\t242\t3\n", "u.data"); }),
            "u.data:2: expected 4 tab-separated fields (user, item, rating, timestamp), found 3");
  // Parsed in pieces, the last piece's last line is the file's.
  EXPECT_EQ(error_of([] { parse_ratings("1\t2\t5\t10\n3\t4\t5\t10\n5\t6\t5\t10\n196\t242\t3", "u.data", {}, 3); }),
            "u.data:4: expected 4 tab-separated fields (user, item, rating, timestamp), found 3 "
            "(last line, no final newline)");
}

// A UTF-8 byte-order mark at the start of the file is skipped; anywhere else
// it is named in the field it spoils.
TEST(ParseRatings, ByteOrderMarkAtTheStartIsSkippedElsewhereNamed) {
  for (const int threads : {1, 3}) {
    const Ratings r = parse_ratings("\xEF\xBB\xBF" "196\t242\t3\t881250949\n7\t8\t2\t200\n", "u.data", {}, threads);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r.users, (std::vector<int64_t>{196, 7}));
  }
  EXPECT_EQ(error_of([] { parse_ratings("1\t2\t5\t10\n\xEF\xBB\xBF" "196\t242\t3\t881250949\n", "u.data"); }),
            "u.data:2: field 1 (user) is not an integer: '\\ufeff196' (contains a UTF-8 BOM)");
  // With a header (ratings.csv) the mark precedes the header.
  const Ratings csv = parse_ratings("\xEF\xBB\xBFuserId,movieId,rating,timestamp\n1,1,4.0,964982703\n",
                                    "ratings.csv", movielens_csv_ratings());
  EXPECT_EQ(csv.size(), 1u);
}

// A field with control bytes is quoted escaped: a NUL no longer cuts the
// message short, a tab or escape sequence no longer bends it.
TEST(ParseRatings, ControlBytesInAFieldAreEscaped) {
  using namespace std::string_literals;
  EXPECT_EQ(error_of([] { parse_ratings("19\0" "6\t242\t3\t881250949\n"s, "u.data"); }),
            "u.data:1: field 1 (user) is not an integer: '19\\x006'");
  EXPECT_EQ(error_of([] { parse_ratings("196\t242\t3\t8812\x1b[2J\r\n", "u.data"); }),
            "u.data:1: field 4 (timestamp) is not an integer: '8812\\x1b[2J'");
  EXPECT_EQ(error_of([] { parse_ratings("196\t242\t3\x7f\t1\n", "u.data"); }),
            "u.data:1: field 3 (rating) is not a number: '3\\x7f'");
  EXPECT_EQ(error_of([] { parse_ratings("196\tx" + std::string(50, '9') + "\t3\t1\n", "u.data"); }),
            "u.data:1: field 2 (item) is not an integer: 'x" + std::string(39, '9') + "...' (51 bytes)");
}

// The largest user and item ids and the first line holding each, read
// serially or in pieces alike; a selection keeps them.
TEST(ParseRatings, RecordsTheLargestIdsAndTheirFirstLines) {
  const std::string text =
      "1\t7\t5\t10\n"
      "2147483648\t3\t5\t10\n"
      "5\t9\t5\t10\n"
      "2147483648\t9\t5\t10\n"
      "4\t2\t5\t10\n";
  for (const int threads : {1, 2, 5}) {
    const Ratings r = parse_ratings(text, "u.data", {}, threads);
    EXPECT_EQ(r.largest_user.id, 2147483648) << threads;
    EXPECT_EQ(r.largest_user.line, 2u) << threads;
    EXPECT_EQ(r.largest_user.place_of(2147483648), "u.data:2") << threads;
    EXPECT_EQ(r.largest_user.place_of(5), "") << threads;  // not the largest: unknown
    EXPECT_EQ(r.largest_item.id, 9) << threads;
    EXPECT_EQ(r.largest_item.line, 3u) << threads;
    const Ratings some = r.select({4});
    EXPECT_EQ(some.largest_user.place_of(2147483648), "u.data:2") << threads;
  }
  const Ratings with_header = parse_ratings("userId,movieId,rating,timestamp\n1,1,4,5\n3,2,4,5\n",
                                            "ratings.csv", movielens_csv_ratings());
  EXPECT_EQ(with_header.largest_user.place_of(3), "ratings.csv:3");
  EXPECT_EQ(Ratings{}.largest_user.place_of(-1), "");  // built in memory: unknown
}

TEST(LoadRatings, ReadsAFile) {
  testing::TempDir dir;
  const std::string path = dir.write("u.data", "5\t6\t4\t100\r\n7\t8\t2\t200\r\n");
  const Ratings r = load_ratings(path);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.users, (std::vector<int64_t>{5, 7}));
  EXPECT_EQ(r.items, (std::vector<int64_t>{6, 8}));
  EXPECT_EQ(r.ratings, (std::vector<float>{4.0f, 2.0f}));
}

TEST(LoadRatings, ErrorsNameTheFileAndLine) {
  testing::TempDir dir;
  const std::string path = dir.write("bad.data", "5\t6\t4\t100\n7\t8\t2\n");
  EXPECT_CONTAINS(error_of([&] { load_ratings(path); }), path + ":2: expected 4");
}

TEST(LoadRatings, EmptyFile) {
  testing::TempDir dir;
  const std::string path = dir.write("empty.data", "");
  const std::string msg = error_of([&] { load_ratings(path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "no ratings");
}

TEST(LoadRatings, MissingFile) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "nope.data").string();
  const std::string msg = error_of([&] { load_ratings(path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "No such file");
}

TEST(LoadRatings, DirectoryIsAnError) {
  testing::TempDir dir;
  const std::string msg = error_of([&] { load_ratings(dir.path().string()); });
  EXPECT_CONTAINS(msg, dir.path().string());
  EXPECT_CONTAINS(msg, "directory");
}

// Data files must be regular files: /dev/zero once kept the loader reading
// forever, and a FIFO blocked it. Each is refused by name before a byte is
// read (bounded by an alarm in a child, so a regression fails, not hangs).
TEST(LoadRatings, DevicesAndFifosAreRefusedByName) {
  testing::TempDir dir;
  testing::make_fifo(dir.path() / "u.data");
  const std::string fifo = (dir.path() / "u.data").string();
  for (const std::string& path : {std::string("/dev/zero"), fifo}) {
    if (!std::filesystem::exists(path)) continue;
    const testing::BoundedCall r = testing::call_within(10, [&] { (void)load_ratings(path); });
    EXPECT_TRUE(r.finished) << path << ": still reading after 10 s";
    EXPECT_TRUE(r.threw) << path;
    EXPECT_CONTAINS(r.message, path + ": cannot read ratings file: not a regular file");
  }
  const testing::BoundedCall on_fifo = testing::call_within(10, [&] { (void)load_ratings(fifo); });
  EXPECT_CONTAINS(on_fifo.message, "(a FIFO)");
  const testing::BoundedCall on_zero = testing::call_within(10, [&] { (void)load_ratings("/dev/zero"); });
  EXPECT_CONTAINS(on_zero.message, "(a character device)");
}

TEST(Ratings, PushBackReserveSelect) {
  Ratings r;
  r.reserve(3);
  EXPECT_GE(r.users.capacity(), 3u);
  EXPECT_GE(r.timestamps.capacity(), 3u);
  r.push_back(1, 10, 1.0f, 100);
  r.push_back(2, 20, 2.0f, 200);
  r.push_back(3, 30, 3.0f, 300);
  ASSERT_EQ(r.size(), 3u);

  const Ratings s = r.select({2, 0, 2});
  EXPECT_EQ(s.users, (std::vector<int64_t>{3, 1, 3}));
  EXPECT_EQ(s.items, (std::vector<int64_t>{30, 10, 30}));
  EXPECT_EQ(s.ratings, (std::vector<float>{3.0f, 1.0f, 3.0f}));
  EXPECT_EQ(s.timestamps, (std::vector<int64_t>{300, 100, 300}));
  EXPECT_EQ(r.select({}).size(), 0u);
  EXPECT_THROW(r.select({3}), Error);
}

// The real MovieLens-100K file ($TANDEM_DATA or ../shared/data/ml-100k);
// missing data fails unless TANDEM_ALLOW_MISSING_DATA=1.
TEST(RealData, MovieLens100kRatings) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::filesystem::path dir = testing::movielens_dir();
  const Ratings r = load_ratings((dir / "u.data").string());
  ASSERT_EQ(r.size(), 100000u);
  EXPECT_EQ(std::set<int64_t>(r.users.begin(), r.users.end()).size(), 943u);
  EXPECT_EQ(std::set<int64_t>(r.items.begin(), r.items.end()).size(), 1682u);
  EXPECT_EQ(std::set<float>(r.ratings.begin(), r.ratings.end()),
            (std::set<float>{1.0f, 2.0f, 3.0f, 4.0f, 5.0f}));
  EXPECT_EQ(r.users[0], 196);
  EXPECT_EQ(r.items[0], 242);
  EXPECT_EQ(r.ratings[0], 3.0f);
  EXPECT_EQ(r.timestamps[0], 881250949);
}


// MovieLens-1M's ratings.dat: "::"-separated, line numbers in errors.
TEST(ParseRatings, MovieLens1mLayout) {
  const Ratings r = parse_ratings("1::1193::5::978300760\n6040::2019::4::956703977\n", "ratings.dat",
                                  movielens_1m_ratings());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.users[1], 6040);
  EXPECT_EQ(r.items[0], 1193);
  EXPECT_EQ(r.ratings[1], 4.0f);
  EXPECT_EQ(r.timestamps[1], 956703977);
  try {
    parse_ratings("1::2::3::4\n1::2::3\n", "ratings.dat", movielens_1m_ratings());
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "ratings.dat:2: expected 4 '::'-separated fields (user, item, rating, timestamp), found 3");
  }
}

// MovieLens latest/20M/25M: ratings.csv with its header and half stars.
TEST(ParseRatings, MovieLensCsvLayout) {
  const Ratings r = parse_ratings("userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,0.5,964981247\r\n",
                                  "ratings.csv", movielens_csv_ratings());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.ratings[1], 0.5f);
  auto error_of = [](const std::string& text) {
    try {
      parse_ratings(text, "ratings.csv", movielens_csv_ratings());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("user,item,rating,ts\n1,1,4,5\n"),
            "ratings.csv:1: expected the header line 'userId,movieId,rating,timestamp', found 'user,item,rating,ts'");
  EXPECT_EQ(error_of("userId,movieId,rating,timestamp\n1,1,4,5\n1,2,0.25,5\n"),
            "ratings.csv:3: rating 0.25 out of range [0.5, 5]");
  EXPECT_EQ(error_of("userId,movieId,rating,timestamp\n"), "ratings.csv: no ratings found (the file is empty or blank)");
}

}  // namespace
}  // namespace tandem
