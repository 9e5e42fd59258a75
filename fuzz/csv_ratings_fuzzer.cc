// Generic delimited ratings (the csv data format) into parse_csv_ratings and
// parse_csv_items. The first byte picks the spec: header or not, integer or
// string ids, which optional columns are mapped, by name or by index.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "tandem/data/csv_ratings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view text = tandem::fuzz::as_text(data + 1, size - 1);
  tandem::CsvRatingsSpec spec;
  spec.header = (mode & 1) != 0;
  const bool strings = (mode & 2) != 0;
  if (spec.header && (mode & 4)) {
    spec.user = tandem::ColumnRef::named("user");
    spec.item = tandem::ColumnRef::named("item");
  }
  if (mode & 8) spec.rating = tandem::ColumnRef::at(2);
  if (mode & 16) spec.timestamp = tandem::ColumnRef::at(3);
  if (mode & 32) spec.weight = tandem::ColumnRef::at(4);
  const char sep = (mode & 64) ? '\t' : ',';
  tandem::fuzz::accepts([&] {
    tandem::IdTable users, items;
    const tandem::Ratings r = tandem::parse_csv_ratings(text, "fuzz", sep, spec, strings ? &users : nullptr,
                                                        strings ? &items : nullptr);
    FUZZ_REQUIRE(r.size() > 0);
    FUZZ_REQUIRE(r.items.size() == r.size() && r.ratings.size() == r.size());
    FUZZ_REQUIRE(r.timestamps.size() == (spec.timestamp.mapped() ? r.size() : 0));
    FUZZ_REQUIRE(r.weights.size() == (spec.weight.mapped() ? r.size() : 0));
    for (size_t i = 0; i < r.size(); ++i) {
      FUZZ_REQUIRE(r.users[i] >= 0 && r.items[i] >= 0 && std::isfinite(r.ratings[i]));
      if (strings)
        FUZZ_REQUIRE(static_cast<size_t>(r.users[i]) < users.size() &&
                     static_cast<size_t>(r.items[i]) < items.size());
      if (!r.weights.empty()) FUZZ_REQUIRE(std::isfinite(r.weights[i]) && r.weights[i] >= 0);
    }
  });
  tandem::fuzz::accepts([&] {
    tandem::IdTable items;
    const tandem::Catalogue c = tandem::parse_csv_items(text, "fuzz", sep, spec, strings ? &items : nullptr);
    FUZZ_REQUIRE(c.item_ids.size() == c.titles.size() && c.size() > 0);
  });
  return 0;
}
