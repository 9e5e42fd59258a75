// Internal to the data stage (not part of its public API): whole-file reading
// and the line/field walk shared by the u.data and u.item parsers, so that both
// formats treat CRLF, blank lines and bad numbers the same way and word their
// errors alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "tandem/core/error.h"
#include "tandem/core/message_text.h"

namespace tandem::data_detail {

// The whole content of `path`. `what` ("ratings", "item") only words errors.
std::string read_file(const std::string& path, std::string_view what);

// Splits `line` on `sep`, storing up to `max_out` fields in `out`; returns
// the total number of fields, which may exceed `max_out`.
size_t split_fields(std::string_view line, char sep, std::string_view* out, size_t max_out);
// The same with a separator of several characters (MovieLens-1M's "::").
size_t split_fields(std::string_view line, std::string_view sep, std::string_view* out, size_t max_out);

// A UTF-8 byte-order mark, which Windows editors and spreadsheets write at
// the start of a "UTF-8" text file. It is not part of the first field: the
// walks below skip it at the start of a file (and only there; anywhere else
// it stays in its field, and quote_field names it in an error).
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
// `text` without a byte-order mark at its start.
inline std::string_view skip_bom(std::string_view text) {
  return text.substr(0, kUtf8Bom.size()) == kUtf8Bom ? text.substr(kUtf8Bom.size()) : text;
}

// `text` after its first line, which must read exactly `header` (a trailing
// '\r' and a byte-order mark aside); throws "source:1: expected the header
// line ..." otherwise.
// Line numbers of what follows start at 2.
std::string_view skip_header(std::string_view text, std::string_view header, const std::string& source);

// A non-negative id in field `index` (1-based) named `name`; throws naming
// source:line otherwise.
int64_t parse_id(std::string_view field, int index, const char* name,
                 const std::string& source, size_t line);

// What a walk over lines saw at its end, for joining walks over consecutive
// pieces of one text (chunked_text.h).
struct LineWalk {
  bool any_record = false;   // fn was called at least once
  size_t trailing_blank = 0; // first line of the blank lines at the end, 0 if none
};

// The error for a blank line (at `line`) followed by more records.
[[noreturn]] void throw_blank_line(const std::string& source, size_t line);

// `error` (raised on a file's last line, which has no final newline) with
// " (last line, no final newline)" appended: a line cut short by a
// truncated copy or download is refused saying so.
[[noreturn]] void throw_on_unterminated_line(const Error& error);

// Calls fn(line, line_number) for every record line, with a trailing '\r'
// removed. Trailing blank lines are accepted (editors and `echo >>` leave
// them); a blank line followed by more records is an error, because it
// usually means two files were concatenated or one was damaged. Lines are
// numbered from lines_before + 1 (a piece of a larger text starts later);
// when lines_before is 0 the text is a file's start, and a byte-order mark
// there is skipped. A last line without a final newline is read like any
// other (a complete-looking line cannot be told from one cut short); an
// error fn raises on it says that the line had no final newline.
template <typename Fn>
LineWalk for_each_line(std::string_view text, const std::string& source, Fn&& fn,
                       size_t lines_before = 0) {
  LineWalk walk;
  size_t line_no = lines_before;
  size_t first_blank = 0;  // line number of a pending blank line, 0 if none
  size_t pos = lines_before == 0 && text.substr(0, kUtf8Bom.size()) == kUtf8Bom ? kUtf8Bom.size() : 0;
  while (pos < text.size()) {
    const void* nl = std::memchr(text.data() + pos, '\n', text.size() - pos);
    const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - text.data())
                          : text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (first_blank == 0) first_blank = line_no;
      continue;
    }
    if (first_blank != 0) throw_blank_line(source, first_blank);
    walk.any_record = true;
    if (nl != nullptr) {
      fn(line, line_no);
      continue;
    }
    try {
      fn(line, line_no);
    } catch (const Error& e) {
      throw_on_unterminated_line(e);
    }
  }
  walk.trailing_blank = first_blank;
  return walk;
}

}  // namespace tandem::data_detail
