// A saved HNSW graph: loading it gives exactly the searches of the graph that
// was saved, and every kind of bad file is refused with a message that names
// the file and the reason, before hnswlib reads any of it.
#include "tandem/index/hnsw_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "support/special_files.h"
#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/index/item_index.h"
#include "tandem/io/checksum.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

std::vector<float> random_matrix(int64_t rows, int64_t dim, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> m(static_cast<size_t>(rows * dim));
  for (auto& v : m) v = rng.uniform(-1.0f, 1.0f);
  return m;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// One catalogue, its graph, and that graph saved once for all the tests.
struct Saved {
  static constexpr int64_t kItems = 3000, kDim = 16;
  fs::path dir = fs::temp_directory_path() / ("tandem_hnsw_file_" + std::to_string(getpid()));
  std::vector<float> items = random_matrix(kItems, kDim, 11);
  HnswParams params{8, 40, 100, 5};
  HnswIndex built{items.data(), kItems, kDim, params};
  fs::path file = dir / "graph.idx";
  std::string bytes;
  Saved() {
    fs::create_directories(dir);
    built.save(file.string());
    bytes = read_bytes(file);
  }
  ~Saved() { fs::remove_all(dir); }
};

const Saved& saved() {
  static const Saved s;
  return s;
}

// The message of the error that loading `bytes` (written to a file) gives.
std::string load_error(const std::string& bytes, const std::vector<float>& items,
                       const std::string& name) {
  const auto& s = saved();
  const fs::path p = s.dir / name;
  write_bytes(p, bytes);
  try {
    HnswIndex::load(p.string(), items.data(), static_cast<int64_t>(items.size()) / Saved::kDim,
                    Saved::kDim, 50);
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(p.string()), std::string::npos) << "the error names the file: " << what;
    return what;
  }
  ADD_FAILURE() << name << " was loaded";
  return "";
}

// The saved file with its payload edited and both checksums recomputed: a
// file that is consistent on the surface but whose graph is wrong, so only
// the structural checks can catch it.
std::string with_payload(const std::string& payload) {
  const auto& s = saved();
  HnswFileHeader h = decode_hnsw_header(s.bytes.data(), s.bytes.size(), "saved");
  h.payload_bytes = payload.size();
  h.payload_checksum = xxh64(payload.data(), payload.size());
  return encode_hnsw_header(h) + payload;
}

TEST(HnswFile, LoadedGraphSearchesExactlyAsTheBuiltOne) {
  const auto& s = saved();
  const auto loaded = HnswIndex::load(s.file.string(), s.items.data(), Saved::kItems, Saved::kDim,
                                      s.params.ef_search);
  EXPECT_EQ(loaded->size(), Saved::kItems);
  EXPECT_EQ(loaded->dim(), Saved::kDim);
  EXPECT_EQ(loaded->params().M, 8);
  EXPECT_EQ(loaded->params().ef_construction, 40);
  EXPECT_EQ(loaded->params().seed, 5u);
  const auto queries = random_matrix(200, Saved::kDim, 12);
  const std::vector<int64_t> excluded{3, 17, 250, 2999};
  for (int64_t q = 0; q < 200; ++q) {
    const float* query = queries.data() + q * Saved::kDim;
    for (const int64_t k : {1, 10, 60}) {
      const auto a = s.built.search(query, k), b = loaded->search(query, k);
      const auto ae = s.built.search(query, k, &excluded), be = loaded->search(query, k, &excluded);
      const auto a4 = s.built.search_with_ef(query, k, 4), b4 = loaded->search_with_ef(query, k, 4);
      ASSERT_EQ(a.size(), static_cast<size_t>(k));
      for (const auto& [x, y] : {std::pair{&a, &b}, std::pair{&ae, &be}, std::pair{&a4, &b4}}) {
        ASSERT_EQ(x->size(), y->size());
        for (size_t i = 0; i < x->size(); ++i) {
          EXPECT_EQ((*x)[i].index, (*y)[i].index) << "query " << q << " k " << k;
          EXPECT_EQ((*x)[i].score, (*y)[i].score);
        }
      }
    }
  }
  // Saving the loaded graph gives the same bytes: nothing is lost on the way.
  const fs::path again = s.dir / "again.idx";
  loaded->save(again.string());
  EXPECT_EQ(read_bytes(again), s.bytes);
}

