#include "tandem/data/csv_ratings.h"

#include <gtest/gtest.h>

#include "data/test_util.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

using testing::error_of;

CsvRatingsSpec named_spec() {
  CsvRatingsSpec s;
  s.user = ColumnRef::named("userId");
  s.item = ColumnRef::named("movieId");
  s.rating = ColumnRef::named("rating");
  s.timestamp = ColumnRef::named("ts");
  return s;
}

TEST(CsvRatings, ColumnsByNameInAnyOrderOthersIgnored) {
  const std::string text =
      "ts,comment,movieId,userId,rating\n"
      "100,great,10,1,4.5\n"
      "200,\"meh, really\",20,2,2\r\n"
      "300,,10,2,0.5\n";
  const Ratings r = parse_csv_ratings(text, "r.csv", ',', named_spec());
  EXPECT_EQ(r.users, (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(r.items, (std::vector<int64_t>{10, 20, 10}));
  EXPECT_EQ(r.ratings, (std::vector<float>{4.5f, 2.0f, 0.5f}));
  EXPECT_EQ(r.timestamps, (std::vector<int64_t>{100, 200, 300}));
  EXPECT_TRUE(r.has_timestamps());
  EXPECT_FALSE(r.has_weights());
  EXPECT_EQ(r.weight(1), 1.0f);
  EXPECT_EQ(r.user_names, nullptr);
}

TEST(CsvRatings, ByIndexWithoutHeaderImplicitFeedbackAndWeights) {
  CsvRatingsSpec s;
  s.header = false;
  s.user = ColumnRef::at(2);
  s.item = ColumnRef::at(0);
  s.weight = ColumnRef::at(1);
  const Ratings r = parse_csv_ratings("5\t0.25\t7\n6\t3\t8\n", "r.tsv", '\t', s);
  EXPECT_EQ(r.users, (std::vector<int64_t>{7, 8}));
  EXPECT_EQ(r.items, (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(r.ratings, (std::vector<float>{1.0f, 1.0f}));  // no rating column: implicit
  EXPECT_EQ(r.weights, (std::vector<float>{0.25f, 3.0f}));
  EXPECT_FALSE(r.has_timestamps());
}

TEST(CsvRatings, StringIdsAreInternedInFirstSeenOrderAcrossFiles) {
  CsvRatingsSpec s = named_spec();
  s.timestamp = {};
  IdTable users, items;
  const Ratings a = parse_csv_ratings("userId,movieId,rating\nann,m-9,4\nbob,m-1,3\nann,m-1,5\n",
                                      "a.csv", ',', s, &users, &items);
  EXPECT_EQ(a.users, (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(a.items, (std::vector<int64_t>{0, 1, 1}));
  // A second file shares the tables: known strings keep their ids.
  const Ratings b = parse_csv_ratings("userId,movieId,rating\n\"bob\",m-2,1\n42,m-9,2\n", "b.csv", ',', s,
                                      &users, &items);
  EXPECT_EQ(b.users, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(b.items, (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(users.names(), (std::vector<std::string>{"ann", "bob", "42"}));
  EXPECT_EQ(items.names(), (std::vector<std::string>{"m-9", "m-1", "m-2"}));
}

TEST(CsvRatings, QuotedFieldsWithEscapedQuotes) {
  CsvRatingsSpec s;
  IdTable users, items;
  const Ratings r = parse_csv_ratings("user,item\n\"a \"\"x\"\", b\",\"i,1\"\n", "q.csv", ',', s, &users, &items);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(users.names()[0], "a \"x\", b");
  EXPECT_EQ(items.names()[0], "i,1");
  EXPECT_CONTAINS(error_of([&] { parse_csv_ratings("u,i\n\"a,1\n", "q.csv", ',', s, &users, &items); }),
                  "q.csv:2: unterminated quote in field 1");
  EXPECT_CONTAINS(error_of([&] { parse_csv_ratings("u,i\n\"a\"b,1\n", "q.csv", ',', s, &users, &items); }),
                  "q.csv:2: text after the closing quote of field 1");
}

TEST(CsvRatings, StringIdWithIntegerIdsNamesFileLineColumnAndTheFix) {
  const std::string msg = error_of([] {
    parse_csv_ratings("userId,movieId,rating,ts\n1,10,4,5\nu7,11,3,6\n", "r.csv", ',', named_spec());
  });
  EXPECT_CONTAINS(msg, "r.csv:3: column 0 ('userId') (user): 'u7' is not a non-negative integer id");
  EXPECT_CONTAINS(msg, "vocabulary");
}

TEST(CsvRatings, ErrorsNameFileAndLine) {
  const CsvRatingsSpec s = named_spec();
  const auto err = [&](const std::string& text) {
    return error_of([&] { parse_csv_ratings(text, "r.csv", ',', s); });
  };
  EXPECT_CONTAINS(err("user,movieId,rating,ts\n1,2,3,4\n"),
                  "r.csv:1: no column named 'userId' (the user column); the header has 'user', 'movieId'");
  EXPECT_CONTAINS(err("userId,movieId,rating,ts\n1,2,3\n"),
                  "r.csv:2: expected 4 comma-separated fields (as the header has), found 3");
  EXPECT_CONTAINS(err("userId,movieId,rating,ts\n1,2,x,4\n"),
                  "r.csv:2: column 2 ('rating') (rating) is not a finite number: 'x'");
  EXPECT_CONTAINS(err("userId,movieId,rating,ts\n1,2,nan,4\n"), "is not a finite number");
  EXPECT_CONTAINS(err("userId,movieId,rating,ts\n1,2,3,4\n1,2,3,4.5\n"),
                  "r.csv:3: column 3 ('ts') (timestamp) is not an integer: '4.5'");
  EXPECT_CONTAINS(err("userId,movieId,rating,ts\n1,,3,4\n"), "r.csv:2: column 1 ('movieId') (item): empty id");
  EXPECT_CONTAINS(err(""), "r.csv: the file is empty (expected a header line and ratings)");
  EXPECT_CONTAINS(err("userId,movieId,rating,ts\n"), "r.csv: no ratings found (only a header line)");
  EXPECT_CONTAINS(err("userId,movieId,rating,ts\n1,2,3,4\n\n1,2,3,4\n"), "r.csv:3: blank line");

  CsvRatingsSpec idx;
  idx.header = false;
  idx.rating = ColumnRef::at(5);
  EXPECT_CONTAINS(error_of([&] { parse_csv_ratings("1,2,3\n", "r.csv", ',', idx); }),
                  "r.csv:1: column index 5 (the rating column) is out of range: the file has 3 columns");
  CsvRatingsSpec w;
  w.weight = ColumnRef::at(2);
  EXPECT_CONTAINS(error_of([&] { parse_csv_ratings("u,i,w\n1,2,-0.5\n", "r.csv", ',', w); }),
                  "r.csv:2: column 2 ('w') (weight) is negative: -0.5");
  EXPECT_CONTAINS(error_of([&] { parse_csv_ratings("u,i,w\n1,2,inf\n", "r.csv", ',', w); }),
                  "(weight) is not a finite number");
}

// A spreadsheet's "CSV UTF-8" starts with a byte-order mark: it is not part
// of the first column's name (or, without a header, of the first id), read
// serially or in pieces. Elsewhere it is named.
TEST(CsvRatings, ByteOrderMarkAtTheStartIsSkippedElsewhereNamed) {
  for (const int threads : {1, 3}) {
    const Ratings r = parse_csv_ratings("\xEF\xBB\xBFuserId,movieId,rating,ts\n1,10,4,5\n2,11,3,6\n", "r.csv", ',',
                                        named_spec(), nullptr, nullptr, threads);
    EXPECT_EQ(r.users, (std::vector<int64_t>{1, 2})) << threads;
    CsvRatingsSpec no_header;
    no_header.header = false;
    const Ratings h = parse_csv_ratings("\xEF\xBB\xBF" "7,8\n9,10\n", "r.csv", ',', no_header, nullptr, nullptr, threads);
    EXPECT_EQ(h.users, (std::vector<int64_t>{7, 9})) << threads;
  }
  EXPECT_EQ(error_of([] { parse_csv_ratings("userId,movieId,rating,ts\n1,\xEF\xBB\xBF" "10,4,5\n", "r.csv", ',', named_spec()); }),
            "r.csv:2: column 1 ('movieId') (item): '\\ufeff10' (contains a UTF-8 BOM) is not a non-negative "
            "integer id; ids that are not integers need the vocabulary id mode ([features] ids = \"vocabulary\" "
            "in a config file, or --preset tfrs)");
}

// Header names and fields quoted in messages are escaped: a NUL does not cut
// the message, a tab does not bend it.
TEST(CsvRatings, ControlBytesInMessagesAreEscaped) {
  using namespace std::string_literals;
  EXPECT_EQ(error_of([] { parse_csv_ratings("user\0x,movieId,rating,ts\n1,2,3,4\n"s, "r.csv", ',', named_spec()); }),
            "r.csv:1: no column named 'userId' (the user column); the header has 'user\\x00x', 'movieId', "
            "'rating', 'ts'");
  EXPECT_EQ(error_of([] { parse_csv_ratings("userId,movieId,rating,t\ts\n1,2,x,4\n", "r.csv", ',', named_spec()); }),
            "r.csv:1: no column named 'ts' (the timestamp column); the header has 'userId', 'movieId', "
            "'rating', 't\\ts'");
  EXPECT_EQ(error_of([] { parse_csv_ratings("userId,movieId,rating,ts\n1,2,3,4\x00\n"s, "r.csv", ',', named_spec()); }),
            "r.csv:2: column 3 ('ts') (timestamp) is not an integer: '4\\x00'");
}

// The last line without its newline: a complete record is read, an
// incomplete one refused saying so.
TEST(CsvRatings, LastLineWithoutNewlineIsParsedOrRefusedWhole) {
  for (const int threads : {1, 2}) {
    const Ratings r = parse_csv_ratings("userId,movieId,rating,ts\n1,10,4,5\n2,11,3,6", "r.csv", ',', named_spec(),
                                        nullptr, nullptr, threads);
    EXPECT_EQ(r.timestamps, (std::vector<int64_t>{5, 6})) << threads;
    EXPECT_EQ(error_of([&] {
                parse_csv_ratings("userId,movieId,rating,ts\n1,10,4,5\n2,11", "r.csv", ',', named_spec(), nullptr,
                                  nullptr, threads);
              }),
              "r.csv:3: expected 4 comma-separated fields (as the header has), found 2 (last line, no final newline)")
        << threads;
  }
}

// The largest integer ids and their first lines, serially and in pieces.
TEST(CsvRatings, RecordsTheLargestIdsAndTheirFirstLines) {
  const std::string text = "userId,movieId,rating,ts\n1,10,4,5\n9,11,3,6\n2,12,3,6\n9,3,1,1\n";
  for (const int threads : {1, 2, 4}) {
    const Ratings r = parse_csv_ratings(text, "r.csv", ',', named_spec(), nullptr, nullptr, threads);
    EXPECT_EQ(r.largest_user.place_of(9), "r.csv:3") << threads;
    EXPECT_EQ(r.largest_item.place_of(12), "r.csv:4") << threads;
  }
  CsvRatingsSpec s;
  s.header = false;
  const Catalogue items = parse_csv_items("3,a\n2147483648,b\n5,c\n", "items.csv", ',', s);
  EXPECT_EQ(items.largest_id.place_of(2147483648), "items.csv:2");
}

TEST(CsvRatings, ValidateChecksSeparatorAndNamesWithoutHeader) {
  CsvRatingsSpec s;
  s.separator = "::";
  EXPECT_CONTAINS(error_of([&] { validate(s); }), "unknown separator '::'");
  s.separator = ";";
  validate(s);
  s.header = false;
  s.rating = ColumnRef::named("rating");
  EXPECT_CONTAINS(error_of([&] { validate(s); }), "column 'rating' is given by name, but the files have no header");
}

TEST(CsvRatings, SeparatorFromSettingExtensionOrFirstLine) {
  CsvRatingsSpec s;
  EXPECT_EQ(csv_separator(s, "x.tsv", "a,b\n"), '\t');
  EXPECT_EQ(csv_separator(s, "x.CSV", "a\tb\n"), ',');
  EXPECT_EQ(csv_separator(s, "x.txt", "a\tb\n1,2\n"), '\t');
  EXPECT_EQ(csv_separator(s, "x.txt", "a,b\n1\t2\n"), ',');
  s.separator = "tab";
  EXPECT_EQ(csv_separator(s, "x.csv", ""), '\t');
  s.separator = "comma";
  EXPECT_EQ(csv_separator(s, "x.tsv", ""), ',');
  s.separator = ";";
  EXPECT_EQ(csv_separator(s, "x.csv", ""), ';');
}

TEST(CsvRatings, ColumnRefFromCommandLineText) {
  EXPECT_EQ(parse_column_ref("3"), ColumnRef::at(3));
  EXPECT_EQ(parse_column_ref("userId"), ColumnRef::named("userId"));
  EXPECT_EQ(parse_column_ref("-1"), ColumnRef::named("-1"));
  EXPECT_FALSE(parse_column_ref("").mapped());
}

TEST(CsvRatings, LoadsFromFileWithAutoSeparator) {
  testing::TempDir dir;
  const std::string path = dir.write("r.tsv", "userId\tmovieId\trating\tts\n1\t2\t3\t4\n");
  const Ratings r = load_csv_ratings(path, named_spec());
  EXPECT_EQ(r.items, (std::vector<int64_t>{2}));
  EXPECT_CONTAINS(error_of([&] { load_csv_ratings(dir.path().string() + "/none.csv", named_spec()); }),
                  "none.csv");
}

TEST(CsvItems, IdsAndTitlesByMappingSharingTheItemTable) {
  CsvRatingsSpec s;
  s.item_id = ColumnRef::named("id");
  s.item_title = ColumnRef::named("name");
  IdTable items;
  items.intern("b");
  const Catalogue c = parse_csv_items("name,id\n\"Alpha, The\",a\nBeta,b\n", "i.csv", ',', s, &items);
  EXPECT_EQ(c.item_ids, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(c.titles, (std::vector<std::string>{"Alpha, The", "Beta"}));
  EXPECT_CONTAINS(error_of([&] { parse_csv_items("name,id\nA,a\nB,a\n", "i.csv", ',', s, &items); }),
                  "i.csv:3: duplicate item id 'a'");
  EXPECT_CONTAINS(error_of([&] { parse_csv_items("name,id\nA,x1\n", "i.csv", ',', s); }),
                  "i.csv:2: column 1 ('id') (item id): 'x1' is not a non-negative integer id");
}

// The values of attribute `a` for id `id` (empty when the id has no record).
std::vector<std::string> attr(const SideAttributes& s, int64_t id, int a) {
  const auto* v = s.values(id, a);
  return v ? *v : std::vector<std::string>{};
}

TEST(CsvAttributes, RatingsFileColumnsFirstRowWinsListsSplitEmptyIsNone) {
  CsvRatingsSpec s = named_spec();
  s.timestamp = {};
  s.list_separator = "|";
  const std::string text =
      "userId,movieId,rating,country,tags\n"
      "1,10,4,fr,a|b\n"
      "2,10,3,,b\n"
      "1,20,5,de,c\n"  // user 1 again: its first row's values stand
      "3,20,2,uk,|a||\n";
  const SideAttributes users =
      parse_csv_attributes(text, "r.csv", ',', s, {"r.csv", s.user, true}, {"country", "4"});
  EXPECT_EQ(users.names, (std::vector<std::string>{"country", "4"}));
  EXPECT_EQ(users.records.size(), 3u);
  EXPECT_EQ(attr(users, 1, 0), std::vector<std::string>{"fr"});
  EXPECT_EQ(attr(users, 1, 1), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(attr(users, 2, 0).empty());  // empty field: no value
  EXPECT_EQ(attr(users, 3, 1), std::vector<std::string>{"a"});  // empty elements dropped
  EXPECT_EQ(users.values(4, 0), nullptr);
  // Without a list separator the field is one value.
  s.list_separator.clear();
  const SideAttributes items =
      parse_csv_attributes(text, "r.csv", ',', s, {"r.csv", s.item, true}, {"tags"});
  EXPECT_EQ(attr(items, 10, 0), std::vector<std::string>{"a|b"});
  EXPECT_EQ(attr(items, 20, 0), std::vector<std::string>{"c"});
}

TEST(CsvAttributes, SideFileUniqueIdsStringIdsLookedUpNotInterned) {
  CsvRatingsSpec s;
  s.list_separator = ";";
  IdTable items;
  items.intern("m1");
  items.intern("m2");
  const std::string text = "id,genre,title\nm2,Drama;War,B\nm9,Comedy,unrated\nm1,,A\n";
  const SideAttributes a =
      parse_csv_attributes(text, "items.csv", ',', s, {"items.csv", ColumnRef::named("id"), false},
                           {"genre"}, &items);
  EXPECT_EQ(items.size(), 2u);  // m9 (no rating names it) was skipped, not added
  EXPECT_EQ(a.records.size(), 2u);
  EXPECT_EQ(attr(a, 1, 0), (std::vector<std::string>{"Drama", "War"}));
  EXPECT_TRUE(attr(a, 0, 0).empty());
  EXPECT_CONTAINS(error_of([&] {
                    parse_csv_attributes("id,genre\nm1,A\nm1,B\n", "items.csv", ',', s,
                                         {"items.csv", ColumnRef::at(0), false}, {"genre"}, &items);
                  }),
                  "items.csv:3: duplicate id 'm1'");
}

TEST(CsvAttributes, ErrorsNameFileLineAndColumn) {
  CsvRatingsSpec s;
  const CsvAttributeSource from{"u.csv", ColumnRef::at(0), false};
  EXPECT_CONTAINS(error_of([&] { parse_csv_attributes("id,age\n1,3\n", "u.csv", ',', s, from, {"plan"}); }),
                  "u.csv:1: no column named 'plan' (the side feature column); the header has 'id', 'age'");
  EXPECT_CONTAINS(error_of([&] { parse_csv_attributes("id,age\n1,3\n", "u.csv", ',', s, from, {"7"}); }),
                  "column index 7 (the side feature column) is out of range: the file has 2 columns");
  EXPECT_CONTAINS(error_of([&] { parse_csv_attributes("id,age\nx,3\n", "u.csv", ',', s, from, {"age"}); }),
                  "u.csv:2: column 0 ('id') (id): 'x' is not a non-negative integer id");
  EXPECT_CONTAINS(error_of([&] { parse_csv_attributes("id,age\n1,3,4\n", "u.csv", ',', s, from, {"age"}); }),
                  "u.csv:2: expected 2 comma-separated fields");
  CsvRatingsSpec no_header;
  no_header.header = false;
  EXPECT_CONTAINS(error_of([&] { parse_csv_attributes("1,3\n", "u.csv", ',', no_header, from, {"age"}); }),
                  "side feature column 'age' is given by name, but the files have no header");
  CsvRatingsSpec bad_list;
  bad_list.list_separator = "||";
  EXPECT_CONTAINS(error_of([&] { validate(bad_list); }), "unknown list separator '||'");
  testing::TempDir dir;
  const std::string path = dir.write("users.tsv", "id\tplan\n5\tpro\n");
  const SideAttributes loaded = load_csv_attributes(s, {path, ColumnRef::named("id"), false}, {"plan"});
  EXPECT_EQ(attr(loaded, 5, 0), std::vector<std::string>{"pro"});  // tab from the extension
  EXPECT_CONTAINS(error_of([&] { load_csv_attributes(s, {path + ".none", ColumnRef::at(0), false}, {"plan"}); }),
                  "users.tsv.none");
}

TEST(IdTable, InternFindAndPreload) {
  IdTable t({"x", "y"});
  EXPECT_EQ(t.intern("y"), 1);
  EXPECT_EQ(t.intern("z"), 2);
  EXPECT_EQ(t.find("z"), 2);
  EXPECT_EQ(t.find("w"), std::nullopt);
  EXPECT_CONTAINS(error_of([] { IdTable({"a", "a"}); }), "'a' appears twice");
}

TEST(Ratings, SelectCarriesWeightsTimestampsAndNames) {
  Ratings r;
  r.users = {0, 1, 0};
  r.items = {1, 1, 0};
  r.ratings = {1, 2, 3};
  r.weights = {0.5f, 1.5f, 2.5f};
  r.user_names = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"a", "b"});
  const Ratings s = r.select({2, 1});
  EXPECT_EQ(s.weights, (std::vector<float>{2.5f, 1.5f}));
  EXPECT_FALSE(s.has_timestamps());
  EXPECT_EQ(s.user_names, r.user_names);
  r.timestamps = {7, 8, 9};
  EXPECT_EQ(r.select({2, 1}).timestamps, (std::vector<int64_t>{9, 8}));
}

}  // namespace
}  // namespace tandem
