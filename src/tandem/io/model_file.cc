#include "tandem/io/model_file.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>
#include <type_traits>

#include "tandem/core/error.h"
#include "tandem/core/regular_file.h"
#include "tandem/io/model_file_format.h"
#include "tandem/io/model_file_stream.h"

// Payload layout (all integers little-endian, floats IEEE-754 binary32 LE):
//
//   "META"  u64 n, n bytes       metadata as compact JSON text (an object)
//   "IDS "  u32 lists, then each: name, u64 n, n x i64
//   "STRS"  u32 lists, then each: name, u64 n, n x (u32 len, len bytes)
//   "TENS"  u32 tensors, then each: name, u32 rank, rank x i64 dim,
//                                   u64 n, n x f32   (n == product of dims)
//
// where name = u32 len, len bytes (1..kMaxNameBytes, unique within its kind).
// The four-byte tags cost nothing and turn "the sections are out of step"
// into a precise message instead of a confusing length error further on.

namespace tandem {
namespace {

using namespace model_format;

// ---------------------------------------------------------------- writing

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}

  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }

  template <typename U>
  void uint(U v) {
    static_assert(std::is_unsigned_v<U>);
    char b[sizeof(U)];
    for (size_t i = 0; i < sizeof(U); ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    raw(b, sizeof(U));
  }

  void u32(uint32_t v) { uint(v); }
  void u64(uint64_t v) { uint(v); }

  void i64s(const std::vector<int64_t>& v) {
    if constexpr (kLittleEndian) {
      raw(v.data(), v.size() * sizeof(int64_t));
    } else {
      for (int64_t x : v) u64(static_cast<uint64_t>(x));
    }
  }

  void f32s(const std::vector<float>& v) {
    if constexpr (kLittleEndian) {
      raw(v.data(), v.size() * sizeof(float));
    } else {
      for (float x : v) u32(std::bit_cast<uint32_t>(x));
    }
  }

  void bytes32(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    raw(s.data(), s.size());
  }

 private:
  std::string& out_;
};

std::string encode_payload(const ModelBundle& b, const std::string& ctx) {
  TANDEM_CHECK(b.metadata.is_object(),
               ctx << ": metadata must be a JSON object, not " << b.metadata.type_name());
  std::string meta;
  try {
    meta = b.metadata.dump();
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW(ctx << ": metadata cannot be serialised: " << e.what());
  }

  size_t estimate = meta.size() + 256;
  for (const auto& [name, v] : b.id_lists) estimate += name.size() + 16 + v.size() * 8;
  for (const auto& [name, v] : b.string_lists) {
    estimate += name.size() + 16;
    for (const auto& s : v) estimate += s.size() + 4;
  }
  for (const auto& t : b.tensors) estimate += t.name.size() + 64 + t.data.size() * 4;

  std::string out;
  out.reserve(estimate);
  ByteWriter w(out);

  w.raw(kTagMeta, 4);
  w.u64(meta.size());
  w.raw(meta.data(), meta.size());

  std::set<std::string_view> seen;
  check_section_count(ctx, "id list", b.id_lists.size());
  w.raw(kTagIds, 4);
  w.u32(static_cast<uint32_t>(b.id_lists.size()));
  for (const auto& [name, v] : b.id_lists) {
    check_name(ctx, "id list", name, seen);
    w.bytes32(name);
    w.u64(v.size());
    w.i64s(v);
  }

  seen.clear();
  check_section_count(ctx, "string list", b.string_lists.size());
  w.raw(kTagStrings, 4);
  w.u32(static_cast<uint32_t>(b.string_lists.size()));
  for (const auto& [name, v] : b.string_lists) {
    check_name(ctx, "string list", name, seen);
    w.bytes32(name);
    w.u64(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      TANDEM_CHECK(v[i].size() <= kMaxStringBytes,
                   ctx << ": string list " << in_quotes(name) << " entry " << i << " has "
                       << v[i].size() << " bytes, over the limit of " << kMaxStringBytes);
      w.bytes32(v[i]);
    }
  }

  seen.clear();
  check_section_count(ctx, "tensor", b.tensors.size());
  w.raw(kTagTensors, 4);
  w.u32(static_cast<uint32_t>(b.tensors.size()));
  for (const auto& t : b.tensors) {
    check_name(ctx, "tensor", t.name, seen);
    TANDEM_CHECK(t.shape.size() <= kMaxRank, ctx << ": tensor " << in_quotes(t.name) << " has rank "
                                                 << t.shape.size() << ", over the limit of "
                                                 << kMaxRank);
    uint64_t n = 0;
    TANDEM_CHECK(shape_elements(t.shape, n) && n == t.data.size(),
                 ctx << ": tensor " << in_quotes(t.name) << " shape " << shape_text(t.shape)
                     << " does not match its " << t.data.size() << " values");
    w.bytes32(t.name);
    w.u32(static_cast<uint32_t>(t.shape.size()));
    w.i64s(t.shape);
    w.u64(t.data.size());
    w.f32s(t.data);
  }
  return out;
}

