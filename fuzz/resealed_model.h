// Random mutations almost never keep a model file's XXH64 checksum valid, so
// a fuzzer fed raw files only would rarely get past the checksum check. For
// input that starts like a model file (magic and version), resealed() returns
// a copy whose header length and trailing checksum are recomputed over the
// bytes as they stand, as a careful forger would: the decoders behind the
// checksum get fuzzed too, from the same corpus of real model files.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::fuzz {

// The layout documented in tandem/io/model_file.h.
inline constexpr size_t kModelHeaderBytes = 24;
inline constexpr size_t kModelChecksumBytes = 8;
inline constexpr char kModelMagicAndVersion[12] = {'T', 'A', 'N', 'D', 'E', 'M', '\x00', '\x1a',
                                                   '\x01', '\x00', '\x00', '\x00'};

inline void store_le64(std::string& s, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// The resealed copy, or nothing when `bytes` is not model-file shaped or is
// already sealed (then the raw decode has covered it).
inline std::optional<std::string> resealed(std::string_view bytes) {
  if (bytes.size() < kModelHeaderBytes + kModelChecksumBytes ||
      std::memcmp(bytes.data(), kModelMagicAndVersion, sizeof kModelMagicAndVersion) != 0)
    return std::nullopt;
  std::string out(bytes);
  const size_t payload = out.size() - kModelHeaderBytes - kModelChecksumBytes;
  store_le64(out, 16, payload);
  store_le64(out, out.size() - kModelChecksumBytes,
             XXH64(out.data() + kModelHeaderBytes, payload, 0));
  if (out == bytes) return std::nullopt;
  return out;
}

}  // namespace tandem::fuzz
