#include "tandem/data/side_attributes.h"

#include <gtest/gtest.h>

#include <string>

#include "data/test_util.h"
#include "tandem/data/feature_vocabulary.h"

namespace tandem {
namespace {

using testing::error_of;

std::string flags(const std::string& on) {  // 19 genre flags, "1" where `on` has 'x'
  std::string s;
  for (int g = 0; g < 19; ++g) s += std::string("|") + (g < static_cast<int>(on.size()) && on[g] == 'x' ? "1" : "0");
  return s;
}

TEST(ParseMovieLensUsers, ReadsEveryColumn) {
  const auto a = parse_movielens_100k_users("1|24|M|technician|85711\n2|53|F|other|T8H1N\r\n\n", "u.user");
  ASSERT_EQ(a.records.size(), 2u);
  const int age = a.attribute("age"), gender = a.attribute("gender"), occ = a.attribute("occupation"),
            zip = a.attribute("zip");
  EXPECT_EQ(*a.values(1, age), std::vector<std::string>{"24"});
  EXPECT_EQ(*a.values(1, occ), std::vector<std::string>{"technician"});
  EXPECT_EQ(*a.values(2, gender), std::vector<std::string>{"F"});
  EXPECT_EQ(*a.values(2, zip), std::vector<std::string>{"T8H1N"});  // Canadian zips are kept
  EXPECT_EQ(a.values(3, age), nullptr);
  EXPECT_EQ(a.attribute("genres"), -1);
}

TEST(ParseMovieLensUsers, BadLinesNameFileAndLine) {
  EXPECT_NE(error_of([] { parse_movielens_100k_users("1|24|M|x|1\n2|24|M|x\n", "u.user"); })
                .find("u.user:2: expected 5"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_movielens_100k_users("1|twenty|M|x|1\n", "u.user"); })
                .find("u.user:1: age 'twenty'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_movielens_100k_users("1|2|M|x|1\n1|3|F|y|2\n", "u.user"); })
                .find("u.user:2: duplicate id 1"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_movielens_100k_users("", "u.user"); }).find("no users"), std::string::npos);
}

// The side files follow the same rules as the ratings: a byte-order mark at
// the start is skipped, a last line is read whole or refused saying that it
// had no final newline, and quoted fields are escaped.
TEST(ParseMovieLensUsers, ByteOrderMarkLastLineAndEscapedFields) {
  const auto a = parse_movielens_100k_users("\xEF\xBB\xBF" "1|24|M|technician|85711\n2|53|F|other|T8H1N", "u.user");
  ASSERT_EQ(a.records.size(), 2u);
  EXPECT_EQ(*a.values(1, a.attribute("age")), std::vector<std::string>{"24"});
  EXPECT_EQ(*a.values(2, a.attribute("zip")), std::vector<std::string>{"T8H1N"});
  EXPECT_EQ(error_of([] { parse_movielens_100k_users("1|24|M|technician|85711\n2|53|F", "u.user"); }),
            "u.user:2: expected 5 '|'-separated fields (user id, age, gender, occupation, zip), found 3 "
            "(last line, no final newline)");
  EXPECT_EQ(error_of([] { parse_movielens_100k_users("1|2\r4|M|technician|85711\n", "u.user"); }),
            "u.user:1: age '2\\r4' is not a non-negative integer");
}

TEST(ParseMovieLensItemFeatures, GenresAsABagAndTheYear) {
  const std::string text = "1|Toy Story (1995)|01-Jan-1995||http://x" + flags("....xxx") + "\n" +
                           "267|unknown||||" + flags("x").substr(1) + "\n" +
                           "5|None|12-Mar-1999||u" + flags("") + "\n";
  const auto a = parse_movielens_100k_item_features(text, "u.item");
  const int genres = a.attribute("genres"), year = a.attribute("year");
  EXPECT_EQ(*a.values(1, genres), (std::vector<std::string>{"Children's", "Comedy", "Crime"}));
  EXPECT_EQ(*a.values(1, year), std::vector<std::string>{"1995"});
  EXPECT_EQ(*a.values(267, genres), std::vector<std::string>{"unknown"});
  EXPECT_TRUE(a.values(267, year)->empty());  // no release date: no year
  EXPECT_TRUE(a.values(5, genres)->empty());  // no genre flag set
  EXPECT_EQ(*a.values(5, year), std::vector<std::string>{"1999"});
}

TEST(ParseMovieLensItemFeatures, BadLinesNameFileAndLine) {
  const std::string good = "1|T|01-Jan-1995||u" + flags("x") + "\n";
  EXPECT_NE(error_of([&] { parse_movielens_100k_item_features(good + "2|T|01-Jan-1995||u|0|1\n", "u.item"); })
                .find("u.item:2: expected 24"),
            std::string::npos);
  std::string bad = "2|T|01-Jan-1995||u" + flags("");
  bad[bad.size() - 1] = '2';
  EXPECT_NE(error_of([&] { parse_movielens_100k_item_features(good + bad + "\n", "u.item"); })
                .find("u.item:2: genre flag 19"),
            std::string::npos);
}

TEST(ParseMovieLens1M, UsersAndMovies) {
  const auto u = parse_movielens_1m_users("1::F::1::10::48067\n", "users.dat");
  EXPECT_EQ(*u.values(1, u.attribute("age")), std::vector<std::string>{"1"});
  EXPECT_EQ(*u.values(1, u.attribute("gender")), std::vector<std::string>{"F"});
  EXPECT_EQ(*u.values(1, u.attribute("occupation")), std::vector<std::string>{"10"});
  const auto m = parse_movielens_1m_item_features(
      "1::Toy Story (1995)::Animation|Children's|Comedy\n2::Odd Title::Drama\n", "movies.dat");
  EXPECT_EQ(*m.values(1, m.attribute("genres")),
            (std::vector<std::string>{"Animation", "Children's", "Comedy"}));
  EXPECT_EQ(*m.values(1, m.attribute("year")), std::vector<std::string>{"1995"});
  EXPECT_TRUE(m.values(2, m.attribute("year"))->empty());
  EXPECT_NE(error_of([] { parse_movielens_1m_users("1::F::1::10\n", "users.dat"); }).find("users.dat:1"),
            std::string::npos);
}

TEST(Years, FromDatesAndTitles) {
  EXPECT_EQ(year_of_date("01-Jan-1995"), 1995);
  EXPECT_EQ(year_of_date(""), -1);
  EXPECT_EQ(year_of_date("Jan-95"), -1);
  EXPECT_EQ(year_of_title("Heat (1995)"), 1995);
  EXPECT_EQ(year_of_title("Heat (1995) "), 1995);
  EXPECT_EQ(year_of_title("Heat"), -1);
  EXPECT_EQ(year_of_title("(abcd)"), -1);
}

TEST(FeatureVocabulary, LookupHasAnOovRowForUnseenValues) {
  const auto v = FeatureVocabulary::lookup({"writer", "artist", "writer", "doctor"});
  EXPECT_FALSE(v.is_hashed());
  EXPECT_EQ(v.rows(), 4);  // OOV + 3 values
  EXPECT_EQ(v.row("artist"), 1);
  EXPECT_EQ(v.row("doctor"), 2);
  EXPECT_EQ(v.row("writer"), 3);
  EXPECT_EQ(v.row("astronaut"), FeatureVocabulary::kOovRow);
  EXPECT_EQ(v.values(), (std::vector<std::string>{"artist", "doctor", "writer"}));
}

TEST(FeatureVocabulary, HashingIsStableAndInRange) {
  const auto v = FeatureVocabulary::hashed(7);
  EXPECT_TRUE(v.is_hashed());
  EXPECT_EQ(v.rows(), 7);
  int distinct_rows = 0;
  std::vector<bool> used(7, false);
  for (int i = 0; i < 200; ++i) {
    const std::string value = "zip" + std::to_string(i);
    const int32_t r = v.row(value);
    ASSERT_GE(r, 0);
    ASSERT_LT(r, 7);
    EXPECT_EQ(r, FeatureVocabulary::hashed(7).row(value));  // the same value, the same row
    if (!used[static_cast<size_t>(r)]) ++distinct_rows;
    used[static_cast<size_t>(r)] = true;
  }
  EXPECT_EQ(distinct_rows, 7);  // 200 values spread over every bucket
  EXPECT_THROW(FeatureVocabulary::hashed(0), Error);
}

TEST(FeatureVocabulary, BuildHashesOnlyAboveTheLimit) {
  EXPECT_FALSE(FeatureVocabulary::build({"a", "b", "c"}, 3).is_hashed());
  EXPECT_TRUE(FeatureVocabulary::build({"a", "b", "c", "d"}, 3).is_hashed());
  EXPECT_FALSE(FeatureVocabulary::build({"a", "b", "c", "d"}, 0).is_hashed());
}

TEST(Buckets, BoundariesAndQuantiles) {
  const std::vector<int64_t> ages = movielens_age_boundaries();
  EXPECT_EQ(bucket_of(7, ages), 0);
  EXPECT_EQ(bucket_of(18, ages), 1);
  EXPECT_EQ(bucket_of(24, ages), 1);
  EXPECT_EQ(bucket_of(56, ages), 6);
  EXPECT_EQ(bucket_of(90, ages), 6);
  // 8 values, 4 buckets: boundaries at the 2nd, 4th and 6th sorted values.
  EXPECT_EQ(quantile_boundaries({80, 10, 20, 30, 40, 50, 60, 70}, 4), (std::vector<int64_t>{30, 50, 70}));
  EXPECT_EQ(quantile_boundaries({5}, 1), std::vector<int64_t>{});
  EXPECT_THROW(quantile_boundaries({}, 3), Error);
}

}  // namespace
}  // namespace tandem