std::string encode_with_context(const ModelBundle& bundle, const std::string& ctx) {
  const std::string payload = encode_payload(bundle, ctx);
  std::string out;
  out.reserve(kHeaderBytes + payload.size() + kChecksumBytes);
  ByteWriter w(out);
  w.raw(kMagic, sizeof kMagic);
  w.u32(kModelFormatVersion);
  w.u32(0);
  w.u64(payload.size());
  w.raw(payload.data(), payload.size());
  w.u64(XXH64(payload.data(), payload.size(), 0));
  return out;
}

// ---------------------------------------------------------------- reading

template <typename U>
U load_le(const char* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i)
    v |= static_cast<U>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// Reads the checksummed payload. A bad length here means the writer was
// broken or the bytes were forged, since the checksum already matched; every
// count is still checked against the bytes left before anything is allocated.
class ByteReader {
 public:
  ByteReader(std::string_view bytes, const std::string& source) : rest_(bytes), source_(source) {}

  size_t remaining() const { return rest_.size(); }

  [[noreturn]] void fail(const std::string& what) const {
    TANDEM_THROW(source_ << ": corrupt payload: " << what);
  }

  std::string_view take(uint64_t n, const std::string& what) {
    if (n > rest_.size())
      fail(what + " needs " + std::to_string(n) + " bytes but only " +
           std::to_string(rest_.size()) + " remain");
    std::string_view out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return out;
  }

  uint32_t u32(const std::string& what) { return load_le<uint32_t>(take(4, what).data()); }
  uint64_t u64(const std::string& what) { return load_le<uint64_t>(take(8, what).data()); }

  void tag(const char (&expected)[4], const char* section) {
    std::string_view got = take(4, std::string(section) + " section tag");
    if (got != std::string_view(expected, 4))
      fail(std::string("expected the ") + section + " section tag " +
           in_quotes(std::string_view(expected, 4)) + " but found other bytes");
  }

  // A count of items each at least `min_item_bytes` long, checked against the
  // bytes left so that a forged count cannot drive an allocation.
  uint64_t count(uint64_t n, uint64_t min_item_bytes, const std::string& what) {
    if (min_item_bytes > 0 && n > rest_.size() / min_item_bytes)
      fail(what + " claims " + std::to_string(n) + " entries of at least " +
           std::to_string(min_item_bytes) + " bytes but only " + std::to_string(rest_.size()) +
           " bytes remain");
    return n;
  }

  std::string name(const char* kind, std::set<std::string>& seen) {
    const uint32_t len = u32(std::string(kind) + " name length");
    if (len == 0) fail(std::string(kind) + " with an empty name");
    if (len > kMaxNameBytes)
      fail(std::string(kind) + " name length " + std::to_string(len) + " exceeds the limit of " +
           std::to_string(kMaxNameBytes));
    std::string n(take(len, std::string(kind) + " name"));
    if (!seen.insert(n).second) fail("duplicate " + std::string(kind) + " name " + in_quotes(n));
    return n;
  }

