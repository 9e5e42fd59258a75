// Ratings handed over from Python (a pandas DataFrame's columns, or a dict
// of numpy arrays) as the library's Ratings and Catalogue.
#pragma once

#include <pybind11/pybind11.h>

#include "tandem/data/catalogue.h"
#include "tandem/data/ratings.h"

namespace tandem::python {

// `columns` maps "user", "item", "rating" and optionally "timestamp" and
// "weight" to equally long sequences: integer numpy arrays for ids (or
// sequences of str, interned in first-seen order), numbers for ratings and
// weights, integers for timestamps. `items` (may be None) maps "item" and
// "title": the catalogue (its string ids interned with the ratings'). Throws
// tandem::Error naming the column and row at fault.
struct GivenRatings {
  Ratings ratings;
  Catalogue items;
};
GivenRatings ratings_from_columns(const pybind11::dict& columns, const pybind11::object& items);

}  // namespace tandem::python
