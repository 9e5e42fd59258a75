// hnswlib (header-only, third-party) does not build cleanly under our
// -Wall -Wextra; its warnings are silenced here, around the include only, so
// they stay on for our own code. (From /usr/include the compiler treats it as
// a system header anyway; this matters for a copy found elsewhere.)
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <hnswlib/hnswlib.h>
#pragma GCC diagnostic pop
