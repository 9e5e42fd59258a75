// Where the data lives: --data, else $TANDEM_DATA, else ../shared/data/ml-100k.
#pragma once

#include <string>

namespace tandem {

// Returns the data directory to use. `flag` is the --data value (empty if not
// given). Throws tandem::Error listing every place looked at (and why each was
// rejected: missing, not a directory, "permission denied", no ratings file)
// when none is a directory holding u.data.
std::string resolve_data_dir(const std::string& flag);

// Why the files in directory `dir` cannot be reached by name: "" when they
// can, else the system's reason in a message's words ("permission denied"
// without search permission, "not a directory", ...). Such a directory
// would otherwise look like one holding no data. (Read permission, to list
// it, is not needed: data files are looked up by name.)
std::string directory_read_problem(const std::string& dir);

}  // namespace tandem
