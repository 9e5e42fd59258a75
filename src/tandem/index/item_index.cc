#include "tandem/index/item_index.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>

#include "tandem/core/atomic_file.h"
#include "tandem/core/error.h"
#include "tandem/core/regular_file.h"
#include "tandem/index/hnsw_file.h"
#include "tandem/io/checksum.h"
#include "tandem/index/hnswlib_include.h"

namespace tandem {

namespace {

void check_matrix(const char* who, const float* matrix, int64_t n, int64_t dim) {
  TANDEM_CHECK(n >= 0, who << ": item count must be >= 0, got " << n);
  TANDEM_CHECK(dim > 0, who << ": dim must be > 0, got " << dim);
  TANDEM_CHECK(n == 0 || matrix != nullptr, who << ": matrix is null but item count is " << n);
}

void check_query(const char* who, const float* query, int64_t k) {
  TANDEM_CHECK(k > 0, who << ": k must be > 0, got " << k);
  TANDEM_CHECK(query != nullptr, who << ": query is null");
}

// Binary search in `excluded` needs it sorted; an unsorted list would silently
// let excluded items through, so it is refused instead.
void check_sorted(const char* who, const std::vector<int64_t>* excluded) {
  if (excluded == nullptr) return;
  const auto it = std::is_sorted_until(excluded->begin(), excluded->end());
  TANDEM_CHECK(it == excluded->end(),
               who << ": excluded indices must be sorted ascending; position "
                   << (it - excluded->begin()) << " holds " << *it << " after " << *(it - 1));
}

bool ranks_before(const ScoredItem& a, const ScoredItem& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.index < b.index;
}

// hnswlib 0.6.2 saves to and loads from a path only. An anonymous in-memory
// file stands in for it: hnswlib's bytes pass through memory, never through
// a stray temporary file on disk, and /proc/self/fd/N names it.
class MemoryFile {
 public:
  explicit MemoryFile(const std::string& for_path) : fd_(memfd_create("tandem-hnsw", MFD_CLOEXEC)) {
    TANDEM_CHECK(fd_ >= 0, for_path << ": cannot create an in-memory file for hnswlib: "
                                    << std::strerror(errno));
  }
  ~MemoryFile() { close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

  void write_all(const char* data, size_t size, const std::string& for_path) {
    size_t done = 0;
    while (done < size) {
      const ssize_t n = pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      TANDEM_CHECK(n > 0, for_path << ": cannot stage the graph in memory: " << std::strerror(errno));
      done += static_cast<size_t>(n);
    }
  }
  std::string read_all(const std::string& for_path) const {
    struct stat st {};
    TANDEM_CHECK(fstat(fd_, &st) == 0, for_path << ": cannot stat the staged graph");
    std::string out(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      TANDEM_CHECK(n > 0, for_path << ": cannot read the staged graph back: " << std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    return out;
  }

 private:
  int fd_;
};

}  // namespace

ItemIndex::~ItemIndex() = default;

// ---------------------------------------------------------------- exact

ExactIndex::ExactIndex(const float* matrix, int64_t n, int64_t dim) : n_(n), dim_(dim) {
  check_matrix("exact index", matrix, n, dim);
  data_.assign(matrix, matrix + n * dim);
}

std::vector<ScoredItem> ExactIndex::search(const float* query, int64_t k,
                                           const std::vector<int64_t>* excluded) const {
  check_query("exact index search", query, k);
  check_sorted("exact index search", excluded);
  const CandidateMatrix c{data_.data(), n_, dim_};
  if (excluded == nullptr) return top_k(query, 1, c, k)[0];
  const std::vector<std::vector<int64_t>> per_query{*excluded};
  return top_k(query, 1, c, k, &per_query)[0];
}

std::vector<ScoredItem> ExactIndex::search_if(const float* query, int64_t k,
                                              const ExcludeFn& excluded) const {
  check_query("exact index search", query, k);
  if (!excluded) return search(query, k);
  // Brute force touches every candidate anyway, so turning the predicate into
  // a list costs no more than the search itself.
  std::vector<int64_t> list;
  for (int64_t i = 0; i < n_; ++i) {
    if (excluded(i)) list.push_back(i);
  }
  return search(query, k, &list);
}

// ---------------------------------------------------------------- hnsw

struct HnswIndex::Impl {
  hnswlib::InnerProductSpace space;
  // Held by pointer so that a load that fails inside hnswlib's constructor
  // leaves nothing half-built behind for the destructor.
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
  explicit Impl(int64_t dim) : space(static_cast<size_t>(dim)) {}
};

HnswIndex::HnswIndex(int64_t n, int64_t dim, const HnswParams& params, uint64_t catalogue_hash)
    : n_(n), dim_(dim), params_(params), catalogue_hash_(catalogue_hash) {}

HnswIndex::HnswIndex(const float* matrix, int64_t n, int64_t dim, const HnswParams& params)
    : n_(n), dim_(dim), params_(params) {
  check_matrix("hnsw index", matrix, n, dim);
  // M = 1 makes hnswlib's level multiplier 1/ln(1) infinite.
  TANDEM_CHECK(params.M >= 2, "hnsw index: M must be >= 2, got " << params.M);
  TANDEM_CHECK(params.ef_construction >= 1,
               "hnsw index: ef_construction must be >= 1, got " << params.ef_construction);
  TANDEM_CHECK(params.ef_search >= 1, "hnsw index: ef_search must be >= 1, got " << params.ef_search);
  // hnswlib numbers its nodes with 32-bit unsigned ints.
  TANDEM_CHECK(n < int64_t{std::numeric_limits<uint32_t>::max()},
               "hnsw index: at most " << std::numeric_limits<uint32_t>::max() - 1
                                      << " items, got " << n);
  if (n == 0) return;  // hnswlib cannot allocate an empty graph; search returns nothing
  catalogue_hash_ = catalogue_fingerprint(matrix, n, dim).hash;
  impl_ = std::make_unique<Impl>(dim);
  impl_->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
      &impl_->space, static_cast<size_t>(n), static_cast<size_t>(params.M),
      static_cast<size_t>(params.ef_construction), static_cast<size_t>(params.seed));
  // The graph's own ef stays at 1 and is never written again (setEf is a
  // plain write that would race with concurrent searches): each search asks
  // searchKnn for max(ef_search, k) results instead, which hnswlib explores
  // with exactly that candidate-list size, and keeps the best k.
  impl_->graph->setEf(1);
  for (int64_t i = 0; i < n; ++i) {
    impl_->graph->addPoint(matrix + i * dim, static_cast<hnswlib::labeltype>(i));
  }
}

HnswIndex::~HnswIndex() = default;

void HnswIndex::save(const std::string& path) const {
  TANDEM_CHECK(n_ > 0, path << ": an empty catalogue has no HNSW graph to save");
  MemoryFile staged(path);
  try {
    impl_->graph->saveIndex(staged.path());
  } catch (const std::exception& e) {
    TANDEM_THROW(path << ": hnswlib could not save the graph: " << e.what());
  }
  const std::string payload = staged.read_all(path);
  HnswFileHeader header;
  header.catalogue = {catalogue_hash_, n_, dim_};
  header.M = params_.M;
  header.ef_construction = params_.ef_construction;
  header.seed = params_.seed;
  header.payload_bytes = payload.size();
  header.payload_checksum = xxh64(payload.data(), payload.size());
  // The loader's own checks, on what is about to be written: a file this
  // build would refuse is never produced (e.g. a short write inside hnswlib,
  // whose saveIndex reports no errors).
  check_hnsw_payload(header, payload.data(), payload.size(), path);
  AtomicFile out(path);
  const std::string head = encode_hnsw_header(header);
  out.write(head.data(), head.size());
  out.write(payload.data(), payload.size());
  out.commit();
}

std::unique_ptr<HnswIndex> HnswIndex::load(const std::string& path, const float* matrix, int64_t n,
                                           int64_t dim, int ef_search) {
  check_matrix("hnsw index", matrix, n, dim);
  TANDEM_CHECK(ef_search >= 1, "hnsw index: ef_search must be >= 1, got " << ef_search);
  const std::string bytes = read_regular_file(path, "index file");
  const HnswFileHeader header = decode_hnsw_header(bytes.data(), bytes.size(), path);
  const CatalogueFingerprint want = catalogue_fingerprint(matrix, n, dim);
  if (!(header.catalogue == want)) {
    TANDEM_THROW(path << ": this HNSW index belongs to another model: it was built over "
                      << header.catalogue.items << " items x " << header.catalogue.dim
                      << " (catalogue fingerprint " << std::hex << header.catalogue.hash
                      << "), the model's catalogue is " << std::dec << n << " items x " << dim
                      << " (fingerprint " << std::hex << want.hash << std::dec
                      << "); rebuild it from the model you serve: `tandem index build --model MODEL "
                         "--output "
                      << path << "`");
  }
  const char* payload = bytes.data() + kHnswHeaderBytes;
  check_hnsw_payload(header, payload, bytes.size() - kHnswHeaderBytes, path);

  HnswParams params;
  params.M = static_cast<int>(header.M);
  params.ef_construction = static_cast<int>(header.ef_construction);
  params.seed = header.seed;
  params.ef_search = ef_search;
  std::unique_ptr<HnswIndex> index(new HnswIndex(n, dim, params, want.hash));
  index->impl_ = std::make_unique<Impl>(dim);
  {
    MemoryFile staged(path);
    staged.write_all(payload, bytes.size() - kHnswHeaderBytes, path);
    try {
      index->impl_->graph =
          std::make_unique<hnswlib::HierarchicalNSW<float>>(&index->impl_->space, staged.path());
    } catch (const std::exception& e) {
      TANDEM_THROW(path << ": hnswlib could not load the graph: " << e.what());
    }
  }
  // hnswlib's loading constructor leaves the deletion count uninitialised
  // before loadIndex adds to it; the payload check refused any delete mark,
  // so it is 0 (a garbage count would only send searches down the slower
  // path that skips deleted items).
  index->impl_->graph->num_deleted_ = 0;
  // loadIndex sets ef to 10; searches rely on it being 1 (see the constructor).
  index->impl_->graph->setEf(1);
  return index;
}

std::vector<ScoredItem> HnswIndex::search_impl(const float* query, int64_t k, int64_t fetch,
                                               const ExcludeFn& excluded) const {
  std::vector<ScoredItem> out;
  if (n_ == 0) return out;
  fetch = std::min(fetch, n_);
  while (true) {
    auto heap = impl_->graph->searchKnn(query, static_cast<size_t>(fetch));
    const auto found = static_cast<int64_t>(heap.size());
    out.clear();
    out.reserve(heap.size());
    while (!heap.empty()) {
      const auto& [distance, label] = heap.top();
      const auto index = static_cast<int64_t>(label);
      // InnerProductSpace's distance is 1 - dot; undo it to report the score.
      if (!excluded || !excluded(index)) out.push_back({index, 1.0f - distance});
      heap.pop();
    }
    // Enough survivors, or the graph has been asked for everything it holds.
    if (static_cast<int64_t>(out.size()) >= k || fetch >= n_ || found < fetch) break;
    fetch = std::min(n_, fetch * 2);
  }
  // The heap pops worst first, and 1 - (1 - dot) can tie where the dots did
  // not: a full sort with the index tie-break makes the order deterministic.
  std::sort(out.begin(), out.end(), ranks_before);
  if (static_cast<int64_t>(out.size()) > k) out.resize(static_cast<size_t>(k));
  return out;
}

std::vector<ScoredItem> HnswIndex::search(const float* query, int64_t k,
                                          const std::vector<int64_t>* excluded) const {
  return search_with_ef(query, k, params_.ef_search, excluded);
}

std::vector<ScoredItem> HnswIndex::search_with_ef(const float* query, int64_t k, int64_t ef_search,
                                                  const std::vector<int64_t>* excluded) const {
  check_query("hnsw index search", query, k);
  TANDEM_CHECK(ef_search >= 1, "hnsw index search: ef_search must be >= 1, got " << ef_search);
  check_sorted("hnsw index search", excluded);
  // k + |excluded| candidates always hold k non-excluded ones (when the
  // catalogue is that large), so one graph search usually suffices.
  const int64_t n_excluded = excluded ? static_cast<int64_t>(excluded->size()) : 0;
  const int64_t fetch = std::max<int64_t>(ef_search, k + n_excluded);
  if (n_excluded == 0) return search_impl(query, k, fetch, nullptr);
  return search_impl(query, k, fetch, [excluded](int64_t i) {
    return std::binary_search(excluded->begin(), excluded->end(), i);
  });
}

std::vector<ScoredItem> HnswIndex::search_if(const float* query, int64_t k,
                                             const ExcludeFn& excluded) const {
  check_query("hnsw index search", query, k);
  // The number excluded is unknown up front: start at twice k and let
  // search_impl widen the search if too few survive.
  const int64_t fetch = std::max<int64_t>(params_.ef_search, 2 * k);
  return search_impl(query, k, fetch, excluded);
}

// ---------------------------------------------------------------- helpers

std::unique_ptr<ItemIndex> make_index(const std::string& kind, const float* matrix, int64_t n,
                                      int64_t dim, const HnswParams& params) {
  if (kind == "exact") return std::make_unique<ExactIndex>(matrix, n, dim);
  if (kind == "hnsw") return std::make_unique<HnswIndex>(matrix, n, dim, params);
  TANDEM_THROW("unknown index kind '" << kind << "'; known kinds: exact, hnsw");
}

double recall_at_k(const ItemIndex& approx, const ItemIndex& exact, const float* queries,
                   int64_t n_queries, int64_t k) {
  TANDEM_CHECK(k > 0, "recall_at_k: k must be > 0, got " << k);
  TANDEM_CHECK(n_queries > 0, "recall_at_k: need at least one query, got " << n_queries);
  TANDEM_CHECK(queries != nullptr, "recall_at_k: queries is null");
  TANDEM_CHECK(approx.dim() == exact.dim(), "recall_at_k: dim mismatch: " << approx.name() << " has "
                                                << approx.dim() << ", " << exact.name() << " has "
                                                << exact.dim());
  TANDEM_CHECK(approx.size() == exact.size(),
               "recall_at_k: catalogue size mismatch: " << approx.name() << " has " << approx.size()
                                                        << ", " << exact.name() << " has "
                                                        << exact.size());
  TANDEM_CHECK(exact.size() > 0, "recall_at_k: the catalogue is empty");
  double sum = 0.0;
  for (int64_t q = 0; q < n_queries; ++q) {
    const float* query = queries + q * exact.dim();
    const auto truth = exact.search(query, k);
    auto got = approx.search(query, k);
    std::vector<int64_t> truth_ids;
    for (const auto& t : truth) truth_ids.push_back(t.index);
    std::sort(truth_ids.begin(), truth_ids.end());
    int64_t hits = 0;
    for (const auto& g : got) hits += std::binary_search(truth_ids.begin(), truth_ids.end(), g.index);
    sum += static_cast<double>(hits) / static_cast<double>(truth.size());
  }
  return sum / static_cast<double>(n_queries);
}

}  // namespace tandem
