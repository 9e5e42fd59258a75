#include "tandem/model/shard_gather.h"

#include <algorithm>
#include <cstring>

#include "tandem/core/error.h"

namespace tandem {

void gather_shards(const MultiTaskModel& shard, Communicator& comm, MultiTaskModel* whole) {
  const int ranks = comm.size(), me = comm.rank();
  const TableShard& s = shard.shard();
  TANDEM_CHECK(s.ranks == ranks && s.rank == me,
               "gather_shards: the model is rank " << s.rank << " of " << s.ranks << "'s shard, the job's rank "
                                                   << me << " of " << ranks);
  TANDEM_CHECK((me == 0) == (whole != nullptr), "gather_shards: rank 0 alone receives the whole model");
  const std::vector<TableView> tables = shard.sparse_parameter_values();
  std::vector<SparseParameterRef> out;
  if (whole != nullptr) {
    TANDEM_CHECK(!whole->shard().sharded(), "gather_shards: the whole model must not be sharded");
    out = whole->sparse_parameters();
    TANDEM_CHECK(out.size() == tables.size(), "gather_shards: the whole model has " << out.size()
                                                                                    << " tables, the shard "
                                                                                    << tables.size());
  }
  std::vector<float> received;
  for (size_t t = 0; t < tables.size(); ++t) {
    const EmbeddingTable& mine = *tables[t].table;
    const int64_t d = mine.dim;
    std::vector<size_t> send(static_cast<size_t>(ranks), 0);
    send[0] = mine.weights.size() * sizeof(float);
    const std::vector<size_t> recv = comm.exchange_sizes(send, TrafficKind::kControl);
    size_t total = 0;
    for (size_t b : recv) total += b;
    received.resize(total / sizeof(float));
    comm.alltoallv(mine.weights.data(), send, received.data(), recv, TrafficKind::kControl);
    if (whole == nullptr) continue;
    EmbeddingTable& dst = *out[t].table;
    TANDEM_CHECK(dst.dim == d, "gather_shards: table " << tables[t].name << " is " << dst.dim
                                                        << " wide in the whole model, " << d << " in the shard");
    const int64_t rows = dst.rows;
    int64_t at = 0;
    for (int k = 0; k < ranks; ++k) {
      const TableShard of_k{k, ranks};
      const int64_t n = of_k.rows_of(rows);
      TANDEM_CHECK(static_cast<int64_t>(recv[static_cast<size_t>(k)] / sizeof(float)) == n * d,
                   "gather_shards: rank " << k << " sent " << recv[static_cast<size_t>(k)] / sizeof(float) / static_cast<size_t>(d)
                                          << " rows of table " << tables[t].name << ", its shard has " << n);
      for (int64_t l = 0; l < n; ++l)
        std::memcpy(dst.row(of_k.global(l)), received.data() + (at + l) * d, static_cast<size_t>(d) * sizeof(float));
      at += n;
    }
  }
  if (whole == nullptr) return;
  // Dense parameters are the same on every rank: rank 0's.
  const std::vector<ParameterView> from = shard.dense_parameter_values();
  std::vector<ParameterRef> to = whole->dense_parameters();
  TANDEM_CHECK(from.size() == to.size(), "gather_shards: " << from.size() << " dense parameters in the shard, "
                                                           << to.size() << " in the whole model");
  for (size_t i = 0; i < from.size(); ++i) {
    TANDEM_CHECK(from[i].size == to[i].size, "gather_shards: dense parameter " << from[i].name << " sizes differ");
    std::copy_n(from[i].value, from[i].size, to[i].value);
  }
}

}  // namespace tandem
