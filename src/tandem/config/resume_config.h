// Which configuration a resumed run trains with. The checkpoint stores the
// run's config, so --resume needs no flags; flags that are given must agree
// with it, except for the settings the registry (settings.h) marks as free
// on resume, which cannot change the steps already taken:
//  - data locations (--data, --train, --test): the data may have moved; the
//    checkpoint's data fingerprint checks that the content is the same;
//  - --epochs: a run may be extended, never cut below the epochs done (nor
//    changed at all under a schedule that spans the whole run: cosine decay
//    with decay_steps 0);
//  - the [evaluation] settings, and the memory budget.
// A conflict names the flag and the TOML key: "--batch-size ([training]
// batch_size) is 100 in the checkpoint, 50 on the command line".
#pragma once

#include <string>

#include "tandem/config/experiment_config.h"

namespace tandem {

// `requested` is the checkpoint's config (`stored`) with the command line's
// flags applied. Returns it, or throws tandem::Error listing every
// conflicting field with both values; `source` names the checkpoint.
ExperimentConfig resume_config(const ExperimentConfig& stored, const ExperimentConfig& requested,
                               int epochs_done, const std::string& source);

}  // namespace tandem
