// How input text and system errors appear inside an error message. A message
// is one line that a terminal shows as it is, so bytes from a damaged or
// hostile file must neither end it early (a NUL cuts it wherever it is read
// as a C string), nor break it (line feeds, carriage returns), nor act on
// the terminal (escape sequences), nor hide in it (a byte-order mark,
// zero-width or direction marks).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tandem {

// `bytes` with everything that is not plainly visible written as an escape:
// \t, \r, \n; other control bytes and DEL as \xNN (so NUL is \x00, ESC
// \x1b); a backslash as \\ (so an escape is never ambiguous); a byte that
// is not part of valid UTF-8 as \xNN; and the invisible code points that
// change how a line reads as \uXXXX: C1 controls (U+0080..U+009F),
// zero-width and direction marks (U+200B..U+200F), line and paragraph
// separators (U+2028, U+2029), direction embeddings, overrides and isolates
// (U+202A..U+202E, U+2066..U+2069) and the byte-order mark (U+FEFF). Other
// text, UTF-8 included, is kept as it is. Hex digits are lower case.
std::string escape_for_message(std::string_view bytes);

// A field of an input file as quoted in an error message: escaped as above,
// in single quotes. A field longer than `max_bytes` shows its first bytes
// (at most max_bytes, cut between characters), "..." and its length:
// 'abc...' (1234 bytes). A field holding a UTF-8 byte-order mark says so,
// since a BOM is invisible in most editors: '\ufeff196' (contains a UTF-8
// BOM).
std::string quote_field(std::string_view field, size_t max_bytes = 40);

// An errno value in a message's words: strerror's text, starting in lower
// case ("permission denied" for EACCES, "no such file or directory" for
// ENOENT).
std::string describe_errno(int err);

}  // namespace tandem