  std::vector<int64_t> i64s(uint64_t n, const std::string& what) {
    count(n, 8, what);
    std::string_view b = take(n * 8, what);
    std::vector<int64_t> v(n);
    if constexpr (kLittleEndian) {
      if (n) std::memcpy(v.data(), b.data(), n * 8);
    } else {
      for (uint64_t i = 0; i < n; ++i) v[i] = static_cast<int64_t>(load_le<uint64_t>(b.data() + 8 * i));
    }
    return v;
  }

  std::vector<float> f32s(uint64_t n, const std::string& what) {
    count(n, 4, what);
    std::string_view b = take(n * 4, what);
    std::vector<float> v(n);
    if constexpr (kLittleEndian) {
      if (n) std::memcpy(v.data(), b.data(), n * 4);
    } else {
      for (uint64_t i = 0; i < n; ++i)
        v[i] = std::bit_cast<float>(load_le<uint32_t>(b.data() + 4 * i));
    }
    return v;
  }

 private:
  std::string_view rest_;
  const std::string& source_;
};

ModelBundle decode_payload(std::string_view payload, const std::string& source) {
  ByteReader r(payload, source);
  ModelBundle b;

  r.tag(kTagMeta, "metadata");
  const uint64_t meta_len = r.u64("metadata length");
  std::string_view meta = r.take(meta_len, "metadata");
  try {
    b.metadata = nlohmann::json::parse(meta.begin(), meta.end());
  } catch (const nlohmann::json::exception& e) {
    r.fail(std::string("metadata is not valid JSON: ") + e.what());
  }
  if (!b.metadata.is_object())
    r.fail(std::string("metadata is a JSON ") + b.metadata.type_name() + ", not an object");

  // Smallest possible entries: name (4 + 1) plus a u64 count; for tensors also
  // a u32 rank.
  constexpr uint64_t kMinListEntry = 4 + 1 + 8;
  constexpr uint64_t kMinTensorEntry = 4 + 1 + 4 + 8;

  std::set<std::string> seen;
  r.tag(kTagIds, "id list");
  const uint64_t n_ids = r.count(r.u32("id list count"), kMinListEntry, "id list section");
  b.id_lists.reserve(n_ids);
  for (uint64_t i = 0; i < n_ids; ++i) {
    std::string name = r.name("id list", seen);
    const std::string what = "id list " + in_quotes(name);
    const uint64_t n = r.u64(what + " length");
    b.id_lists.emplace_back(std::move(name), r.i64s(n, what));
  }

  seen.clear();
  r.tag(kTagStrings, "string list");
  const uint64_t n_strs = r.count(r.u32("string list count"), kMinListEntry, "string list section");
  b.string_lists.reserve(n_strs);
  for (uint64_t i = 0; i < n_strs; ++i) {
    std::string name = r.name("string list", seen);
    const std::string what = "string list " + in_quotes(name);
    const uint64_t n = r.count(r.u64(what + " length"), 4, what);
    std::vector<std::string> v;
    v.reserve(n);
    for (uint64_t j = 0; j < n; ++j) {
      const uint32_t len = r.u32(what + " string length");
      if (len > kMaxStringBytes)
        r.fail(what + " entry " + std::to_string(j) + " claims " + std::to_string(len) +
               " bytes, over the limit of " + std::to_string(kMaxStringBytes));
      v.emplace_back(r.take(len, what + " entry " + std::to_string(j)));
    }
    b.string_lists.emplace_back(std::move(name), std::move(v));
  }

  seen.clear();
  r.tag(kTagTensors, "tensor");
  const uint64_t n_tensors = r.count(r.u32("tensor count"), kMinTensorEntry, "tensor section");
  b.tensors.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    Tensor t;
    t.name = r.name("tensor", seen);
    const std::string what = "tensor " + in_quotes(t.name);
    const uint32_t rank = r.u32(what + " rank");
    if (rank > kMaxRank)
      r.fail(what + " has rank " + std::to_string(rank) + ", over the limit of " +
             std::to_string(kMaxRank));
    t.shape = r.i64s(rank, what + " shape");
    uint64_t expected = 0;
    if (!shape_elements(t.shape, expected))
      r.fail(what + " has an invalid shape " + shape_text(t.shape) +
             " (negative dimension or element count overflow)");
    const uint64_t n = r.u64(what + " value count");
    if (n != expected)
      r.fail(what + " shape " + shape_text(t.shape) + " holds " + std::to_string(expected) +
             " values but the file stores " + std::to_string(n));
    t.data = r.f32s(n, what + " values");
    b.tensors.push_back(std::move(t));
  }

  if (r.remaining() != 0)
    r.fail(std::to_string(r.remaining()) + " unexpected bytes after the last section");
  return b;
}

}  // namespace