TEST(HnswFile, HeaderRecordsTheCatalogueAndParameters) {
  const auto& s = saved();
  const HnswFileHeader h = decode_hnsw_header(s.bytes.data(), s.bytes.size(), "f");
  EXPECT_EQ(h.version, kHnswFileVersion);
  EXPECT_EQ(h.catalogue, catalogue_fingerprint(s.items.data(), Saved::kItems, Saved::kDim));
  EXPECT_EQ(h.catalogue.items, Saved::kItems);
  EXPECT_EQ(h.catalogue.dim, Saved::kDim);
  EXPECT_EQ(h.M, 8);
  EXPECT_EQ(h.ef_construction, 40);
  EXPECT_EQ(h.seed, 5u);
  EXPECT_EQ(h.payload_bytes, s.bytes.size() - kHnswHeaderBytes);
  EXPECT_EQ(std::string(s.bytes.data(), 8), "TNDMHNSW");
  // The bottom layer alone: per item 2M links + count, the vector, the label.
  EXPECT_GT(h.payload_bytes, static_cast<uint64_t>(Saved::kItems * ((2 * 8 + 1) * 4 + 16 * 4 + 8)));
  // No temporary left beside the file.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(s.dir)) ++files;
  EXPECT_GE(files, 1);
  for (const auto& e : fs::directory_iterator(s.dir))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(HnswFile, FingerprintSeesEveryBitAndTheShape) {
  const auto& s = saved();
  const auto base = catalogue_fingerprint(s.items.data(), Saved::kItems, Saved::kDim);
  auto other = s.items;
  uint32_t bits;
  std::memcpy(&bits, &other[1234], 4);
  bits ^= 1u;  // the last bit of one value
  std::memcpy(&other[1234], &bits, 4);
  EXPECT_NE(catalogue_fingerprint(other.data(), Saved::kItems, Saved::kDim).hash, base.hash);
  // Same bytes read as another shape.
  EXPECT_NE(catalogue_fingerprint(s.items.data(), Saved::kItems * 2, Saved::kDim / 2).hash, base.hash);
}

TEST(HnswFile, CorruptByteInTheGraphRefused) {
  std::string bytes = saved().bytes;
  bytes[kHnswHeaderBytes + bytes.size() / 2] ^= 0x10;
  EXPECT_NE(load_error(bytes, saved().items, "flip.idx").find("corrupt index file: the graph's checksum"),
            std::string::npos);
}

TEST(HnswFile, CorruptByteInTheHeaderRefused) {
  std::string bytes = saved().bytes;
  bytes[24] ^= 0x01;  // the item count
  EXPECT_NE(load_error(bytes, saved().items, "head.idx").find("header's checksum"), std::string::npos);
}

TEST(HnswFile, TruncatedFileRefused) {
  const std::string& bytes = saved().bytes;
  const std::string cut = load_error(bytes.substr(0, bytes.size() - 100), saved().items, "cut.idx");
  EXPECT_NE(cut.find("truncated index file: the graph is"), std::string::npos) << cut;
  const std::string head = load_error(bytes.substr(0, 40), saved().items, "head-only.idx");
  EXPECT_NE(head.find("truncated: 40 bytes"), std::string::npos) << head;
  const std::string longer = load_error(bytes + "xyz", saved().items, "long.idx");
  EXPECT_NE(longer.find("corrupt index file: the graph is"), std::string::npos) << longer;
}

TEST(HnswFile, NotAnIndexFileRefused) {
  std::string bytes = saved().bytes;
  bytes[0] = 'X';
  EXPECT_NE(load_error(bytes, saved().items, "magic.idx").find("not a Tandem HNSW index file"),
            std::string::npos);
  EXPECT_NE(load_error("", saved().items, "empty.idx").find("not a Tandem HNSW index file"),
            std::string::npos);
  EXPECT_NE(load_error("TANDEM model file, not a graph", saved().items, "model.idx")
                .find("not a Tandem HNSW index file"),
            std::string::npos);
  try {
    HnswIndex::load((saved().dir / "absent.idx").string(), saved().items.data(), Saved::kItems,
                    Saved::kDim, 50);
    ADD_FAILURE() << "a missing file was loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.idx: cannot open"), std::string::npos) << e.what();
  }
}

// An index file must be a regular file: a device or a FIFO is refused by
// name before a byte is read (each load in a child an alarm bounds).
TEST(HnswFile, DevicesAndFifosAreRefusedByName) {
  const Saved& s = saved();
  const fs::path fifo = s.dir / "graph.fifo";
  testing::make_fifo(fifo);
  for (const auto& [path, kind] : {std::pair<std::string, std::string>{"/dev/zero", "(a character device)"},
                                   {fifo.string(), "(a FIFO)"}}) {
    // A named copy: C++17 lambdas cannot capture a structured binding (clang refuses it).
    const std::string& file = path;
    const testing::BoundedCall r = testing::call_within(10, [&] {
      (void)HnswIndex::load(file, s.items.data(), Saved::kItems, Saved::kDim, 50);
    });
    EXPECT_TRUE(r.finished) << path << ": still reading after 10 s";
    EXPECT_EQ(r.message, path + ": cannot read index file: not a regular file " + kind);
  }
  fs::remove(fifo);
}

