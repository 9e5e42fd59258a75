// What a recorded run needs to say about where it ran, so timings in a run
// directory can be compared with the machine in mind.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace tandem {

// host, os (kernel name and release), cpu (model name from /proc/cpuinfo,
// "unknown" elsewhere), cores (hardware threads), memory_bytes (physical),
// blas_core (OpenBLAS's kernel family in use).
nlohmann::json machine_info();

// Physical memory in bytes; 0 when the system does not say.
int64_t physical_memory_bytes();

// Now, in UTC, as ISO 8601 to the second: "2026-11-23T14:08:34Z".
std::string utc_timestamp();

}  // namespace tandem
