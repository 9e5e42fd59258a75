// The item catalogue: every item that retrieval can return, with its title.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/data/largest_id.h"

namespace tandem {

struct Catalogue {
  std::vector<int64_t> item_ids;    // raw ids, in file order, unique
  std::vector<std::string> titles;  // UTF-8, same order as item_ids
  LargestId largest_id;             // the items file's (set by the parsers)

  size_t size() const { return item_ids.size(); }
};

// Converts ISO-8859-1 (latin-1) bytes to UTF-8.
std::string latin1_to_utf8(std::string_view latin1);

// How an items file is laid out. The default is MovieLens-100K's u.item:
// pipe-separated, latin-1, first field the integer item id, second the title
// (further fields, e.g. release date and genre flags, are ignored here).
struct CatalogueFormat {
  std::string separator = "|";  // "|" u.item, "::" movies.dat, "," movies.csv
  bool latin1 = true;           // convert titles from ISO-8859-1 (else UTF-8 as is)
  bool csv_quotes = false;      // a title may be "quoted, with ""doubled"" quotes"
  std::string header;           // a first line that must read exactly this; "" = none
};
CatalogueFormat movielens_100k_items();
CatalogueFormat movielens_1m_items();   // movies.dat: id::title::genres, latin-1
CatalogueFormat movielens_csv_items();  // movies.csv: header, RFC 4180 quoting, UTF-8

// Parses an items file. Errors name `source` and the 1-based line: a missing
// or different header, fewer than two fields, an unterminated quote,
// non-numeric id, duplicate id, no records.
Catalogue parse_catalogue(std::string_view text, const std::string& source,
                          const CatalogueFormat& format = {});
Catalogue load_catalogue(const std::string& path, const CatalogueFormat& format = {});

}  // namespace tandem
