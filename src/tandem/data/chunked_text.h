// Internal to the data stage: parsing one text in pieces on several threads
// with exactly the serial parser's result and errors. The text is cut into
// one piece per worker at line boundaries; each worker parses its piece into
// its own Part (e.g. a Ratings of that piece's rows), numbering its lines
// after the newlines of the pieces before it; the caller joins the parts in
// order. An error is the one the serial walk would have raised first: the
// earliest piece's, or a blank line at the end of one piece followed by
// records in a later one (which no piece sees alone).
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/thread_pool.h"
#include "tandem/data/text_file.h"

namespace tandem::data_detail {

// `text` cut into `parts` consecutive pieces of about equal size, each
// ending just after a '\n' unless it runs to the end of the text (then the
// pieces after it are empty: a text with fewer lines than parts, or one long
// line). Their concatenation is `text`.
std::vector<std::string_view> split_at_lines(std::string_view text, int parts);

// parse(piece, lines_before, part) -> LineWalk for each piece of `text` on
// the pool's workers (one piece each), lines_before counting from
// `lines_before` (the lines of `text`'s own prefix, e.g. a header). Returns
// the parts in text order, or throws the serial walk's first error.
template <typename Part, typename Parse>
std::vector<Part> parse_in_pieces(std::string_view text, const std::string& source, size_t lines_before,
                                  ThreadPool& pool, Parse&& parse) {
  const int n = pool.size();
  const std::vector<std::string_view> pieces = split_at_lines(text, n);
  // Each piece's first line number follows from the newlines before it.
  std::vector<size_t> newlines(static_cast<size_t>(n), 0);
  pool.run([&](int w) {
    const std::string_view p = pieces[static_cast<size_t>(w)];
    newlines[static_cast<size_t>(w)] = static_cast<size_t>(std::count(p.begin(), p.end(), '\n'));
  });
  std::vector<size_t> first_line(static_cast<size_t>(n), lines_before);
  for (int w = 1; w < n; ++w)
    first_line[static_cast<size_t>(w)] = first_line[static_cast<size_t>(w - 1)] + newlines[static_cast<size_t>(w - 1)];

  std::vector<Part> parts(static_cast<size_t>(n));
  std::vector<LineWalk> walks(static_cast<size_t>(n));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  pool.run([&](int w) {
    const auto i = static_cast<size_t>(w);
    try {
      walks[i] = parse(pieces[i], first_line[i], parts[i]);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  });
  // In text order, as the serial walk meets them. A piece that failed did so
  // at or after its first record (only records and the blank line before
  // one raise errors), so it has a record.
  size_t pending_blank = 0;  // first line of a blank run no record has followed yet
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool has_record = walks[i].any_record || errors[i] != nullptr;
    if (pending_blank != 0 && has_record) throw_blank_line(source, pending_blank);
    if (errors[i]) std::rethrow_exception(errors[i]);
    if (walks[i].any_record) {
      pending_blank = walks[i].trailing_blank;
    } else if (pending_blank == 0) {
      pending_blank = walks[i].trailing_blank;
    }
  }
  return parts;
}

}  // namespace tandem::data_detail
