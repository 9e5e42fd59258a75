#include "tandem/io/checksum.h"

#include <xxhash.h>

#include "tandem/core/error.h"

namespace tandem {

uint64_t xxh64(const void* data, size_t size, uint64_t seed) { return XXH64(data, size, seed); }

Xxh64Stream::Xxh64Stream(uint64_t seed) : state_(XXH64_createState()) {
  TANDEM_CHECK(state_ != nullptr, "out of memory for a hash state");
  XXH64_reset(static_cast<XXH64_state_t*>(state_), seed);
}
Xxh64Stream::~Xxh64Stream() { XXH64_freeState(static_cast<XXH64_state_t*>(state_)); }
void Xxh64Stream::update(const void* data, size_t size) {
  XXH64_update(static_cast<XXH64_state_t*>(state_), data, size);
}
uint64_t Xxh64Stream::digest() const { return XXH64_digest(static_cast<const XXH64_state_t*>(state_)); }

}  // namespace tandem
