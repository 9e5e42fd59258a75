#include "tandem/index/hnsw_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/io/checksum.h"

namespace tandem {

namespace {

constexpr size_t kHashedHeaderBytes = 80;  // everything before the header checksum

template <typename T>
void put(std::string& out, size_t offset, T value) {
  std::memcpy(out.data() + offset, &value, sizeof value);
}

template <typename T>
T get(const char* bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes + offset, sizeof value);
  return value;
}

// hnswlib 0.6.2's own header, as saveIndex writes it (size_t fields are 8
// bytes on the platforms Tandem builds for; checked below).
struct GraphHeader {
  uint64_t offset_level0, max_elements, element_count, size_data_per_element, label_offset,
      offset_data;
  int32_t max_level;
  uint32_t enter_point;
  uint64_t max_m, max_m0, m;
  double mult;
  uint64_t ef_construction;
};
constexpr size_t kGraphHeaderBytes = 6 * 8 + 4 + 4 + 3 * 8 + 8 + 8;
static_assert(sizeof(size_t) == 8, "hnswlib's saved sizes are read as 8-byte size_t");

}  // namespace

CatalogueFingerprint catalogue_fingerprint(const float* matrix, int64_t n, int64_t dim) {
  TANDEM_CHECK(n >= 0 && dim > 0 && (n == 0 || matrix != nullptr),
               "catalogue fingerprint: bad matrix shape " << n << " x " << dim);
  const int64_t shape[2] = {n, dim};
  uint64_t h = xxh64(shape, sizeof shape);
  h = xxh64(matrix, static_cast<size_t>(n * dim) * sizeof(float), h);
  return {h, n, dim};
}

std::string encode_hnsw_header(const HnswFileHeader& header) {
  std::string out(kHnswHeaderBytes, '\0');
  std::memcpy(out.data(), kHnswFileMagic, 8);
  put<uint32_t>(out, 8, header.version);
  put<uint32_t>(out, 12, static_cast<uint32_t>(kHnswHeaderBytes));
  put<uint64_t>(out, 16, header.catalogue.hash);
  put<int64_t>(out, 24, header.catalogue.items);
  put<int64_t>(out, 32, header.catalogue.dim);
  put<int64_t>(out, 40, header.M);
  put<int64_t>(out, 48, header.ef_construction);
  put<uint64_t>(out, 56, header.seed);
  put<uint64_t>(out, 64, header.payload_bytes);
  put<uint64_t>(out, 72, header.payload_checksum);
  put<uint64_t>(out, 80, xxh64(out.data(), kHashedHeaderBytes));
  return out;
}

HnswFileHeader decode_hnsw_header(const char* bytes, size_t size, const std::string& path) {
  const std::string what = path + ": ";
  TANDEM_CHECK(size >= 8 && std::memcmp(bytes, kHnswFileMagic, 8) == 0,
               what << "not a Tandem HNSW index file (it does not start with '" << kHnswFileMagic
                    << "'; write one with `tandem index build`)");
  TANDEM_CHECK(size >= 12, what << "truncated: " << size << " bytes, the index header alone is "
                                << kHnswHeaderBytes);
  HnswFileHeader h;
  h.version = get<uint32_t>(bytes, 8);
  TANDEM_CHECK(h.version == kHnswFileVersion,
               what << "HNSW index format version " << h.version << ", this build reads version "
                    << kHnswFileVersion << "; rebuild it with `tandem index build`");
  TANDEM_CHECK(size >= kHnswHeaderBytes, what << "truncated: " << size
                                              << " bytes, the index header alone is "
                                              << kHnswHeaderBytes);
  TANDEM_CHECK(get<uint64_t>(bytes, 80) == xxh64(bytes, kHashedHeaderBytes),
               what << "corrupt index file: the header's checksum does not match its bytes");
  TANDEM_CHECK(get<uint32_t>(bytes, 12) == kHnswHeaderBytes,
               what << "corrupt index file: header size " << get<uint32_t>(bytes, 12)
                    << ", version " << kHnswFileVersion << " has " << kHnswHeaderBytes);
  h.catalogue = {get<uint64_t>(bytes, 16), get<int64_t>(bytes, 24), get<int64_t>(bytes, 32)};
  h.M = get<int64_t>(bytes, 40);
  h.ef_construction = get<int64_t>(bytes, 48);
  h.seed = get<uint64_t>(bytes, 56);
  h.payload_bytes = get<uint64_t>(bytes, 64);
  h.payload_checksum = get<uint64_t>(bytes, 72);
  TANDEM_CHECK(h.catalogue.items >= 1 && h.catalogue.items < int64_t{UINT32_MAX} &&
                   h.catalogue.dim >= 1 && h.catalogue.dim <= (int64_t{1} << 20) && h.M >= 2 &&
                   h.M <= 10000 && h.ef_construction >= 1,
               what << "corrupt index file: impossible header values (items " << h.catalogue.items
                    << ", dim " << h.catalogue.dim << ", M " << h.M << ", ef_construction "
                    << h.ef_construction << ")");
  return h;
}

