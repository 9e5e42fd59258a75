// Byte counts as people write and read them.
#pragma once

#include <cstdint>
#include <string>

namespace tandem {

// "1073741824", "512M", "1.5G", "64k" (powers of 1024; case-insensitive, an
// optional trailing B). Errors name the text.
int64_t parse_byte_size(const std::string& text);
// "1.50 GiB", "12.0 MiB", ...
std::string format_bytes(int64_t bytes);

}  // namespace tandem
