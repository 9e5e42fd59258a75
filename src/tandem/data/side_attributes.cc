#include "tandem/data/side_attributes.h"

#include <charconv>

#include "tandem/core/error.h"
#include "tandem/data/text_file.h"

namespace tandem {

namespace {

// MovieLens-100K u.genre, in the order of u.item's flag columns.
const char* const kGenres100K[19] = {"unknown", "Action", "Adventure", "Animation", "Children's",
                                     "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
                                     "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
                                     "Sci-Fi", "Thriller", "War", "Western"};

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

void add_record(SideAttributes& out, int64_t id, std::vector<std::vector<std::string>> values,
                const std::string& source, size_t line_no) {
  const auto [it, inserted] = out.record_of_id.emplace(id, out.records.size());
  TANDEM_CHECK(inserted, source << ":" << line_no << ": duplicate id " << id);
  out.records.push_back(std::move(values));
}

std::vector<std::string> one(std::string_view v) { return {std::string(v)}; }

// Users: id, then age, gender, occupation, zip in the given field positions.
SideAttributes parse_users(std::string_view text, const std::string& source, std::string_view sep,
                           int age_field, int gender_field, int occupation_field) {
  SideAttributes out;
  out.names = {"age", "gender", "occupation", "zip"};
  data_detail::for_each_line(text, source, [&](std::string_view line, size_t line_no) {
    std::string_view f[5];
    const size_t n = data_detail::split_fields(line, sep, f, 5);
    TANDEM_CHECK(n == 5, source << ":" << line_no << ": expected 5 '" << sep
                                << "'-separated fields (user id, age, gender, occupation, zip), found "
                                << n);
    const int64_t id = data_detail::parse_id(f[0], 1, "user id", source, line_no);
    TANDEM_CHECK(is_movielens_age(f[age_field]), source << ":" << line_no << ": age "
                                                  << quote_field(f[age_field])
                                                  << " is not a non-negative integer");
    TANDEM_CHECK(!f[gender_field].empty(), source << ":" << line_no << ": empty gender");
    add_record(out, id,
               {one(f[age_field]), one(f[gender_field]), one(f[occupation_field]), one(f[4])},
               source, line_no);
  });
  TANDEM_CHECK(!out.records.empty(), source << ": no users found (the file is empty or blank)");
  return out;
}

std::vector<std::string> year_bag(int year) {
  if (year < 0) return {};
  return {std::to_string(year)};
}

}  // namespace

int SideAttributes::attribute(std::string_view name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  return -1;
}

const std::vector<std::string>* SideAttributes::values(int64_t id, int attr) const {
  const auto it = record_of_id.find(id);
  if (it == record_of_id.end() || attr < 0) return nullptr;
  return &records[it->second][static_cast<size_t>(attr)];
}

int year_of_date(std::string_view date) {
  if (date.size() < 4) return -1;
  const std::string_view y = date.substr(date.size() - 4);
  if (!all_digits(y)) return -1;
  int v = 0;
  std::from_chars(y.data(), y.data() + 4, v);
  return v;
}

int year_of_title(std::string_view title) {
  while (!title.empty() && title.back() == ' ') title.remove_suffix(1);
  if (title.size() < 6 || title.back() != ')' || title[title.size() - 6] != '(') return -1;
  return year_of_date(title.substr(title.size() - 5, 4));
}

SideAttributes parse_movielens_100k_users(std::string_view text, const std::string& source) {
  return parse_users(text, source, "|", 1, 2, 3);
}

SideAttributes parse_movielens_1m_users(std::string_view text, const std::string& source) {
  // users.dat: UserID::Gender::Age::Occupation::Zip-code (age already a bucket
  // start: 1, 18, 25, ...; occupation a code 0..20).
  return parse_users(text, source, "::", 2, 1, 3);
}

SideAttributes parse_movielens_100k_item_features(std::string_view text, const std::string& source) {
  SideAttributes out;
  out.names = {"genres", "year"};
  data_detail::for_each_line(text, source, [&](std::string_view line, size_t line_no) {
    std::string_view f[24];
    const size_t n = data_detail::split_fields(line, '|', f, 24);
    TANDEM_CHECK(n == 24, source << ":" << line_no
                                 << ": expected 24 '|'-separated fields (id, title, release date, "
                                    "video date, url, 19 genre flags), found "
                                 << n);
    const int64_t id = data_detail::parse_id(f[0], 1, "item id", source, line_no);
    std::vector<std::string> genres;
    for (int g = 0; g < 19; ++g) {
      const std::string_view flag = f[5 + g];
      TANDEM_CHECK(flag == "0" || flag == "1", source << ":" << line_no << ": genre flag "
                                                      << (g + 1) << " (field " << (6 + g)
                                                      << ") is " << quote_field(flag)
                                                      << ", expected 0 or 1");
      if (flag == "1") genres.emplace_back(kGenres100K[g]);
    }
    add_record(out, id, {std::move(genres), year_bag(year_of_date(f[2]))}, source, line_no);
  });
  TANDEM_CHECK(!out.records.empty(), source << ": no items found (the file is empty or blank)");
  return out;
}

SideAttributes parse_movielens_1m_item_features(std::string_view text, const std::string& source) {
  SideAttributes out;
  out.names = {"genres", "year"};
  data_detail::for_each_line(text, source, [&](std::string_view line, size_t line_no) {
    std::string_view f[3];
    const size_t n = data_detail::split_fields(line, "::", f, 3);
    TANDEM_CHECK(n == 3, source << ":" << line_no
                                << ": expected 3 '::'-separated fields (id, title, genres), found "
                                << n);
    const int64_t id = data_detail::parse_id(f[0], 1, "item id", source, line_no);
    std::vector<std::string> genres;
    std::string_view rest = f[2];
    while (!rest.empty()) {
      const size_t bar = rest.find('|');
      const std::string_view g = rest.substr(0, bar);
      if (!g.empty() && g != "(no genres listed)") genres.emplace_back(g);
      if (bar == std::string_view::npos) break;
      rest.remove_prefix(bar + 1);
    }
    add_record(out, id, {std::move(genres), year_bag(year_of_title(f[1]))}, source, line_no);
  });
  TANDEM_CHECK(!out.records.empty(), source << ": no items found (the file is empty or blank)");
  return out;
}

SideAttributes load_user_attributes(const std::string& path, bool movielens_1m) {
  const std::string text = data_detail::read_file(path, "user");
  return movielens_1m ? parse_movielens_1m_users(text, path) : parse_movielens_100k_users(text, path);
}

SideAttributes load_item_attributes(const std::string& path, bool movielens_1m) {
  const std::string text = data_detail::read_file(path, "item");
  return movielens_1m ? parse_movielens_1m_item_features(text, path)
                      : parse_movielens_100k_item_features(text, path);
}

bool is_movielens_age(std::string_view age) { return all_digits(age); }

}  // namespace tandem
