#include "ratings_arrays.h"

#include <pybind11/numpy.h>

#include <cmath>
#include <tuple>
#include <unordered_map>
#include <memory>
#include <string>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/data/id_table.h"

namespace tandem::python {

namespace py = pybind11;

namespace {

bool is_integer_array(const py::handle& h) {
  if (!py::isinstance<py::array>(h)) return false;
  const char kind = py::reinterpret_borrow<py::array>(h).dtype().kind();
  return kind == 'i' || kind == 'u';
}

// An id column: integers as they are (non-negative), strings interned.
// Returns whether the column held strings.
bool read_ids(const py::handle& column, const char* name, IdTable& names, std::vector<int64_t>& out) {
  if (is_integer_array(column)) {
    const auto a = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(column);
    TANDEM_CHECK(a && a.ndim() == 1, "ratings column " << name << " must be one-dimensional");
    out.assign(a.data(), a.data() + a.size());
    for (size_t i = 0; i < out.size(); ++i)
      TANDEM_CHECK(out[i] >= 0, "ratings column " << name << ", row " << i << ": id " << out[i]
                                                  << " is negative (integer ids must be >= 0)");
    return false;
  }
  const py::sequence seq = py::reinterpret_borrow<py::sequence>(column);
  out.resize(py::len(seq));
  for (size_t i = 0; i < out.size(); ++i) {
    const py::handle v = seq[i];
    if (py::isinstance<py::str>(v)) {
      out[i] = names.intern(v.cast<std::string>());
    } else if (py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v)) {
      // A column of Python ints (object dtype) reads like an integer array.
      TANDEM_CHECK(names.size() == 0, "ratings column " << name << ", row " << i
                                                        << ": mixes strings and integers");
      return read_ids(py::array_t<int64_t, py::array::forcecast>::ensure(column), name, names, out);
    } else {
      TANDEM_THROW("ratings column " << name << ", row " << i << ": an id must be an integer or a string, got "
                                     << py::str(v.get_type().attr("__name__")).cast<std::string>());
    }
  }
  return true;
}

template <typename T>
std::vector<T> read_numbers(const py::handle& column, const char* name) {
  const auto a = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(column);
  TANDEM_CHECK(a, "ratings column " << name << " must hold numbers");
  TANDEM_CHECK(a.ndim() == 1, "ratings column " << name << " must be one-dimensional");
  return std::vector<T>(a.data(), a.data() + a.size());
}

std::shared_ptr<const std::vector<std::string>> names_of(const IdTable& t) {
  return std::make_shared<const std::vector<std::string>>(t.names());
}

}  // namespace

GivenRatings ratings_from_columns(const py::dict& columns, const py::object& items) {
  for (const char* need : {"user", "item", "rating"})
    TANDEM_CHECK(columns.contains(need), "ratings need a " << need << " column");
  GivenRatings out;
  Ratings& r = out.ratings;
  IdTable users, item_names;
  bool user_strings = read_ids(columns["user"], "user", users, r.users);
  bool item_strings = read_ids(columns["item"], "item", item_names, r.items);
  // String ids on one side make both sides strings (as a csv file with
  // vocabulary ids reads them): integers become their decimal text.
  if (user_strings != item_strings) {
    auto [table, ids] = user_strings ? std::tie(item_names, r.items) : std::tie(users, r.users);
    for (int64_t& id : ids) id = table.intern(std::to_string(id));
    user_strings = item_strings = true;
  }
  r.ratings = read_numbers<float>(columns["rating"], "rating");
  const size_t n = r.users.size();
  TANDEM_CHECK(n > 0, "ratings hold no rows");
  const auto check_length = [n](size_t got, const char* name) {
    TANDEM_CHECK(got == n, "ratings column " << name << " has " << got << " rows, the user column " << n);
  };
  check_length(r.items.size(), "item");
  check_length(r.ratings.size(), "rating");
  for (size_t i = 0; i < n; ++i)
    TANDEM_CHECK(std::isfinite(r.ratings[i]), "ratings column rating, row " << i << ": " << r.ratings[i]
                                                                              << " is not a finite number");
  if (columns.contains("timestamp") && !columns["timestamp"].is_none()) {
    r.timestamps = read_numbers<int64_t>(columns["timestamp"], "timestamp");
    check_length(r.timestamps.size(), "timestamp");
  }
  if (columns.contains("weight") && !columns["weight"].is_none()) {
    r.weights = read_numbers<float>(columns["weight"], "weight");
    check_length(r.weights.size(), "weight");
    for (size_t i = 0; i < n; ++i)
      TANDEM_CHECK(std::isfinite(r.weights[i]) && r.weights[i] >= 0.0f,
                   "ratings column weight, row " << i << ": " << r.weights[i] << " is not a finite weight >= 0");
  }
  if (!items.is_none()) {
    const py::dict d = items.cast<py::dict>();
    TANDEM_CHECK(d.contains("item") && d.contains("title"), "items need an item and a title column");
    IdTable scratch;
    std::vector<int64_t> ids;
    // Item strings share the ratings' table, so that a name means one id.
    const bool strings = read_ids(d["item"], "items.item", item_strings ? item_names : scratch, ids);
    TANDEM_CHECK(!strings || item_strings,
                 "items' item column holds strings but the ratings' item ids are integers");
    if (item_strings && !strings)
      for (int64_t& id : ids) id = item_names.intern(std::to_string(id));
    const py::sequence titles = d["title"].cast<py::sequence>();
    TANDEM_CHECK(py::len(titles) == ids.size(), "items' title column has " << py::len(titles)
                                                 << " rows, its item column " << ids.size());
    std::unordered_map<int64_t, size_t> seen;
    for (size_t i = 0; i < ids.size(); ++i) {
      TANDEM_CHECK(seen.emplace(ids[i], i).second, "items, row " << i << ": item id appears twice (rows "
                                                                  << seen[ids[i]] << " and " << i << ")");
      out.items.item_ids.push_back(ids[i]);
      out.items.titles.push_back(py::str(titles[i]).cast<std::string>());
    }
  }
  if (user_strings) r.user_names = names_of(users);
  if (item_strings) r.item_names = names_of(item_names);
  return out;
}

}  // namespace tandem::python
