// The saved HNSW index file (`tandem index build`, `serve --index-file`):
// Tandem's own header in front of hnswlib's saveIndex bytes (the payload).
//
//   offset  bytes  field
//        0      8  magic "TNDMHNSW"
//        8      4  format version (kHnswFileVersion)
//       12      4  header size in bytes (kHnswHeaderBytes)
//       16      8  catalogue fingerprint: XXH64 of (items, dim, the vectors' bytes)
//       24      8  catalogue items (= the graph's element count)
//       32      8  vector dimension
//       40      8  HNSW M
//       48      8  HNSW ef_construction
//       56      8  HNSW level seed
//       64      8  payload size in bytes
//       72      8  payload checksum: XXH64 of the payload
//       80      8  header checksum: XXH64 of bytes 0..79
//       88      -  payload: hnswlib 0.6.2 saveIndex output
//
// Integers are in the machine's byte order (as in the model file). hnswlib's
// loadIndex trusts its input (sizes it reads become allocations and offsets),
// so every field of the payload it will read is checked here first, against
// what the header's element count, dimension and M imply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tandem {

inline constexpr uint32_t kHnswFileVersion = 1;
inline constexpr size_t kHnswHeaderBytes = 88;
inline constexpr char kHnswFileMagic[9] = "TNDMHNSW";

// What a graph depends on besides its parameters: the vectors it was built
// over. A model retrained (another seed, more epochs) or another model gets
// another hash.
struct CatalogueFingerprint {
  uint64_t hash = 0;
  int64_t items = 0;
  int64_t dim = 0;
  bool operator==(const CatalogueFingerprint&) const = default;
};

// matrix: [n, dim] row-major.
CatalogueFingerprint catalogue_fingerprint(const float* matrix, int64_t n, int64_t dim);

struct HnswFileHeader {
  uint32_t version = kHnswFileVersion;
  CatalogueFingerprint catalogue;
  int64_t M = 0;
  int64_t ef_construction = 0;
  uint64_t seed = 0;
  uint64_t payload_bytes = 0;
  uint64_t payload_checksum = 0;
};

// The header's kHnswHeaderBytes bytes (magic and header checksum included).
std::string encode_hnsw_header(const HnswFileHeader& header);

// Reads the header from the first bytes of a file of `file_size` bytes
// (`size` of them given); refuses, naming `path`: a file without the magic
// (not an index file), another format version, a file shorter than the
// header, a header whose checksum or fields are wrong.
HnswFileHeader decode_hnsw_header(const char* bytes, size_t size, const std::string& path);

// Checks the payload before hnswlib reads it: its size against the header's,
// its checksum, then the structure hnswlib's loadIndex walks (its own header
// against the element count, dimension and M; every link list's size and
// every neighbour id; every label in [0, items)). Errors name `path`.
void check_hnsw_payload(const HnswFileHeader& header, const char* payload, size_t size,
                        const std::string& path);

}  // namespace tandem
