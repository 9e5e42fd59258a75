#include "tandem/train/batch_source.h"

#include <numeric>

#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/train/trainer.h"

namespace tandem {

ExamplesSource::ExamplesSource(const Examples& examples) : ex_(examples) {
  TANDEM_CHECK(ex_.weights.empty() || ex_.weights.size() == ex_.size(),
               "the training data has " << ex_.weights.size() << " weights for " << ex_.size()
                                        << " examples");
}

void ExamplesSource::start_step(TrainerState& st, ShuffleMode mode) {
  TANDEM_CHECK(st.step_in_epoch == 0 || !st.order.empty(),
               "training state is inside an epoch but has no example order");
  if (st.order.empty()) {
    st.order.resize(ex_.size());
    std::iota(st.order.begin(), st.order.end(), 0u);
  }
  TANDEM_CHECK(st.order.size() == ex_.size(),
               "the training state's example order covers " << st.order.size()
                                                            << " examples, the data has " << ex_.size());
  if (st.step_in_epoch != 0) return;
  if (mode == ShuffleMode::kEveryEpoch || (mode == ShuffleMode::kOnce && st.epochs_done == 0)) {
    Rng rng(st.shuffle_state);
    shuffle(st.order, rng);
    st.shuffle_state = rng.state();
  }
}

void ExamplesSource::gather(const TrainerState& st, int64_t first, int64_t count, const BatchBuffers& out) {
  const uint32_t* order = st.order.data() + first;
  for (int64_t i = 0; i < count; ++i) {
    const uint32_t e = order[i];
    out.users[i] = ex_.users[e];
    out.items[i] = ex_.items[e];
    out.labels[i] = ex_.labels[e];
  }
  if (has_timestamps())
    for (int64_t i = 0; i < count; ++i) out.timestamps[i] = ex_.timestamps[order[i]];
  if (has_weights())
    for (int64_t i = 0; i < count; ++i) out.weights[i] = ex_.weights[order[i]];
}

}  // namespace tandem