void check_hnsw_payload(const HnswFileHeader& header, const char* payload, size_t size,
                        const std::string& path) {
  const std::string what = path + ": ";
  TANDEM_CHECK(size == header.payload_bytes,
               what << (size < header.payload_bytes ? "truncated" : "corrupt")
                    << " index file: the graph is " << size << " bytes, the header says "
                    << header.payload_bytes);
  TANDEM_CHECK(xxh64(payload, size) == header.payload_checksum,
               what << "corrupt index file: the graph's checksum does not match its bytes");

  // hnswlib's header against what the element count, dim and M imply.
  TANDEM_CHECK(size >= kGraphHeaderBytes,
               what << "corrupt index file: the graph is " << size << " bytes, under hnswlib's "
                    << kGraphHeaderBytes << "-byte header");
  GraphHeader g;
  size_t at = 0;
  auto read = [&](auto& field) {
    std::memcpy(&field, payload + at, sizeof field);
    at += sizeof field;
  };
  read(g.offset_level0), read(g.max_elements), read(g.element_count);
  read(g.size_data_per_element), read(g.label_offset), read(g.offset_data);
  read(g.max_level), read(g.enter_point);
  read(g.max_m), read(g.max_m0), read(g.m), read(g.mult), read(g.ef_construction);
  const auto n = static_cast<uint64_t>(header.catalogue.items);
  const auto M = static_cast<uint64_t>(header.M);
  const uint64_t links0_bytes = 2 * M * 4 + 4, links_bytes = M * 4 + 4;
  const uint64_t vector_bytes = static_cast<uint64_t>(header.catalogue.dim) * sizeof(float);
  auto expect = [&](const char* field, uint64_t got, uint64_t want) {
    TANDEM_CHECK(got == want, what << "corrupt index file: hnswlib's " << field << " is " << got
                                   << ", " << want << " expected for " << n << " items x "
                                   << header.catalogue.dim << " with M = " << M);
  };
  expect("offsetLevel0", g.offset_level0, 0);
  expect("max_elements", g.max_elements, n);
  expect("element count", g.element_count, n);
  expect("size_data_per_element", g.size_data_per_element, links0_bytes + vector_bytes + 8);
  expect("label_offset", g.label_offset, links0_bytes + vector_bytes);
  expect("offsetData", g.offset_data, links0_bytes);
  expect("maxM", g.max_m, M);
  expect("maxM0", g.max_m0, 2 * M);
  expect("M", g.m, M);
  expect("ef_construction",  g.ef_construction,
         std::max(static_cast<uint64_t>(header.ef_construction), M));
  TANDEM_CHECK(g.mult == 1 / std::log(1.0 * static_cast<double>(M)),
               what << "corrupt index file: hnswlib's level multiplier is " << g.mult);
  TANDEM_CHECK(g.max_level >= 0 && g.max_level < 64 && g.enter_point < n,
               what << "corrupt index file: top level " << g.max_level << ", entry point "
                    << g.enter_point << " of " << n << " items");

  // The bottom layer: n records of [count, 2M neighbour ids, vector, label].
  const uint64_t level0_bytes = g.size_data_per_element * n;
  TANDEM_CHECK(size - at >= level0_bytes,
               what << "truncated index file: " << size - at << " bytes after hnswlib's header, "
                    << "the bottom layer of " << n << " items alone takes " << level0_bytes);
  auto check_links = [&](const char* links, uint64_t max_count, uint64_t element, int level) {
    const auto count = get<uint32_t>(links, 0);  // a set delete mark makes it large
    TANDEM_CHECK(count <= max_count, what << "corrupt index file: item " << element << " has "
                                          << count << " links on level " << level << ", at most "
                                          << max_count);
    for (uint32_t j = 0; j < count; ++j) {
      const auto id = get<uint32_t>(links, 4 + 4 * static_cast<size_t>(j));
      TANDEM_CHECK(id < n, what << "corrupt index file: item " << element << " links to item "
                                << id << " on level " << level << " of " << n);
    }
  };
  std::vector<bool> labelled(n, false);
  const char* level0 = payload + at;
  for (uint64_t i = 0; i < n; ++i) {
    const char* record = level0 + i * g.size_data_per_element;
    check_links(record, 2 * M, i, 0);
    const auto label = get<uint64_t>(record, g.label_offset);
    TANDEM_CHECK(label < n && !labelled[label],
                 what << "corrupt index file: item " << i << " has label " << label
                      << (label < n ? " (a repeat)" : "") << "; labels are the items 0.." << n - 1);
    labelled[label] = true;
  }
  at += level0_bytes;

  // The upper layers: per item, a byte count (a whole number of levels, at
  // most the top level) and that many bytes of link lists. Levels first: a
  // link on level l must point at an item that has level l (hnswlib reads
  // that item's list there without checking).
  std::vector<uint8_t> levels(n);
  std::vector<uint64_t> starts(n);
  for (uint64_t i = 0; i < n; ++i) {
    TANDEM_CHECK(size - at >= 4, what << "truncated index file: it ends in item " << i
                                      << "'s upper layers, of " << n << " items");
    const auto bytes = get<uint32_t>(payload, at);
    at += 4;
    const uint64_t item_levels = bytes / links_bytes;
    TANDEM_CHECK(bytes % links_bytes == 0 && item_levels <= static_cast<uint64_t>(g.max_level),
                 what << "corrupt index file: item " << i << " has " << bytes
                      << " bytes of upper layers, not a whole number of levels up to "
                      << g.max_level);
    TANDEM_CHECK(size - at >= bytes, what << "truncated index file: it ends in item " << i
                                          << "'s upper layers, of " << n << " items");
    levels[i] = static_cast<uint8_t>(item_levels);
    starts[i] = at;
    at += bytes;
  }
  TANDEM_CHECK(at == size, what << "corrupt index file: " << size - at
                                << " bytes after the graph's last item");
  TANDEM_CHECK(levels[g.enter_point] == static_cast<uint64_t>(g.max_level),
               what << "corrupt index file: the entry point has " << int{levels[g.enter_point]}
                    << " upper levels, the graph's top level is " << g.max_level);
  for (uint64_t i = 0; i < n; ++i) {
    for (int l = 1; l <= levels[i]; ++l) {
      const char* links = payload + starts[i] + static_cast<uint64_t>(l - 1) * links_bytes;
      check_links(links, M, i, l);
      const auto count = get<uint32_t>(links, 0);
      for (uint32_t j = 0; j < count; ++j) {
        const auto id = get<uint32_t>(links, 4 + 4 * static_cast<size_t>(j));
        TANDEM_CHECK(levels[id] >= l, what << "corrupt index file: item " << i << " links to item "
                                           << id << " on level " << l << ", which it lacks");
      }
    }
  }
}

}  // namespace tandem
