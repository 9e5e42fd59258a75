#include "tandem/data/csv_ratings.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <filesystem>
#include <optional>
#include <unordered_set>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/core/thread_pool.h"
#include "tandem/data/chunked_text.h"
#include "tandem/data/text_file.h"

namespace tandem {

std::string describe(const ColumnRef& c) {
  // Appends rather than "'" + name: GCC 12 warns falsely (-Wrestrict) on
  // a literal + std::string.
  std::string s;
  if (!c.name.empty()) {
    s += '\'';
    s += c.name;
    s += '\'';
  } else if (c.index >= 0) {
    s += '#';
    s += std::to_string(c.index);
  }
  return s;
}

ColumnRef parse_column_ref(const std::string& text) {
  if (text.empty()) return {};
  int64_t index = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
  if (ec == std::errc() && ptr == text.data() + text.size() && index >= 0) return ColumnRef::at(index);
  return ColumnRef::named(text);
}

namespace {

const char* separator_name(char sep) {
  switch (sep) {
    case ',': return "comma";
    case '\t': return "tab";
    case ';': return "semicolon";
    case '|': return "pipe";
    default: return "separator";
  }
}

// One line split into fields. Quoted fields lose their quotes; a doubled
// quote inside one is unescaped into `scratch_` (a deque, so the views of
// earlier fields stay valid while later ones are added).
class FieldSplitter {
 public:
  // The fields of `line`; throws naming source:line for an unterminated
  // quote or text after a closing quote.
  const std::vector<std::string_view>& split(std::string_view line, char sep,
                                             const std::string& source, size_t line_no) {
    fields_.clear();
    if (std::memchr(line.data(), '"', line.size()) == nullptr) {
      size_t start = 0;
      while (true) {
        const void* hit = std::memchr(line.data() + start, sep, line.size() - start);
        if (hit == nullptr) {
          fields_.push_back(line.substr(start));
          return fields_;
        }
        const size_t end = static_cast<size_t>(static_cast<const char*>(hit) - line.data());
        fields_.push_back(line.substr(start, end - start));
        start = end + 1;
      }
    }
    split_quoted(line, sep, source, line_no);
    return fields_;
  }

 private:
  void split_quoted(std::string_view line, char sep, const std::string& source, size_t line_no) {
    size_t used = 0;
    size_t pos = 0;
    while (true) {
      if (pos < line.size() && line[pos] == '"') {
        // A quoted field: up to the quote not followed by another quote.
        std::string* unescaped = nullptr;
        size_t start = pos + 1, i = start;
        while (true) {
          TANDEM_CHECK(i < line.size(), source << ":" << line_no << ": unterminated quote in field "
                                               << fields_.size() + 1
                                               << " (quoted fields may not span lines)");
          if (line[i] != '"') {
            ++i;
            continue;
          }
          if (i + 1 < line.size() && line[i + 1] == '"') {
            if (unescaped == nullptr) {
              if (used == scratch_.size()) scratch_.emplace_back();
              unescaped = &scratch_[used++];
              unescaped->clear();
            }
            unescaped->append(line.substr(start, i + 1 - start));  // keeps one quote
            i += 2;
            start = i;
            continue;
          }
          break;  // the closing quote
        }
        if (unescaped != nullptr) {
          unescaped->append(line.substr(start, i - start));
          fields_.push_back(*unescaped);
        } else {
          fields_.push_back(line.substr(start, i - start));
        }
        pos = i + 1;
        if (pos == line.size()) return;
        TANDEM_CHECK(line[pos] == sep, source << ":" << line_no << ": text after the closing quote of field "
                                              << fields_.size() << " (expected a "
                                              << separator_name(sep) << ")");
        ++pos;
        continue;
      }
      const size_t end = line.find(sep, pos);
      fields_.push_back(line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
      if (end == std::string_view::npos) return;
      pos = end + 1;
    }
  }

  std::vector<std::string_view> fields_;
  std::deque<std::string> scratch_;
};

// The columns of a file, from its header or its first record.
struct ColumnLayout {
  std::vector<std::string> names;  // header names; empty without a header
  size_t count = 0;                // fields every record must have

