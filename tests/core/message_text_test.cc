// How input text appears in error messages: every expected string is written
// out by hand, byte by byte.
#include "tandem/core/message_text.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace tandem {
namespace {

using namespace std::string_literals;

TEST(EscapeForMessage, PlainTextAndUtf8AreKept) {
  EXPECT_EQ(escape_for_message(""), "");
  EXPECT_EQ(escape_for_message("196 x'y\"z ~"), "196 x'y\"z ~");
  // é (C3 A9), € (E2 82 AC), 😀 (F0 9F 98 80): well-formed, visible.
  EXPECT_EQ(escape_for_message("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(EscapeForMessage, ControlBytesNulAndBackslashAreEscaped) {
  EXPECT_EQ(escape_for_message("a\tb"), "a\\tb");
  EXPECT_EQ(escape_for_message("a\rb\n"), "a\\rb\\n");
  // A NUL inside a field: the rest of the field still shows.
  EXPECT_EQ(escape_for_message("19\0" "6"s), "19\\x006");
  EXPECT_EQ(escape_for_message("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(escape_for_message("\x01\x1f\x7f"), "\\x01\\x1f\\x7f");
  EXPECT_EQ(escape_for_message("a\\x00"), "a\\\\x00");  // a literal backslash, not a NUL
}

TEST(EscapeForMessage, InvalidUtf8BytesAreEscaped) {
  EXPECT_EQ(escape_for_message("caf\xE9"), "caf\\xe9");            // Latin-1 é
  EXPECT_EQ(escape_for_message("\x80x"), "\\x80x");                // stray continuation byte
  EXPECT_EQ(escape_for_message("\xE2\x82"), "\\xe2\\x82");          // truncated sequence
  EXPECT_EQ(escape_for_message("\xC0\xAF"), "\\xc0\\xaf");          // overlong '/'
  EXPECT_EQ(escape_for_message("\xED\xA0\x80"), "\\xed\\xa0\\x80");  // surrogate U+D800
  EXPECT_EQ(escape_for_message("\xF4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(escape_for_message("\xFF"), "\\xff");
}

TEST(EscapeForMessage, InvisibleCodePointsAreEscaped) {
  EXPECT_EQ(escape_for_message("\xEF\xBB\xBF" "196"), "\\ufeff196");  // byte-order mark
  EXPECT_EQ(escape_for_message("a\xC2\x85" "b"), "a\\u0085b");      // C1 NEL
  EXPECT_EQ(escape_for_message("a\xE2\x80\x8B" "b"), "a\\u200bb");   // zero-width space
  EXPECT_EQ(escape_for_message("a\xE2\x80\xA8" "b"), "a\\u2028b");   // line separator
  EXPECT_EQ(escape_for_message("a\xE2\x80\xAE" "b"), "a\\u202eb");   // right-to-left override
  EXPECT_EQ(escape_for_message("a\xE2\x81\xA6" "b"), "a\\u2066b");   // left-to-right isolate
  EXPECT_EQ(escape_for_message("\xC2\xA0"), "\xC2\xA0");              // no-break space: visible
}

TEST(QuoteField, QuotesEscapedText) {
  EXPECT_EQ(quote_field("x"), "'x'");
  EXPECT_EQ(quote_field(""), "''");
  EXPECT_EQ(quote_field("19\0" "6"s), "'19\\x006'");
  EXPECT_EQ(quote_field("a\tb"), "'a\\tb'");
}

TEST(QuoteField, OverlongFieldsAreShortenedWithTheirLength) {
  const std::string long_field(100, 'a');
  EXPECT_EQ(quote_field(long_field), "'" + std::string(40, 'a') + "...' (100 bytes)");
  EXPECT_EQ(quote_field(std::string(40, 'a')), "'" + std::string(40, 'a') + "'");  // exactly the limit
  EXPECT_EQ(quote_field("abcdef", 3), "'abc...' (6 bytes)");
  // The cut falls between characters: é (2 bytes) at bytes 3..4 does not
  // fit in 4, so only "abc" shows.
  EXPECT_EQ(quote_field("abc\xC3\xA9xyz", 4), "'abc...' (8 bytes)");
  EXPECT_EQ(quote_field("abc\xC3\xA9xyz", 5), "'abc\xC3\xA9...' (8 bytes)");
  // The limit counts the field's bytes, not the escapes': "\t" is one byte.
  EXPECT_EQ(quote_field("\t\t\t\t", 2), "'\\t\\t...' (4 bytes)");
}

TEST(QuoteField, AByteOrderMarkIsNamed) {
  EXPECT_EQ(quote_field("\xEF\xBB\xBF" "196"), "'\\ufeff196' (contains a UTF-8 BOM)");
  EXPECT_EQ(quote_field("19\xEF\xBB\xBF" "6"), "'19\\ufeff6' (contains a UTF-8 BOM)");
  // Beyond the part shown, the note still tells why the field is refused.
  EXPECT_EQ(quote_field("abcdef\xEF\xBB\xBF", 3), "'abc...' (9 bytes, contains a UTF-8 BOM)");
}

TEST(DescribeErrno, ReadsLikePartOfAMessage) {
  EXPECT_EQ(describe_errno(EACCES), "permission denied");
  EXPECT_EQ(describe_errno(ENOENT), "no such file or directory");
  EXPECT_EQ(describe_errno(ENOTDIR), "not a directory");
}

}  // namespace
}  // namespace tandem
