#include "tandem/data/split.h"

#include <numeric>

#include "tandem/core/error.h"
#include "tandem/core/random.h"

namespace tandem {

SplitIndices random_split(size_t n, uint64_t seed, size_t train_count, size_t test_count) {
  TANDEM_CHECK(n <= UINT32_MAX, "cannot split " << n << " ratings: indices are 32-bit, so at most "
                                                << UINT32_MAX << " are supported");
  // Written without computing train_count + test_count, which could wrap.
  TANDEM_CHECK(train_count <= n && test_count <= n - train_count,
               "cannot take " << train_count << " train + " << test_count
                              << " test ratings from only " << n);
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), uint32_t{0});
  Rng rng(seed);
  shuffle(order, rng);
  SplitIndices out;
  out.train.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(train_count));
  out.test.assign(order.begin() + static_cast<std::ptrdiff_t>(train_count),
                  order.begin() + static_cast<std::ptrdiff_t>(train_count + test_count));
  return out;
}

}  // namespace tandem
