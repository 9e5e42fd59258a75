// Checking, before hours of work, that its results can be written where the
// user asked: a run that trains first and fails to save after would waste
// the training. The check is honest: it creates and removes a probe file in
// the directory (named as a temporary of the target, stale_temporaries.h),
// because permission bits alone do not say (root writes anywhere they
// forbid; a read-only mount, an ACL or a full quota may refuse what they
// allow).
#pragma once

#include <string>
#include <string_view>

namespace tandem {

// Throws unless a file can be created at `path` later (atomically, beside
// it): its directory exists, is a directory and takes a new file, and
// `path`, if it exists, is a regular file (not a directory or a device). `what` ("--output") starts the message:
//   --output /nope/m.tandem: cannot write there: no such directory /nope
//   --output /tmp/f/m.tandem: cannot write there: /tmp/f is not a directory (a regular file)
//   --output /ro/m.tandem: cannot write there: permission denied in /ro
void require_creatable_file(const std::string& path, std::string_view what);

// Throws unless files can be written into the directory `dir`, which is
// created later if missing (with its parents): `dir` is a directory that
// takes a new file, or it is missing and its nearest existing ancestor is
// one. Messages as above, e.g.
//   --checkpoint-dir /tmp/f/ck: cannot write there: /tmp/f is not a directory (a regular file)
void require_writable_directory(const std::string& dir, std::string_view what);

}  // namespace tandem