TEST(HnswFile, OtherFormatVersionRefused) {
  std::string bytes = saved().bytes;
  const uint32_t v2 = 2;
  std::memcpy(bytes.data() + 8, &v2, 4);
  const std::string e = load_error(bytes, saved().items, "v2.idx");
  EXPECT_NE(e.find("format version 2, this build reads version 1"), std::string::npos) << e;
}

TEST(HnswFile, AnotherCatalogueRefused) {
  // Same shape, other vectors (another model, or this one retrained).
  const auto other = random_matrix(Saved::kItems, Saved::kDim, 99);
  const std::string e = load_error(saved().bytes, other, "other.idx");
  EXPECT_NE(e.find("belongs to another model"), std::string::npos) << e;
  EXPECT_NE(e.find("tandem index build"), std::string::npos) << e;
  // Fewer items.
  const std::vector<float> fewer(saved().items.begin(), saved().items.end() - Saved::kDim);
  const std::string f = load_error(saved().bytes, fewer, "fewer.idx");
  EXPECT_NE(f.find("built over 3000 items x 16"), std::string::npos) << f;
  EXPECT_NE(f.find("catalogue is 2999 items x 16"), std::string::npos) << f;
}

// Files whose checksums hold but whose graph would send hnswlib out of
// bounds: the structure is checked too.
TEST(HnswFile, InconsistentGraphRefusedDespiteGoodChecksums) {
  const auto& s = saved();
  const std::string payload = s.bytes.substr(kHnswHeaderBytes);
  constexpr size_t kGraphHeader = 96;
  const size_t per_item = (2 * 8 + 1) * 4 + 16 * 4 + 8;
  {  // a bottom-layer neighbour beyond the catalogue
    std::string p = payload;
    uint32_t count;
    std::memcpy(&count, p.data() + kGraphHeader, 4);
    ASSERT_GT(count, 0u);
    const uint32_t bad = 3000;
    std::memcpy(p.data() + kGraphHeader + 4, &bad, 4);
    const std::string e = load_error(with_payload(p), s.items, "link.idx");
    EXPECT_NE(e.find("item 0 links to item 3000 on level 0"), std::string::npos) << e;
  }
  {  // a repeated label
    std::string p = payload;
    const uint64_t label = 0;
    std::memcpy(p.data() + kGraphHeader + per_item + (2 * 8 + 1) * 4 + 16 * 4, &label, 8);
    const std::string e = load_error(with_payload(p), s.items, "label.idx");
    EXPECT_NE(e.find("item 1 has label 0 (a repeat)"), std::string::npos) << e;
  }
  {  // an element count that disagrees with the header's
    std::string p = payload;
    const uint64_t n = 1u << 30;
    std::memcpy(p.data() + 16, &n, 8);
    const std::string e = load_error(with_payload(p), s.items, "count.idx");
    EXPECT_NE(e.find("element count is 1073741824, 3000 expected"), std::string::npos) << e;
  }
  {  // an upper layer cut short
    const std::string e = load_error(with_payload(payload.substr(0, payload.size() - 10)), s.items,
                                     "upper.idx");
    EXPECT_NE(e.find("truncated index file: it ends in item"), std::string::npos) << e;
  }
  {  // a delete mark (hnswlib keeps it in the link count's third byte)
    std::string p = payload;
    p[kGraphHeader + per_item * 5 + 2] = 0x01;
    const std::string e = load_error(with_payload(p), s.items, "deleted.idx");
    EXPECT_NE(e.find("item 5 has"), std::string::npos) << e;
  }
  {  // the untouched payload with recomputed checksums still loads
    const fs::path p = s.dir / "same.idx";
    write_bytes(p, with_payload(payload));
    EXPECT_NO_THROW(HnswIndex::load(p.string(), s.items.data(), Saved::kItems, Saved::kDim, 50));
  }
}

TEST(HnswFile, EmptyCatalogueHasNothingToSave) {
  const HnswIndex empty(nullptr, 0, 4);
  const fs::path p = saved().dir / "empty-graph.idx";
  EXPECT_THROW(empty.save(p.string()), Error);
  EXPECT_FALSE(fs::exists(p));
}

}  // namespace
}  // namespace tandem