const Tensor& ModelBundle::tensor(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return t;
  TANDEM_THROW("model file has no tensor " << in_quotes(name));
}

const std::vector<int64_t>* ModelBundle::find_ids(const std::string& name) const {
  for (const auto& [n, v] : id_lists)
    if (n == name) return &v;
  return nullptr;
}

const std::vector<int64_t>& ModelBundle::ids(const std::string& name) const {
  if (const auto* v = find_ids(name)) return *v;
  TANDEM_THROW("model file has no id list " << in_quotes(name));
}

const std::vector<std::string>& ModelBundle::strings(const std::string& name) const {
  for (const auto& [n, v] : string_lists)
    if (n == name) return v;
  TANDEM_THROW("model file has no string list " << in_quotes(name));
}

std::string encode_model(const ModelBundle& bundle) {
  return encode_with_context(bundle, "encode_model");
}

ModelBundle decode_model(const std::string& bytes, const std::string& source) {
  const size_t size = bytes.size();
  const char* p = bytes.data();

  // Magic first, judged on whatever bytes exist, so that a short foreign file
  // is called foreign rather than truncated.
  const size_t magic_have = std::min(size, sizeof kMagic);
  TANDEM_CHECK(std::memcmp(p, kMagic, magic_have) == 0,
               source << ": not a Tandem model file (bad magic)");
  TANDEM_CHECK(size >= sizeof kMagic + 4, source << ": truncated: the header needs "
                                                 << kHeaderBytes << " bytes but the file has "
                                                 << size);
  // The version comes before every other check: a newer file may lay out
  // everything after it differently, so only the version message is reliable.
  const uint32_t version = load_le<uint32_t>(p + 8);
  TANDEM_CHECK(version == kModelFormatVersion,
               source << ": unsupported format version " << version << " (this build reads version "
                      << kModelFormatVersion << ")");
  TANDEM_CHECK(size >= kHeaderBytes, source << ": truncated: the header needs " << kHeaderBytes
                                            << " bytes but the file has " << size);
  const uint32_t flags = load_le<uint32_t>(p + 12);
  TANDEM_CHECK(flags == 0, source << ": unsupported flags 0x" << std::hex << flags
                                  << " (this build knows none)");
  const uint64_t payload_len = load_le<uint64_t>(p + 16);

  const uint64_t after_header = size - kHeaderBytes;
  TANDEM_CHECK(payload_len <= after_header && after_header - payload_len >= kChecksumBytes,
               source << ": truncated: the header declares a " << payload_len
                      << "-byte payload plus an " << kChecksumBytes << "-byte checksum but only "
                      << after_header << " bytes follow the header");
  TANDEM_CHECK(after_header - payload_len == kChecksumBytes,
               source << ": " << (after_header - payload_len - kChecksumBytes)
                      << " trailing bytes after the checksum");

  const std::string_view payload(p + kHeaderBytes, payload_len);
  const uint64_t stored = load_le<uint64_t>(p + kHeaderBytes + payload_len);
  TANDEM_CHECK(XXH64(payload.data(), payload.size(), 0) == stored,
               source << ": checksum mismatch: file is corrupt");
  return decode_payload(payload, source);
}

void write_model_file(const std::string& path, const ModelBundle& bundle) {
  // Streamed: the file's bytes are never held whole (they equal
  // encode_model's; the tests compare the two).
  write_model_sections(path, sections_of(bundle));
}

ModelBundle read_model_file(const std::string& path) {
  return decode_model(read_regular_file(path, "model file"), path);
}

}  // namespace tandem
