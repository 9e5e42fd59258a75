// Where the data lives: --data, else $TANDEM_DATA, else ../shared/data/ml-100k.
#pragma once

#include <string>

namespace tandem {

// Returns the data directory to use. `flag` is the --data value (empty if not
// given). Throws tandem::Error listing every place looked at (and why each was
// rejected) when none is a directory holding u.data.
std::string resolve_data_dir(const std::string& flag);

}  // namespace tandem
