#include "tandem/core/random.h"

namespace tandem {

uint64_t Rng::below(uint64_t n) {
  if (n <= 1) return 0;
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = next_u64();
  } while (x >= limit);
  return x % n;
}

uint64_t derive_seed(uint64_t master, uint64_t stream) {
  Rng r(master ^ (0xD1B54A32D192ED03ull * (stream + 1)));
  r.next_u64();
  return r.next_u64();
}

}  // namespace tandem