  // The 0-based index of `ref` (mapped), or an error naming the file.
  size_t resolve(const ColumnRef& ref, const char* role, const std::string& source) const {
    if (!ref.name.empty()) {
      const auto it = std::find(names.begin(), names.end(), ref.name);
      if (it != names.end()) return static_cast<size_t>(it - names.begin());
      std::string known;
      for (const auto& n : names) {
        if (!known.empty()) known += ", ";
        known += quote_field(n);
      }
      TANDEM_THROW(source << ":1: no column named '" << ref.name << "' (the " << role
                          << " column); the header has " << known);
    }
    TANDEM_CHECK(static_cast<size_t>(ref.index) < count,
                 source << ":1: column index " << ref.index << " (the " << role
                        << " column) is out of range: the file has " << count
                        << " column" << (count == 1 ? "" : "s") << " (indices start at 0)");
    return static_cast<size_t>(ref.index);
  }
  // How messages name column `i`: "column 2 ('rating')".
  std::string name_of(size_t i) const {
    std::string s = "column " + std::to_string(i);
    if (i < names.size()) {
      s += " (";
      s += quote_field(names[i]);
      s += ")";
    }
    return s;
  }
};

// A record must have as many fields as the header (or first line).
void check_field_count(size_t fields, const ColumnLayout& layout, char sep, bool header,
                       const std::string& source, size_t line_no) {
  TANDEM_CHECK(fields == layout.count,
               source << ":" << line_no << ": expected " << layout.count << " " << separator_name(sep)
                      << "-separated fields (as " << (header ? "the header" : "the first line")
                      << " has), found " << fields);
}

// Walks the records of `text`: reads the header (if any) into the layout,
// then calls fn(fields, line_no) for every record, checking that each has
// the layout's number of fields. `before_records(layout)` runs once the
// layout is known (resolving the columns).
template <typename Before, typename Fn>
void walk_records(std::string_view text, const std::string& source, char sep, bool header,
                  const char* what, Before&& before_records, Fn&& fn) {
  FieldSplitter splitter;
  ColumnLayout layout;
  bool have_layout = false;
  size_t records = 0;
  data_detail::for_each_line(text, source, [&](std::string_view line, size_t line_no) {
    const auto& fields = splitter.split(line, sep, source, line_no);
    if (!have_layout) {
      have_layout = true;
      layout.count = fields.size();
      if (header) {
        TANDEM_CHECK(line_no == 1, source << ":" << line_no << ": expected the header line first");
        for (const auto f : fields) layout.names.emplace_back(f);
        before_records(layout);
        return;
      }
      before_records(layout);
    }
    check_field_count(fields.size(), layout, sep, header, source, line_no);
    ++records;
    fn(fields, layout, line_no);
  });
  TANDEM_CHECK(have_layout, source << ": the file is empty (expected "
                                   << (header ? "a header line and " : "") << what << ")");
  TANDEM_CHECK(records > 0, source << ": no " << what << " found (only a header line)");
}

// Reads an id: a non-negative integer, or any non-empty string interned in
// `table` when there is one.
int64_t read_id(std::string_view field, IdTable* table, const char* role, const ColumnLayout& layout,
                size_t column, const std::string& source, size_t line_no) {
  TANDEM_CHECK(!field.empty(), source << ":" << line_no << ": " << layout.name_of(column) << " ("
                                      << role << "): empty id");
  if (table != nullptr) return table->intern(field);
  int64_t value = 0;
  const char* last = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), last, value);
  TANDEM_CHECK(ec == std::errc() && ptr == last && value >= 0,
               source << ":" << line_no << ": " << layout.name_of(column) << " (" << role << "): "
                      << quote_field(field)
                      << " is not a non-negative integer id; ids that are not integers need the "
                         "vocabulary id mode ([features] ids = \"vocabulary\" in a config file, "
                         "or --preset tfrs)");
  return value;
}

float read_float(std::string_view field, const char* role, const ColumnLayout& layout, size_t column,
                 const std::string& source, size_t line_no) {
  float value = 0.0f;
  const char* last = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), last, value);
  // from_chars accepts "nan" and "inf"; neither is a rating or a weight.
  TANDEM_CHECK(ec == std::errc() && ptr == last && std::isfinite(value),
               source << ":" << line_no << ": " << layout.name_of(column) << " (" << role
                      << ") is not a finite number: " << quote_field(field));
  return value;
}

