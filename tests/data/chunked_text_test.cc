// Parsing in concurrent pieces (chunked_text.h) against the serial parsers:
// for every thread count, the same rows in the same order, or the same error
// message (same source:line), over texts whose pieces fall awkwardly (tiny
// files, CRLF, trailing blank lines, headers, no final newline, cuts right at
// a newline, blank runs across pieces, errors in late pieces).
#include "tandem/data/chunked_text.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "data/test_util.h"
#include "tandem/core/error.h"
#include "tandem/data/csv_ratings.h"
#include "tandem/data/ratings.h"

namespace tandem {
namespace {

using testing::error_of;

// A parse's outcome: the table's columns, or its error message.
struct Outcome {
  std::vector<int64_t> users, items, timestamps;
  std::vector<float> ratings, weights;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome outcome_of(const std::function<Ratings()>& parse) {
  Outcome o;
  try {
    const Ratings r = parse();
    o.users = r.users;
    o.items = r.items;
    o.timestamps = r.timestamps;
    o.ratings = r.ratings;
    o.weights = r.weights;
  } catch (const Error& e) {
    o.error = e.what();
  }
  return o;
}

const int kThreadCounts[] = {2, 3, 4, 7, 16};

// parse_ratings on `threads` threads gives what it gives on one.
void expect_ratings_match(const std::string& text, const RatingsFormat& format = {}) {
  const Outcome serial = outcome_of([&] { return parse_ratings(text, "r.data", format, 1); });
  for (const int t : kThreadCounts) {
    SCOPED_TRACE("threads " + std::to_string(t) + ", text: " + text.substr(0, 60));
    EXPECT_EQ(outcome_of([&] { return parse_ratings(text, "r.data", format, t); }), serial);
  }
}

void expect_csv_match(const std::string& text, const CsvRatingsSpec& spec) {
  const Outcome serial = outcome_of([&] { return parse_csv_ratings(text, "r.csv", ',', spec, nullptr, nullptr, 1); });
  for (const int t : kThreadCounts) {
    SCOPED_TRACE("threads " + std::to_string(t) + ", text: " + text.substr(0, 60));
    EXPECT_EQ(outcome_of([&] { return parse_csv_ratings(text, "r.csv", ',', spec, nullptr, nullptr, t); }),
              serial);
  }
}

// n u.data lines; line i (1-based) is "i, i % 7, rating, 1000 + i".
std::string udata(int n, const char* eol = "\n") {
  std::string s;
  for (int i = 1; i <= n; ++i)
    s += std::to_string(i) + "\t" + std::to_string(i % 7) + "\t" + std::to_string(1 + i % 5) + "\t" +
         std::to_string(1000 + i) + eol;
  return s;
}

TEST(SplitAtLines, PiecesEndAfterANewlineAndJoinToTheText) {
  const std::vector<std::string> texts = {"", "\n", "abc", "a\nb\n", "a\nb", "line one\nline two\r\n\n\nlast",
                                         std::string(100, 'x') + "\n" + "y\n"};
  for (const std::string& text : texts) {
    for (int parts = 1; parts <= 9; ++parts) {
      const auto pieces = data_detail::split_at_lines(text, parts);
      ASSERT_EQ(pieces.size(), static_cast<size_t>(parts));
      // A piece that does not end a line runs to the end: the rest are empty.
      std::string joined;
      bool ended = false;
      for (const std::string_view piece : pieces) {
        if (ended) {
          EXPECT_TRUE(piece.empty());
        }
        joined += piece;
        if (!piece.empty() && piece.back() != '\n') ended = true;
      }
      EXPECT_EQ(joined, text);
    }
  }
  // An even cut that lands on a newline ends the piece right after it.
  const auto pieces = data_detail::split_at_lines("a\nb\n", 4);
  EXPECT_EQ(pieces, (std::vector<std::string_view>{"a\n", "b\n", "", ""}));
  EXPECT_NE(error_of([] { data_detail::split_at_lines("x", 0); }).find("0 pieces"), std::string::npos);
}

TEST(ParallelParseRatings, SameRowsInTheSameOrderForAwkwardTexts) {
  const std::vector<std::string> texts = {
      "1\t2\t5\t10",                         // one line, no newline
      "1\t2\t5\t10\n",                       // one line
      "1\t2\t5\t10\r\n3\t4\t1\t20\r\n",      // CRLF
      "1\t2\t5\t10\n3\t4\t1\t20\n\n\r\n\n",  // trailing blank lines
      udata(3),
      udata(40),
      udata(40).substr(0, udata(40).size() - 1),  // no final newline
      udata(57, "\r\n"),
      udata(200) + "\n\n",
  };
  for (const auto& t : texts) expect_ratings_match(t);
  // A piece of exactly one line: every cut on a newline.
  const Ratings r = parse_ratings(udata(4), "r.data", {}, 4);
  EXPECT_EQ(r.users, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(r.timestamps, (std::vector<int64_t>{1001, 1002, 1003, 1004}));
}

TEST(ParallelParseRatings, HeaderAndMultiCharacterSeparator) {
  std::string csv = "userId,movieId,rating,timestamp\n";
  for (int i = 1; i <= 50; ++i) csv += std::to_string(i) + "," + std::to_string(i * 3) + ",4.5," + std::to_string(i) + "\n";
  expect_ratings_match(csv, movielens_csv_ratings());
  expect_ratings_match("userId,movieId,rating,timestamp\n", movielens_csv_ratings());  // header only
  expect_ratings_match("userId,movieId,rating,timestamp", movielens_csv_ratings());
  expect_ratings_match("user,movie\n1,2,3,4\n", movielens_csv_ratings());  // wrong header
  std::string dat;
  for (int i = 1; i <= 30; ++i) dat += std::to_string(i) + "::" + std::to_string(i) + "::3::" + std::to_string(i) + "\n";
  expect_ratings_match(dat, movielens_1m_ratings());
  const Ratings r = parse_ratings(csv, "r.csv", movielens_csv_ratings(), 3);
  ASSERT_EQ(r.size(), 50u);
  EXPECT_EQ(r.items.back(), 150);
}

TEST(ParallelParseRatings, ErrorInALatePieceNamesTheSameLine) {
  std::string text = udata(1000);
  // Line 950 gets a bad rating: in the last piece for every thread count.
  const size_t at = text.find("950\t");
  text.replace(text.find('\t', text.find('\t', at) + 1) + 1, 1, "9");
  const std::string serial = error_of([&] { parse_ratings(text, "r.data", {}, 1); });
  EXPECT_NE(serial.find("r.data:950: rating 9 out of range"), std::string::npos) << serial;
  for (const int t : kThreadCounts) EXPECT_EQ(error_of([&] { parse_ratings(text, "r.data", {}, t); }), serial);
  expect_ratings_match(text);
}

TEST(ParallelParseRatings, SeveralFailingPiecesReportTheEarliestLine) {
  std::string text = udata(1000);
  for (const char* bad : {"300\t", "700\t", "990\t"}) text.insert(text.find(bad), "x");
  const std::string serial = error_of([&] { parse_ratings(text, "r.data", {}, 1); });
  EXPECT_NE(serial.find("r.data:300: field 1 (user) is not an integer"), std::string::npos) << serial;
  for (const int t : kThreadCounts) EXPECT_EQ(error_of([&] { parse_ratings(text, "r.data", {}, t); }), serial);
}

TEST(ParallelParseRatings, BlankLinesBeforeRecordsAcrossPieces) {
  // A blank run at every place of a 30-line file, of lengths 1, 2 and 25
  // (a run longer than a piece): the serial error names the run's first
  // line wherever the pieces are cut; a run at the end is accepted.
  const std::string base = udata(30);
  std::vector<size_t> starts = {0};
  for (size_t p = base.find('\n'); p != std::string::npos; p = base.find('\n', p + 1)) starts.push_back(p + 1);
  for (const size_t start : starts) {
    for (const int run : {1, 2, 25}) {
      std::string text = base;
      text.insert(start, std::string(static_cast<size_t>(run), '\n'));
      expect_ratings_match(text);
    }
  }
  const std::string msg = error_of([&] { parse_ratings(udata(10) + "\n\n\n" + udata(10), "r.data", {}, 4); });
  EXPECT_NE(msg.find("r.data:11: blank line before the end of the file"), std::string::npos) << msg;
}

TEST(ParallelParseRatings, EmptyAndBlankFiles) {
  for (const std::string& text : {std::string(), std::string("\n"), std::string("\n\n\r\n")}) {
    expect_ratings_match(text);
    EXPECT_NE(error_of([&] { parse_ratings(text, "r.data", {}, 3); }).find("no ratings found"), std::string::npos);
  }
}

CsvRatingsSpec named_spec(bool weights) {
  CsvRatingsSpec s;
  s.user = ColumnRef::named("u");
  s.item = ColumnRef::named("i");
  s.rating = ColumnRef::named("r");
  s.timestamp = ColumnRef::named("t");
  if (weights) s.weight = ColumnRef::named("w");
  return s;
}

std::string csv_rows(int n, bool header) {
  std::string s = header ? "t,u,note,i,r,w\n" : "";
  for (int i = 1; i <= n; ++i)
    s += std::to_string(5000 + i) + "," + std::to_string(i % 11) + ",\"a, \"\"b\"\"\"," + std::to_string(i * 2) +
         "," + std::to_string(i % 5) + ".5,0." + std::to_string(i % 10) + "\n";
  return s;
}

TEST(ParallelParseCsvRatings, SameRowsWithAndWithoutHeader) {
  for (const bool weights : {false, true}) {
    const CsvRatingsSpec spec = named_spec(weights);
    expect_csv_match(csv_rows(1, true), spec);
    expect_csv_match(csv_rows(80, true), spec);
    expect_csv_match(csv_rows(80, true) + "\r\n\n", spec);
    expect_csv_match("t,u,note,i,r,w", spec);                 // header only, no newline
    expect_csv_match("t,u,note,i,r,w\r\n", spec);             // header only
    expect_csv_match("\nt,u,note,i,r,w\n1,2,x,3,4,1\n", spec);  // blank first line (serial path)
    expect_csv_match("", spec);
    std::string crlf = csv_rows(33, true);
    for (size_t p = crlf.find('\n'); p != std::string::npos; p = crlf.find('\n', p + 2)) crlf.insert(p, "\r");
    expect_csv_match(crlf, spec);
  }
  CsvRatingsSpec by_index;  // user #1, item #3, implicit ratings
  by_index.header = false;
  by_index.user = ColumnRef::at(1);
  by_index.item = ColumnRef::at(3);
  expect_csv_match(csv_rows(1, false), by_index);
  expect_csv_match(csv_rows(61, false), by_index);
  const std::string no_newline = csv_rows(61, false);
  expect_csv_match(no_newline.substr(0, no_newline.size() - 1), by_index);
  const Ratings r = parse_csv_ratings(csv_rows(61, false), "r.csv", ',', by_index, nullptr, nullptr, 4);
  ASSERT_EQ(r.size(), 61u);
  EXPECT_EQ(r.items[60], 122);
  EXPECT_FALSE(r.has_timestamps());
}

TEST(ParallelParseCsvRatings, ErrorsNameTheSameLine) {
  const CsvRatingsSpec spec = named_spec(true);
  std::string ragged = csv_rows(500, true);
  ragged.insert(ragged.find("5480,"), "1,");  // line 481: one field too many
  const std::string msg = error_of([&] { parse_csv_ratings(ragged, "r.csv", ',', spec, nullptr, nullptr, 4); });
  EXPECT_NE(msg.find("r.csv:481: expected 6 comma-separated fields"), std::string::npos) << msg;
  expect_csv_match(ragged, spec);
  std::string bad = csv_rows(500, true);
  bad.replace(bad.find(",0.9\n", bad.find("5399,")), 5, ",-1\n");   // line 400: negative weight
  bad.replace(bad.find(",\"a", bad.find("5450,")), 1, ",\"");        // line 451: unterminated quote
  expect_csv_match(bad, spec);
  EXPECT_NE(error_of([&] { parse_csv_ratings(bad, "r.csv", ',', spec, nullptr, nullptr, 3); })
                .find("r.csv:400: column 5 ('w') (weight) is negative"),
            std::string::npos);
  expect_csv_match("t,u,i\n1,2,3\n", spec);  // a mapped column the header lacks
  std::string blank = csv_rows(60, true);
  blank.insert(blank.find("5040,"), "\n\n");
  expect_csv_match(blank, spec);
}

}  // namespace
}  // namespace tandem
