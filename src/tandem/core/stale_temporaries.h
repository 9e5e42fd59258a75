// The temporaries a writer keeps beside its target until the write is
// complete: `<target>.tmp.<pid>.<n>` (a file, AtomicFile) or
// `<target>.tmp.<pid>` (a directory, ColumnStoreWriter). A writer killed
// mid-write (kill -9, OOM killer, power loss) leaves its temporary behind;
// the pid in the name tells whether that writer still runs, so the next
// writer of the same target can remove what a dead one left, and only that.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tandem {

// A new temporary name for `target`: `<target>.tmp.<pid>.<n>`, unique per
// process and call, so concurrent writers never share one.
std::string new_temporary_path(const std::string& target);

// True when no process `pid` exists: kill(pid, 0) fails with ESRCH. A
// process we may not signal (EPERM) exists; pids <= 0 name no single process
// and are never called gone.
bool process_is_gone(pid_t pid);

// The pid in a temporary's file name `name` made for the target file name
// `target_name`: `<target_name>.tmp.<pid>` or `<target_name>.tmp.<pid>.<n>`,
// decimal digits only; -1 for any other name.
pid_t temporary_writer_pid(const std::string& name, const std::string& target_name);

// Paths of the temporaries beside `target` (same directory, names as above)
// whose writer is gone and is not this process. Names of any other shape,
// and temporaries of live processes, are never listed. An unreadable or
// missing directory lists nothing.
std::vector<std::string> stale_temporaries(const std::string& target);

// Removes the regular files among stale_temporaries(target), best effort (a
// leftover only costs disk space). A directory of such a name is left alone.
void remove_stale_temporary_files(const std::string& target);

}  // namespace tandem
