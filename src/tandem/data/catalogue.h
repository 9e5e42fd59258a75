// The item catalogue: every item that retrieval can return, with its title.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

struct Catalogue {
  std::vector<int64_t> item_ids;    // raw ids, in file order, unique
  std::vector<std::string> titles;  // UTF-8, same order as item_ids

  size_t size() const { return item_ids.size(); }
};

// Converts ISO-8859-1 (latin-1) bytes to UTF-8.
std::string latin1_to_utf8(std::string_view latin1);

// Parses the MovieLens u.item format: pipe-separated, latin-1 encoded,
// first field the integer item id, second the title (further fields, e.g.
// release date and genre flags, are ignored here). Errors name `source` and
// the 1-based line: fewer than two fields, non-numeric id, duplicate id,
// no records.
Catalogue parse_catalogue(std::string_view text, const std::string& source);
Catalogue load_catalogue(const std::string& path);

}  // namespace tandem