int64_t read_timestamp(std::string_view field, const ColumnLayout& layout, size_t column,
                       const std::string& source, size_t line_no) {
  int64_t value = 0;
  const char* last = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), last, value);
  TANDEM_CHECK(ec == std::errc() && ptr == last,
               source << ":" << line_no << ": " << layout.name_of(column)
                      << " (timestamp) is not an integer: " << quote_field(field));
  return value;
}

constexpr size_t kUnmapped = static_cast<size_t>(-1);

}  // namespace

void validate(const CsvRatingsSpec& spec) {
  const std::string& s = spec.separator;
  TANDEM_CHECK(s == "auto" || s == "comma" || s == "tab" ||
                   (s.size() == 1 && s[0] != '"' && s[0] != '\n' && s[0] != '\r'),
               "unknown separator '" << s << "' (auto, comma, tab, or a single character other "
                                        "than a quote or line break)");
  TANDEM_CHECK(spec.user.mapped() && spec.item.mapped(),
               "the csv format needs the user and item columns mapped");
  TANDEM_CHECK(spec.item_id.mapped() && spec.item_title.mapped(),
               "the csv format's items file needs its id and title columns mapped");
  TANDEM_CHECK(spec.user_file_id.mapped(), "the csv format's users file needs its id column mapped");
  const std::string& l = spec.list_separator;
  TANDEM_CHECK(l.empty() || (l.size() == 1 && l[0] != '"' && l[0] != '\n' && l[0] != '\r'),
               "unknown list separator '" << l << "' (one character other than a quote or line "
                                                  "break, or empty for single-valued fields)");
  if (!spec.header) {
    for (const ColumnRef* c : {&spec.user, &spec.item, &spec.rating, &spec.timestamp, &spec.weight,
                               &spec.item_id, &spec.item_title, &spec.user_file_id})
      TANDEM_CHECK(c->name.empty(), "column " << describe(*c)
                                              << " is given by name, but the files have no header "
                                                 "(header = false): give its 0-based index");
  }
}

char csv_separator(const CsvRatingsSpec& spec, const std::string& path, std::string_view text) {
  const std::string& s = spec.separator;
  if (s == "comma") return ',';
  if (s == "tab") return '\t';
  if (s.size() == 1) return s[0];
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".tsv" || ext == ".tab") return '\t';
  if (ext == ".csv") return ',';
  const std::string_view first = text.substr(0, text.find('\n'));
  return first.find('\t') != std::string_view::npos ? '\t' : ',';
}

namespace {

// Where a ratings file's columns are, and how a record becomes a row.
struct RatingColumns {
  size_t user = 0, item = 0, rating = kUnmapped, time = kUnmapped, weight = kUnmapped;

  RatingColumns(const CsvRatingsSpec& spec, const ColumnLayout& layout, const std::string& source) {
    user = layout.resolve(spec.user, "user", source);
    item = layout.resolve(spec.item, "item", source);
    if (spec.rating.mapped()) rating = layout.resolve(spec.rating, "rating", source);
    if (spec.timestamp.mapped()) time = layout.resolve(spec.timestamp, "timestamp", source);
    if (spec.weight.mapped()) weight = layout.resolve(spec.weight, "weight", source);
  }

  // Room for `lines` rows in the columns this file fills.
  void reserve(Ratings& out, size_t lines) const {
    out.users.reserve(lines);
    out.items.reserve(lines);
    out.ratings.reserve(lines);
    if (time != kUnmapped) out.timestamps.reserve(lines);
    if (weight != kUnmapped) out.weights.reserve(lines);
  }

