#include "tandem/data/text_file.h"

#include <charconv>
#include <system_error>

#include "tandem/core/regular_file.h"

namespace tandem::data_detail {

std::string read_file(const std::string& path, std::string_view what) {
  return read_regular_file(path, std::string(what) + " file");
}

void throw_blank_line(const std::string& source, size_t line) {
  TANDEM_THROW(source << ":" << line
                      << ": blank line before the end of the file (only trailing blank lines are allowed)");
}

void throw_on_unterminated_line(const Error& error) {
  throw Error(std::string(error.what()) + " (last line, no final newline)");
}

size_t split_fields(std::string_view line, char sep, std::string_view* out, size_t max_out) {
  return split_fields(line, std::string_view(&sep, 1), out, max_out);
}

size_t split_fields(std::string_view line, std::string_view sep, std::string_view* out,
                    size_t max_out) {
  size_t count = 0;
  if (sep.size() == 1) {
    // memchr for the common one-character separators: string_view::find
    // compares through memcmp per candidate, a large share of a 25M-line load.
    const char c = sep[0];
    size_t start = 0;
    while (true) {
      const void* hit = std::memchr(line.data() + start, c, line.size() - start);
      const size_t end = hit ? static_cast<size_t>(static_cast<const char*>(hit) - line.data()) : line.size();
      if (count < max_out) out[count] = line.substr(start, end - start);
      ++count;
      if (!hit) return count;
      start = end + 1;
    }
  }
  size_t start = 0;
  while (true) {
    const size_t end = line.find(sep, start);
    const std::string_view field =
        line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (count < max_out) out[count] = field;
    ++count;
    if (end == std::string_view::npos) return count;
    start = end + sep.size();
  }
}

std::string_view skip_header(std::string_view text, std::string_view header, const std::string& source) {
  text = skip_bom(text);
  const size_t nl = text.find('\n');
  std::string_view first = text.substr(0, nl);
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  TANDEM_CHECK(first == header, source << ":1: expected the header line '" << header << "', found "
                                       << quote_field(first));
  return nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
}

int64_t parse_id(std::string_view field, int index, const char* name,
                 const std::string& source, size_t line) {
  int64_t value = 0;
  const char* first = field.data();
  const char* last = first + field.size();
  const auto [ptr, ec] = std::from_chars(first, last, value);
  TANDEM_CHECK(ec != std::errc::result_out_of_range,
               source << ":" << line << ": field " << index << " (" << name
                      << ") does not fit a 64-bit integer: " << quote_field(field));
  TANDEM_CHECK(ec == std::errc() && ptr == last,
               source << ":" << line << ": field " << index << " (" << name
                      << ") is not an integer: " << quote_field(field));
  TANDEM_CHECK(value >= 0, source << ":" << line << ": field " << index << " (" << name
                                  << ") is negative: " << value);
  return value;
}

}  // namespace tandem::data_detail
