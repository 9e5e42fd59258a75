// XXH64, the hash behind the model file's checksum, for callers that need a
// stable content fingerprint (a checkpoint records one of its training data).
// Chaining calls through `seed` hashes several buffers as one value.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem {

uint64_t xxh64(const void* data, size_t size, uint64_t seed = 0);

}  // namespace tandem
