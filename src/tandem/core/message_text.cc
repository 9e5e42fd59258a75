#include "tandem/core/message_text.h"

#include <cctype>
#include <cstring>

namespace tandem {

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

void append_byte_escape(std::string& out, unsigned char byte) {
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xF];
}

// The length of the well-formed UTF-8 sequence starting at s[i] (2 to 4
// bytes), storing its code point in `cp`; 0 when the bytes there are not one
// (a stray continuation byte, a truncated sequence, an overlong form, a
// surrogate, a code point above U+10FFFF). ASCII is the caller's.
size_t utf8_sequence(std::string_view s, size_t i, char32_t& cp) {
  const auto lead = static_cast<unsigned char>(s[i]);
  size_t length = 0;
  char32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, cp = lead & 0x1F, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, cp = lead & 0x0F, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < length) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (next & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

// Code points that show nothing, or that move or break the text around them.
bool is_invisible(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) || cp == 0x2028 ||
         cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
         cp == 0xFEFF;
}

// Escapes the character (or lone byte) at s[i] onto `out`; returns the bytes
// it took.
size_t append_escaped_unit(std::string& out, std::string_view s, size_t i) {
  const auto byte = static_cast<unsigned char>(s[i]);
  if (byte < 0x80) {
    switch (byte) {
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (byte < 0x20 || byte == 0x7F) {
          append_byte_escape(out, byte);
        } else {
          out += static_cast<char>(byte);
        }
    }
    return 1;
  }
  char32_t cp = 0;
  const size_t length = utf8_sequence(s, i, cp);
  if (length == 0) {
    append_byte_escape(out, byte);
    return 1;
  }
  if (is_invisible(cp)) {
    // Every invisible code point above lies in the Basic Multilingual Plane.
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
  } else {
    out.append(s.substr(i, length));
  }
  return length;
}

// The bytes one unit at s[i] takes: a whole UTF-8 sequence, or one byte.
size_t unit_length(std::string_view s, size_t i) {
  if (static_cast<unsigned char>(s[i]) < 0x80) return 1;
  char32_t cp = 0;
  const size_t length = utf8_sequence(s, i, cp);
  return length == 0 ? 1 : length;
}

}  // namespace

std::string escape_for_message(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) i += append_escaped_unit(out, bytes, i);
  return out;
}

std::string quote_field(std::string_view field, size_t max_bytes) {
  std::string out = "'";
  size_t i = 0;
  // Whole characters only: a cut inside a UTF-8 sequence would show its
  // first bytes as \xNN escapes that are not in the file.
  while (i < field.size() && i + unit_length(field, i) <= max_bytes) i += append_escaped_unit(out, field, i);
  const bool shortened = i < field.size();
  if (shortened) out += "...";
  out += '\'';
  const bool has_bom = field.find(kUtf8Bom) != std::string_view::npos;
  if (shortened || has_bom) {
    out += " (";
    if (shortened) out += std::to_string(field.size()) + " bytes";
    if (shortened && has_bom) out += ", ";
    if (has_bom) out += "contains a UTF-8 BOM";
    out += ')';
  }
  return out;
}

std::string describe_errno(int err) {
  std::string text = std::strerror(err);
  // "Permission denied" -> "permission denied", but an all-capital word
  // (an acronym) stays as it is.
  if (text.size() >= 2 && std::isupper(static_cast<unsigned char>(text[0])) &&
      std::islower(static_cast<unsigned char>(text[1])))
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace tandem
