// XXH64, the hash behind the model file's checksum, for callers that need a
// stable content fingerprint (a checkpoint records one of its training data).
// Chaining calls through `seed` hashes several buffers as one value.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem {

uint64_t xxh64(const void* data, size_t size, uint64_t seed = 0);

// XXH64 of a stream of buffers: the same value as xxh64() over their
// concatenation, whatever the buffers' boundaries (files hashed as written,
// in chunks).
class Xxh64Stream {
 public:
  explicit Xxh64Stream(uint64_t seed = 0);
  ~Xxh64Stream();
  Xxh64Stream(const Xxh64Stream&) = delete;
  Xxh64Stream& operator=(const Xxh64Stream&) = delete;
  void update(const void* data, size_t size);
  uint64_t digest() const;

 private:
  void* state_;
};

}  // namespace tandem
