// The model file's constants and the checks both of its writers make (the
// in-memory encoder, encode_model, and the streaming writer,
// model_file_stream.h), so that the two can never disagree on what they
// accept or on a byte they write. Internal to io/.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.h"

namespace tandem::model_format {

inline constexpr char kMagic[8] = {'T', 'A', 'N', 'D', 'E', 'M', '\x00', '\x1a'};
inline constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8;
inline constexpr size_t kChecksumBytes = 8;
inline constexpr uint32_t kMaxNameBytes = 1024;
// Item titles and the like; far beyond any legitimate value, small enough that
// a corrupt length cannot ask for a huge buffer.
inline constexpr uint32_t kMaxStringBytes = 1u << 20;
inline constexpr uint32_t kMaxRank = 8;

inline constexpr char kTagMeta[4] = {'M', 'E', 'T', 'A'};
inline constexpr char kTagIds[4] = {'I', 'D', 'S', ' '};
inline constexpr char kTagStrings[4] = {'S', 'T', 'R', 'S'};
inline constexpr char kTagTensors[4] = {'T', 'E', 'N', 'S'};

inline constexpr bool kLittleEndian = std::endian::native == std::endian::little;
static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4,
              "the model format stores IEEE-754 binary32 floats");

inline std::string in_quotes(std::string_view s) {
  std::string out = "'";
  out.append(s);
  out += '\'';
  return out;
}

// Checks on the encoding side mirror those on the decoding side, so nothing
// is ever written that this build would refuse to read back.
inline void check_name(const std::string& ctx, const char* kind, const std::string& name,
                       std::set<std::string_view>& seen) {
  TANDEM_CHECK(!name.empty(), ctx << ": " << kind << " with an empty name");
  TANDEM_CHECK(name.size() <= kMaxNameBytes, ctx << ": " << kind << " name of " << name.size()
                                                 << " bytes exceeds the limit of "
                                                 << kMaxNameBytes);
  TANDEM_CHECK(seen.insert(name).second, ctx << ": duplicate " << kind << " name "
                                             << in_quotes(name));
}

inline void check_section_count(const std::string& ctx, const char* kind, size_t n) {
  TANDEM_CHECK(n <= std::numeric_limits<uint32_t>::max(),
               ctx << ": too many " << kind << "s (" << n << ")");
}

// Product of non-negative dims, or false if a dim is negative or it overflows.
inline bool shape_elements(const std::vector<int64_t>& shape, uint64_t& out) {
  uint64_t p = 1;
  bool zero = false;
  bool overflow = false;
  for (int64_t d : shape) {
    if (d < 0) return false;
    if (d == 0) zero = true;
    if (!overflow && __builtin_mul_overflow(p, static_cast<uint64_t>(d), &p)) overflow = true;
  }
  // A zero dim makes the product zero whatever the other dims are.
  if (zero) {
    out = 0;
    return true;
  }
  if (overflow || p > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
  out = p;
  return true;
}

inline std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace tandem::model_format
