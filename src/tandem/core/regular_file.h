// Reading an input file whole, and only if it is a regular file. A path the
// user gives may name anything: a directory, /dev/zero or /dev/urandom
// (endless), a FIFO (opening it blocks until a writer appears), a socket.
// Those are refused by name before any byte is read, and a regular file is
// read up to the size fstat reported when it was opened, never past it, so a
// file that grows meanwhile cannot keep the reader busy.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

namespace tandem {

// What kind of file a stat mode describes, as a phrase for messages:
// "a regular file", "a directory", "a character device", "a block device",
// "a FIFO", "a socket", "a symbolic link" or "an unknown kind of file".
std::string file_kind(mode_t mode);

// Throws unless `path` (symbolic links followed) is a regular file.
// `what` ("model file", "ratings file") words the errors:
//   PATH: cannot open model file: No such file or directory
//   PATH: cannot read model file: not a regular file (a character device)
void require_regular_file(const std::string& path, std::string_view what);

// The whole content of the regular file at `path`: checked as above, opened
// (without blocking, should it have become a FIFO since), checked again on
// the opened descriptor, then read for exactly the size fstat reported (less
// only if the file shrinks meanwhile). Errors as above, plus
//   PATH: cannot read model file: Input/output error
std::string read_regular_file(const std::string& path, std::string_view what);

}  // namespace tandem
