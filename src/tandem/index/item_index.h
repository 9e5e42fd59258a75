// Top-K item search by inner product behind one interface (faiss style), so
// that callers (recommend, serve) choose exact or approximate search by name
// without changing code:
//  - ExactIndex: brute force over a copy of the catalogue (tandem::top_k);
//    the reference every approximate index is measured against.
//  - HnswIndex: a hierarchical navigable small-world graph (hnswlib) over the
//    same vectors; sub-linear search at the price of recall < 1. Its graph
//    can be saved to a file and loaded instead of rebuilt (hnsw_file.h).
// Every search is const and thread-safe, so one index serves many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tandem/evaluate/topk.h"

namespace tandem {

// Returns true for a candidate index that must not be returned.
using ExcludeFn = std::function<bool(int64_t index)>;

class ItemIndex {
 public:
  virtual ~ItemIndex();
  virtual std::string name() const = 0;
  virtual int64_t size() const = 0;  // number of candidates
  virtual int64_t dim() const = 0;

  // The k candidates with the highest dot product with `query` ([dim]), best
  // first (ties: lower index first), skipping the indices in `excluded`
  // (sorted ascending; duplicates and out-of-range values are harmless).
  // Fewer than k items come back only when the catalogue minus the excluded
  // items holds fewer than k. Errors (tandem::Error): k <= 0, null query,
  // unsorted `excluded`.
  virtual std::vector<ScoredItem> search(const float* query, int64_t k,
                                         const std::vector<int64_t>* excluded = nullptr) const = 0;
  // As above, with the exclusions given as a predicate (e.g. "already rated"
  // looked up in the caller's own structure). Must be thread-safe itself when
  // searches run concurrently.
  virtual std::vector<ScoredItem> search_if(const float* query, int64_t k,
                                            const ExcludeFn& excluded) const = 0;
};

class ExactIndex final : public ItemIndex {
 public:
  // Copies `matrix` ([n, dim], row-major) so the index outlives the caller's
  // buffer, as an approximate index (which stores its own copy) does.
  ExactIndex(const float* matrix, int64_t n, int64_t dim);
  std::string name() const override { return "exact"; }
  int64_t size() const override { return n_; }
  int64_t dim() const override { return dim_; }
  std::vector<ScoredItem> search(const float* query, int64_t k,
                                 const std::vector<int64_t>* excluded = nullptr) const override;
  std::vector<ScoredItem> search_if(const float* query, int64_t k,
                                    const ExcludeFn& excluded) const override;

 private:
  std::vector<float> data_;
  int64_t n_, dim_;
};

struct HnswParams {
  int M = 16;                 // graph degree (2M on the bottom layer)
  int ef_construction = 200;  // candidate-list size while building
  int ef_search = 100;        // candidate-list size while searching (at least k)
  uint64_t seed = 100;        // level assignment; same seed, same graph
};

class HnswIndex final : public ItemIndex {
 public:
  // Builds the graph by inserting rows 0..n-1 in order on the calling thread
  // (hnswlib's level generator is not safe to share between inserting
  // threads, and sequential insertion keeps the graph a function of the seed).
  HnswIndex(const float* matrix, int64_t n, int64_t dim, const HnswParams& params = {});
  ~HnswIndex() override;

  // Writes the graph to `path` (hnsw_file.h: a header with the catalogue's
  // fingerprint, the parameters and checksums, then hnswlib's bytes),
  // atomically: a reader sees the old file or the whole new one. An empty
  // catalogue has no graph to save (tandem::Error).
  void save(const std::string& path) const;
  // Loads a graph that save() wrote for this very catalogue (`matrix`, [n,
  // dim], is only fingerprinted, not copied: the graph holds its own copy).
  // M, ef_construction and the seed come from the file; ef_search is the
  // caller's. Refuses (tandem::Error naming `path`) a file that is not an
  // index, another format version, a truncated or corrupt file (sizes,
  // checksums and hnswlib's structure are all checked before hnswlib reads
  // a byte), and a graph built over other vectors (another model, or the
  // same one retrained).
  static std::unique_ptr<HnswIndex> load(const std::string& path, const float* matrix, int64_t n,
                                         int64_t dim, int ef_search);

  std::string name() const override { return "hnsw"; }
  int64_t size() const override { return n_; }
  int64_t dim() const override { return dim_; }
  const HnswParams& params() const { return params_; }
  std::vector<ScoredItem> search(const float* query, int64_t k,
                                 const std::vector<int64_t>* excluded = nullptr) const override;
  std::vector<ScoredItem> search_if(const float* query, int64_t k,
                                    const ExcludeFn& excluded) const override;
  // search() with a search depth other than params().ef_search for this one
  // call (e.g. a recall/latency sweep over one built graph); thread-safe.
  std::vector<ScoredItem> search_with_ef(const float* query, int64_t k, int64_t ef_search,
                                         const std::vector<int64_t>* excluded = nullptr) const;

 private:
  // Graph search with candidate list `fetch`, excluded items dropped, k best
  // kept; over-fetches again when exclusions left fewer than k.
  std::vector<ScoredItem> search_impl(const float* query, int64_t k, int64_t fetch,
                                      const ExcludeFn& excluded) const;
  HnswIndex(int64_t n, int64_t dim, const HnswParams& params, uint64_t catalogue_hash);
  struct Impl;  // keeps hnswlib out of this header (and its warnings out of callers)
  std::unique_ptr<Impl> impl_;
  int64_t n_, dim_;
  HnswParams params_;
  uint64_t catalogue_hash_ = 0;  // catalogue_fingerprint of the vectors it was built over
};

// "exact" or "hnsw" (params are used by "hnsw" only). Unknown kinds are a
// tandem::Error listing the known ones.
std::unique_ptr<ItemIndex> make_index(const std::string& kind, const float* matrix, int64_t n,
                                      int64_t dim, const HnswParams& params = {});

// Mean over the queries ([n_queries, dim]) of |approx top-k ∩ exact top-k| /
// |exact top-k| (= k unless the catalogue is smaller). Both indexes must hold
// the same non-empty catalogue shape.
double recall_at_k(const ItemIndex& approx, const ItemIndex& exact, const float* queries,
                   int64_t n_queries, int64_t k);

}  // namespace tandem
