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

CatalogueFormat movielens_100k_items() { return {}; }

CatalogueFormat movielens_1m_items() {
  CatalogueFormat f;
  f.separator = "::";
  return f;
}

CatalogueFormat movielens_csv_items() {
  CatalogueFormat f;
  f.separator = ",";
  f.latin1 = false;
  f.csv_quotes = true;
  f.header = "movieId,title,genres";
  return f;
}

namespace {

// The title field of a CSV line after the id's comma: "quoted, ""like"" this"
// or plain up to the next comma.
std::string csv_title(std::string_view rest, const std::string& source, size_t line_no) {
  if (rest.empty() || rest.front() != '"') return std::string(rest.substr(0, rest.find(',')));
  std::string out;
  for (size_t i = 1; i < rest.size(); ++i) {
    if (rest[i] != '"') {
      out += rest[i];
    } else if (i + 1 < rest.size() && rest[i + 1] == '"') {
      out += '"';
      ++i;
    } else {
      TANDEM_CHECK(i + 1 == rest.size() || rest[i + 1] == ',',
                   source << ":" << line_no << ": text after the closing quote of the title");
      return out;
    }
  }
  TANDEM_THROW(source << ":" << line_no << ": the title's opening quote is never closed");
}

}  // namespace

Catalogue parse_catalogue(std::string_view text, const std::string& source,
                          const CatalogueFormat& format) {
  Catalogue out;
  size_t first_line = 0;
  if (!format.header.empty()) {
    text = data_detail::skip_header(text, format.header, source);
    first_line = 1;  // line numbers stay true to the file
  }
  const size_t expected = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  out.item_ids.reserve(expected);
  out.titles.reserve(expected);
  std::unordered_map<int64_t, size_t> line_of;  // item id -> line that defined it
  line_of.reserve(expected);
  const std::string_view sep = format.separator;
  data_detail::for_each_line(
      text, source,
      [&](std::string_view line, size_t line_no) {
        std::string_view f[2];
        const size_t n = data_detail::split_fields(line, sep, f, 2);
        TANDEM_CHECK(n >= 2, source << ":" << line_no << ": expected at least 2 '" << sep
                                    << "'-separated fields (id, title), found " << n);
        const int64_t id = data_detail::parse_id(f[0], 1, "item id", source, line_no);
        const auto [it, inserted] = line_of.emplace(id, line_no);
        TANDEM_CHECK(inserted, source << ":" << line_no << ": duplicate item id " << id
                                      << " (first defined on line " << it->second << ")");
        out.item_ids.push_back(id);
        out.largest_id.see(id, line_no);
        std::string title = format.csv_quotes ? csv_title(line.substr(f[0].size() + sep.size()), source, line_no)
                                              : std::string(f[1]);
        out.titles.push_back(format.latin1 ? latin1_to_utf8(title) : std::move(title));
      },
      first_line);
  TANDEM_CHECK(out.size() > 0, source << ": no items found (the file is empty or blank)");
  out.largest_id.source = source;
  return out;
}

Catalogue load_catalogue(const std::string& path, const CatalogueFormat& format) {
  return parse_catalogue(data_detail::read_file(path, "item"), path, format);
}

}  // namespace tandem
