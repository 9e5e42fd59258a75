// Side information about users and items as the MovieLens files give it,
// before any vocabulary: per raw id, per attribute, a bag of string values
// (one value for age, gender, ...; several for genres; none when unknown).
//
//  - MovieLens-100K u.user:  id|age|gender|occupation|zip
//  - MovieLens-100K u.item:  id|title|release date|video date|url|19 genre flags
//  - MovieLens-1M users.dat: id::gender::age::occupation::zip
//  - MovieLens-1M movies.dat: id::title (year)::Genre1|Genre2
// Attribute names: users "age", "gender", "occupation", "zip"; items
// "genres", "year".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tandem {

struct SideAttributes {
  std::vector<std::string> names;  // attribute names, in column order
  // Per record, per attribute, its values.
  std::vector<std::vector<std::vector<std::string>>> records;
  std::unordered_map<int64_t, size_t> record_of_id;

  // Index of an attribute by name, -1 if absent.
  int attribute(std::string_view name) const;
  // The values of `attribute` for raw id `id`, or nullptr when the id has no
  // record.
  const std::vector<std::string>* values(int64_t id, int attribute) const;
};

// Parsers; errors name `source` and the 1-based line (wrong field count,
// non-numeric id or age, duplicate id, a genre flag other than 0/1, an empty
// file).
SideAttributes parse_movielens_100k_users(std::string_view text, const std::string& source);
SideAttributes parse_movielens_100k_item_features(std::string_view text, const std::string& source);
SideAttributes parse_movielens_1m_users(std::string_view text, const std::string& source);
SideAttributes parse_movielens_1m_item_features(std::string_view text, const std::string& source);

// Reads and parses a file as above (`movielens_1m`: the .dat layouts); a
// missing file is an error naming it.
SideAttributes load_user_attributes(const std::string& path, bool movielens_1m);
SideAttributes load_item_attributes(const std::string& path, bool movielens_1m);

// An age as the MovieLens user files hold it: a non-empty run of digits. The
// parsers refuse any other; serving checks a cold-start user's age by it.
bool is_movielens_age(std::string_view age);

// The release year of a MovieLens-100K date "01-Jan-1995" (empty: none), or
// of a title ending in "(1995)"; -1 when there is none.
int year_of_date(std::string_view date);
int year_of_title(std::string_view title);

}  // namespace tandem
