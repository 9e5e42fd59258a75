// u.data text (tab-separated user, item, rating, timestamp) into parse_ratings,
// the function load_ratings and --train/--test files go through.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "tandem/data/ratings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const tandem::RatingsFormat format;  // MovieLens stars, 1..5
  tandem::fuzz::accepts([&] {
    const tandem::Ratings r = tandem::parse_ratings(tandem::fuzz::as_text(data, size), "fuzz", format);
    // What the rest of the pipeline relies on after a successful load.
    FUZZ_REQUIRE(r.size() > 0);
    FUZZ_REQUIRE(r.items.size() == r.size() && r.ratings.size() == r.size() &&
                 r.timestamps.size() == r.size());
    for (size_t i = 0; i < r.size(); ++i) {
      FUZZ_REQUIRE(r.users[i] >= 0 && r.items[i] >= 0 && r.timestamps[i] >= 0);
      FUZZ_REQUIRE(r.ratings[i] >= format.min_rating && r.ratings[i] <= format.max_rating);
    }
  });
  return 0;
}
