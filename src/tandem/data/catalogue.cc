#include "tandem/data/catalogue.h"

#include <algorithm>
#include <unordered_map>

#include "tandem/core/error.h"
#include "tandem/data/text_file.h"

namespace tandem {

std::string latin1_to_utf8(std::string_view latin1) {
  std::string out;
  out.reserve(latin1.size() + latin1.size() / 8);
  for (const char c : latin1) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out.push_back(c);
    } else {
      // Latin-1 maps byte b to code point U+00b, which UTF-8 writes in two bytes.
      out.push_back(static_cast<char>(0xC0 | (byte >> 6)));
      out.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
    }
  }
  return out;
}

Catalogue parse_catalogue(std::string_view text, const std::string& source) {
  Catalogue out;
  const size_t expected = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  out.item_ids.reserve(expected);
  out.titles.reserve(expected);
  std::unordered_map<int64_t, size_t> line_of;  // item id -> line that defined it
  line_of.reserve(expected);
  data_detail::for_each_line(text, source, [&](std::string_view line, size_t line_no) {
    std::string_view f[2];
    const size_t n = data_detail::split_fields(line, '|', f, 2);
    TANDEM_CHECK(n >= 2, source << ":" << line_no
                                << ": expected at least 2 '|'-separated fields (id, title), "
                                   "found "
                                << n);
    const int64_t id = data_detail::parse_id(f[0], 1, "item id", source, line_no);
    const auto [it, inserted] = line_of.emplace(id, line_no);
    TANDEM_CHECK(inserted, source << ":" << line_no << ": duplicate item id " << id
                                  << " (first defined on line " << it->second << ")");
    out.item_ids.push_back(id);
    out.titles.push_back(latin1_to_utf8(f[1]));
  });
  TANDEM_CHECK(out.size() > 0, source << ": no items found (the file is empty or blank)");
  return out;
}

Catalogue load_catalogue(const std::string& path) {
  return parse_catalogue(data_detail::read_file(path, "item"), path);
}

}  // namespace tandem
