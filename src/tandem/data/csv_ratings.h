// Generic delimited ratings ("csv" data format): any file, comma- or
// tab-separated (or another single character), with or without a header,
// whose columns are mapped by header name or 0-based index. Only user and
// item are required; rating (absent: implicit feedback, every rating 1),
// timestamp and weight (a per-example sample weight, default 1) are
// optional, and unmapped columns are ignored. An optional items file gives
// titles the same way. Other columns of the ratings file, the items file or
// an optional users file can be read as side attributes of users and items
// (parse_csv_attributes), which the side-feature towers embed.
//
// Ids are non-negative integers, or, when an IdTable is passed, arbitrary
// strings interned in first-seen order (see id_table.h): the vocabulary id
// mode's way of reading ids, as TFRS's StringLookup does.
//
// Fields may be quoted ("a, b", with "" for a quote inside) but may not span
// lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/data/catalogue.h"
#include "tandem/data/id_table.h"
#include "tandem/data/ratings.h"
#include "tandem/data/side_attributes.h"

namespace tandem {

// A column chosen by its header name or by its 0-based index.
struct ColumnRef {
  std::string name;    // header name, or ...
  int64_t index = -1;  // ... 0-based index; neither = not mapped

  static ColumnRef at(int64_t i) { return {"", i}; }
  static ColumnRef named(std::string n) { return {std::move(n), -1}; }
  bool mapped() const { return index >= 0 || !name.empty(); }
  bool operator==(const ColumnRef&) const = default;
};
// "" (not mapped), "'userId'" or "#2": how messages name a column.
std::string describe(const ColumnRef& c);
// From a command-line value: "" = not mapped, a non-negative integer = an
// index, anything else = a header name.
ColumnRef parse_column_ref(const std::string& text);

struct CsvRatingsSpec {
  std::string ratings_file;  // required with the "csv" format
  std::string items_file;    // optional: titles (and item side attributes)
  std::string users_file;    // optional: user side attributes
  // "auto" (".tsv"/".tab" extension: tab; ".csv": comma; otherwise tab if the
  // first line has one, else comma), "comma", "tab", or one character.
  std::string separator = "auto";
  bool header = true;  // the first line names the columns
  ColumnRef user = ColumnRef::at(0), item = ColumnRef::at(1);
  ColumnRef rating, timestamp, weight;
  ColumnRef item_id = ColumnRef::at(0), item_title = ColumnRef::at(1);  // items file
  ColumnRef user_file_id = ColumnRef::at(0);                            // users file
  // Splits a side-attribute field into several values (a bag, e.g.
  // "Action|Comedy"): one character, or "" for single-valued fields.
  std::string list_separator;

  bool operator==(const CsvRatingsSpec&) const = default;
};

// Checks what can be checked without the files: a known separator and list
// separator, user and item mapped, names given only with a header. Throws
// naming the setting.
void validate(const CsvRatingsSpec& spec);

// The separator for `path` whose text is `text`, per spec.separator.
char csv_separator(const CsvRatingsSpec& spec, const std::string& path, std::string_view text);

// Parses a ratings file per `spec`. With `users`/`items` null, ids must be
// non-negative integers (a string id is an error naming file, line and
// column and pointing to the vocabulary id mode); otherwise they are
// interned there (the tables may already hold ids of an earlier file).
// Errors name source:line: a missing header column, an index beyond the
// columns, a row with a different number of fields than the first (ragged),
// an unterminated quote, a bad number, a negative or non-finite weight, a
// file without records. The returned table has timestamps only when a
// timestamp column is mapped and weights only when a weight column is.
// With threads > 1 and integer ids (no tables) the records are parsed in
// concurrent pieces, as parse_ratings does: same rows, order and errors.
// String ids are always interned on one thread (first-seen order).
Ratings parse_csv_ratings(std::string_view text, const std::string& source, char separator,
                          const CsvRatingsSpec& spec, IdTable* users = nullptr,
                          IdTable* items = nullptr, int threads = 1);
Ratings load_csv_ratings(const std::string& path, const CsvRatingsSpec& spec,
                         IdTable* users = nullptr, IdTable* items = nullptr, int threads = 1);

// Parses an items file per spec.item_id / spec.item_title (same separator
// and header rules); ids as above. Titles are taken as UTF-8. Duplicate ids
// are an error.
Catalogue parse_csv_items(std::string_view text, const std::string& source, char separator,
                          const CsvRatingsSpec& spec, IdTable* items = nullptr);
Catalogue load_csv_items(const std::string& path, const CsvRatingsSpec& spec,
                         IdTable* items = nullptr);

// Where one side's attributes are read: a file, its id column, and whether
// an id may repeat (the ratings file names a user or item on every one of its
// rows: the first row's values are kept) or must be unique (a users or items
// file: a repeat is an error naming the line).
struct CsvAttributeSource {
  std::string path;
  ColumnRef id;
  bool repeated_ids = false;
};

// Side attributes from a delimited file: per id, one attribute per entry of
// `columns`, each a header name or a 0-based index as parse_column_ref reads
// it, and named by that text. A field is one value, or with
// spec.list_separator several (a bag); empty fields and elements are no
// value. Separator and header as spec says. Ids are read as by
// parse_csv_ratings, except that with `ids` they are looked up, not interned:
// a row whose id the table lacks (no rating names it) is skipped. Errors name
// source:line (a missing column, a ragged row, a bad id).
SideAttributes parse_csv_attributes(std::string_view text, const std::string& source, char separator,
                                    const CsvRatingsSpec& spec, const CsvAttributeSource& from,
                                    const std::vector<std::string>& columns, const IdTable* ids = nullptr);
SideAttributes load_csv_attributes(const CsvRatingsSpec& spec, const CsvAttributeSource& from,
                                   const std::vector<std::string>& columns, const IdTable* ids = nullptr);

}  // namespace tandem
