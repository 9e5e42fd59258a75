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

namespace tandem::data_detail {

// The whole content of `path`. `what` ("ratings", "item") only words errors.
std::string read_file(const std::string& path, std::string_view what);

// A field as shown in an error message: quoted, and cut short so a corrupt
// (e.g. binary) file cannot produce a megabyte-long message.
std::string quoted(std::string_view field);

// Splits `line` on `sep`, storing up to `max_out` fields in `out`; returns
// the total number of fields, which may exceed `max_out`.
size_t split_fields(std::string_view line, char sep, std::string_view* out, size_t max_out);
// The same with a separator of several characters (MovieLens-1M's "::").
size_t split_fields(std::string_view line, std::string_view sep, std::string_view* out, size_t max_out);

// `text` after its first line, which must read exactly `header` (a trailing
// '\r' aside); throws "source:1: expected the header line ..." otherwise.
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

// Calls fn(line, line_number) for every record line, with a trailing '\r'
// removed. Trailing blank lines are accepted (editors and `echo >>` leave
// them); a blank line followed by more records is an error, because it
// usually means two files were concatenated or one was damaged. Lines are
// numbered from lines_before + 1 (a piece of a larger text starts later).
template <typename Fn>
LineWalk for_each_line(std::string_view text, const std::string& source, Fn&& fn,
                       size_t lines_before = 0) {
  LineWalk walk;
  size_t line_no = lines_before;
  size_t first_blank = 0;  // line number of a pending blank line, 0 if none
  size_t pos = 0;
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
    fn(line, line_no);
  }
  walk.trailing_blank = first_blank;
  return walk;
}

}  // namespace tandem::data_detail
