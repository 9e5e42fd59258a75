#include "tandem/io/checksum.h"

#include <xxhash.h>

namespace tandem {

uint64_t xxh64(const void* data, size_t size, uint64_t seed) { return XXH64(data, size, seed); }

}  // namespace tandem