  void add(const std::vector<std::string_view>& f, const ColumnLayout& layout, const std::string& source,
           size_t line_no, IdTable* users, IdTable* items, Ratings& out) const {
    out.users.push_back(read_id(f[user], users, "user", layout, user, source, line_no));
    out.items.push_back(read_id(f[item], items, "item", layout, item, source, line_no));
    out.largest_user.see(out.users.back(), line_no);
    out.largest_item.see(out.items.back(), line_no);
    out.ratings.push_back(rating == kUnmapped
                              ? 1.0f
                              : read_float(f[rating], "rating", layout, rating, source, line_no));
    if (time != kUnmapped) out.timestamps.push_back(read_timestamp(f[time], layout, time, source, line_no));
    if (weight != kUnmapped) {
      const float w = read_float(f[weight], "weight", layout, weight, source, line_no);
      TANDEM_CHECK(w >= 0, source << ":" << line_no << ": " << layout.name_of(weight)
                                  << " (weight) is negative: " << f[weight]);
      out.weights.push_back(w);
    }
  }
};

size_t newlines_in(std::string_view text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The serial walk_records for integer ids on `threads` threads: the first
// line (header, or the first record, which fixes the field count) is read
// here, the records in pieces (chunked_text.h). Returns false, having done
// nothing, when the first line is blank: that rare file goes the serial way.
bool parse_csv_ratings_in_pieces(std::string_view text, const std::string& source, char sep,
                                 const CsvRatingsSpec& spec, int threads, Ratings& out) {
  const size_t nl = text.find('\n');
  // As for_each_line reads it: a byte-order mark at the file's start is not
  // part of the first field.
  std::string_view first = data_detail::skip_bom(text.substr(0, nl));
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  if (first.empty()) return false;
  FieldSplitter splitter;
  ColumnLayout layout;
  const auto& fields = splitter.split(first, sep, source, 1);
  layout.count = fields.size();
  if (spec.header)
    for (const auto f : fields) layout.names.emplace_back(f);
  const RatingColumns columns(spec, layout, source);
  // With a header the records start on line 2; without one the first line
  // is a record too.
  const std::string_view records =
      !spec.header ? text : nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  const size_t lines_before = spec.header ? 1 : 0;
  ThreadPool pool(threads);
  out = concatenate_ratings(data_detail::parse_in_pieces<Ratings>(
      records, source, lines_before, pool, [&](std::string_view piece, size_t before, Ratings& part) {
        FieldSplitter piece_splitter;
        columns.reserve(part, newlines_in(piece) + 1);
        return data_detail::for_each_line(
            piece, source,
            [&](std::string_view line, size_t line_no) {
              const auto& f = piece_splitter.split(line, sep, source, line_no);
              check_field_count(f.size(), layout, sep, spec.header, source, line_no);
              columns.add(f, layout, source, line_no, nullptr, nullptr, part);
            },
            before);
      }));
  TANDEM_CHECK(out.size() > 0, source << ": no ratings found (only a header line)");
  out.largest_user.source = out.largest_item.source = source;
  return true;
}

}  // namespace

Ratings parse_csv_ratings(std::string_view text, const std::string& source, char separator,
                          const CsvRatingsSpec& spec, IdTable* users, IdTable* items, int threads) {
  validate(spec);
  Ratings out;
  // Interning strings gives ids in first-seen order, which pieces parsed
  // concurrently cannot know: string ids are read serially.
  if (threads > 1 && users == nullptr && items == nullptr &&
      parse_csv_ratings_in_pieces(text, source, separator, spec, threads, out))
    return out;
  std::optional<RatingColumns> columns;
  const auto before = [&](const ColumnLayout& layout) {
    columns.emplace(spec, layout, source);
    // One record per newline bounds the row count; reserving saves the
    // columns from regrowing on a file of millions of lines.
    columns->reserve(out, newlines_in(text) + 1);
  };
  walk_records(text, source, separator, spec.header, "ratings", before,
               [&](const std::vector<std::string_view>& f, const ColumnLayout& layout, size_t line_no) {
                 columns->add(f, layout, source, line_no, users, items, out);
               });
  out.largest_user.source = out.largest_item.source = source;
  return out;
}

Ratings load_csv_ratings(const std::string& path, const CsvRatingsSpec& spec, IdTable* users,
                         IdTable* items, int threads) {
  const std::string text = data_detail::read_file(path, "ratings");
  return parse_csv_ratings(text, path, csv_separator(spec, path, text), spec, users, items, threads);
}

Catalogue parse_csv_items(std::string_view text, const std::string& source, char separator,
                          const CsvRatingsSpec& spec, IdTable* items) {
  validate(spec);
  Catalogue out;
  size_t id_col = 0, title_col = 0;
  std::unordered_set<int64_t> seen;
  const auto before = [&](const ColumnLayout& layout) {
    id_col = layout.resolve(spec.item_id, "item id", source);
    title_col = layout.resolve(spec.item_title, "title", source);
  };
  walk_records(text, source, separator, spec.header, "items", before,
               [&](const std::vector<std::string_view>& f, const ColumnLayout& layout, size_t line_no) {
                 const int64_t id = read_id(f[id_col], items, "item id", layout, id_col, source, line_no);
                 TANDEM_CHECK(seen.insert(id).second, source << ":" << line_no << ": duplicate item id "
                                                             << quote_field(f[id_col]));
                 out.item_ids.push_back(id);
                 out.largest_id.see(id, line_no);
                 out.titles.emplace_back(f[title_col]);
               });
  out.largest_id.source = source;
  return out;
}

Catalogue load_csv_items(const std::string& path, const CsvRatingsSpec& spec, IdTable* items) {
  const std::string text = data_detail::read_file(path, "items");
  return parse_csv_items(text, path, csv_separator(spec, path, text), spec, items);
}

SideAttributes parse_csv_attributes(std::string_view text, const std::string& source, char separator,
                                    const CsvRatingsSpec& spec, const CsvAttributeSource& from,
                                    const std::vector<std::string>& columns, const IdTable* ids) {
  validate(spec);
  TANDEM_CHECK(from.id.mapped(), source << ": no id column mapped for its side attributes");
  SideAttributes out;
  out.names = columns;
  size_t id_col = 0;
  std::vector<size_t> cols;
  const auto before = [&](const ColumnLayout& layout) {
    id_col = layout.resolve(from.id, "id", source);
    for (const auto& c : columns) {
      const ColumnRef ref = parse_column_ref(c);
      TANDEM_CHECK(ref.name.empty() || spec.header,
                   "side feature column '" << c << "' is given by name, but the files have no "
                                               "header (header = false): give its 0-based index");
      cols.push_back(layout.resolve(ref, "side feature", source));
    }
  };
  const char list = spec.list_separator.empty() ? '\0' : spec.list_separator[0];
  walk_records(text, source, separator, spec.header, "records", before,
               [&](const std::vector<std::string_view>& f, const ColumnLayout& layout, size_t line_no) {
                 int64_t id = 0;
                 if (ids != nullptr) {
                   TANDEM_CHECK(!f[id_col].empty(), source << ":" << line_no << ": "
                                                           << layout.name_of(id_col) << " (id): empty id");
                   const auto found = ids->find(f[id_col]);
                   if (!found) return;  // an entity no rating names
                   id = *found;
                 } else {
                   id = read_id(f[id_col], nullptr, "id", layout, id_col, source, line_no);
                 }
                 const auto [it, inserted] = out.record_of_id.emplace(id, out.records.size());
                 if (!inserted) {
                   TANDEM_CHECK(from.repeated_ids, source << ":" << line_no << ": duplicate id "
                                                          << quote_field(f[id_col]));
                   return;  // the first record's values stand
                 }
                 std::vector<std::vector<std::string>> values(cols.size());
                 for (size_t k = 0; k < cols.size(); ++k) {
                   std::string_view field = f[cols[k]];
                   while (true) {
                     const size_t end = list == '\0' ? std::string_view::npos : field.find(list);
                     const std::string_view v = field.substr(0, end);
                     if (!v.empty()) values[k].emplace_back(v);
                     if (end == std::string_view::npos) break;
                     field.remove_prefix(end + 1);
                   }
                 }
                 out.records.push_back(std::move(values));
               });
  return out;
}

SideAttributes load_csv_attributes(const CsvRatingsSpec& spec, const CsvAttributeSource& from,
                                   const std::vector<std::string>& columns, const IdTable* ids) {
  const std::string text = data_detail::read_file(from.path, "side attributes");
  return parse_csv_attributes(text, from.path, csv_separator(spec, from.path, text), spec, from,
                              columns, ids);
}

}  // namespace tandem
