#include "tandem/io/model_file_stream.h"

#include <algorithm>
#include <bit>
#include <iterator>
#include <limits>
#include <set>
#include <string_view>
#include <type_traits>

#include "tandem/core/atomic_file.h"
#include "tandem/core/error.h"
#include "tandem/io/checksum.h"
#include "tandem/io/model_file_format.h"

namespace tandem {

namespace {

using namespace model_format;

constexpr size_t kBufferBytes = size_t{1} << 20;
// Values per chunk when an int32 list is widened (512 KiB of int64).
constexpr size_t kWidenChunk = size_t{1} << 16;

// The payload on its way to the temporary file: buffered, and hashed as it
// leaves the buffer.
class PayloadWriter {
 public:
  explicit PayloadWriter(AtomicFile& file) : file_(file) { buf_.reserve(kBufferBytes); }

  void raw(const void* p, size_t n) {
    if (n == 0) return;
    if (buf_.size() + n > kBufferBytes) flush();
    written_ += n;
    if (n >= kBufferBytes) {  // a large block goes straight through
      hash_.update(p, n);
      file_.write(static_cast<const char*>(p), n);
      return;
    }
    const auto* c = static_cast<const char*>(p);
    buf_.insert(buf_.end(), c, c + n);
  }

  template <typename U>
  void uint(U v) {
    static_assert(std::is_unsigned_v<U>);
    char b[sizeof(U)];
    for (size_t i = 0; i < sizeof(U); ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    raw(b, sizeof(U));
  }
  void u32(uint32_t v) { uint(v); }
  void u64(uint64_t v) { uint(v); }

  void i64s(const int64_t* v, size_t n) {
    if constexpr (kLittleEndian) {
      raw(v, n * sizeof(int64_t));
    } else {
      for (size_t i = 0; i < n; ++i) u64(static_cast<uint64_t>(v[i]));
    }
  }

  void f32s(const float* v, size_t n) {
    if constexpr (kLittleEndian) {
      raw(v, n * sizeof(float));
    } else {
      for (size_t i = 0; i < n; ++i) u32(std::bit_cast<uint32_t>(v[i]));
    }
  }

  void bytes32(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    raw(s.data(), s.size());
  }

  void flush() {
    if (buf_.empty()) return;
    hash_.update(buf_.data(), buf_.size());
    file_.write(buf_.data(), buf_.size());
    buf_.clear();
  }

  uint64_t written() const { return written_; }
  uint64_t digest() {
    flush();
    return hash_.digest();
  }

 private:
  AtomicFile& file_;
  std::vector<char> buf_;
  Xxh64Stream hash_;
  uint64_t written_ = 0;
};

// a + b, refusing a payload too large for the header's u64 (only forged
// counts get near it).
uint64_t plus(uint64_t a, uint64_t b, const std::string& ctx) {
  uint64_t out = 0;
  TANDEM_CHECK(!__builtin_add_overflow(a, b, &out), ctx << ": the model is too large to encode");
  return out;
}

uint64_t times(uint64_t a, uint64_t b, const std::string& ctx) {
  uint64_t out = 0;
  TANDEM_CHECK(!__builtin_mul_overflow(a, b, &out), ctx << ": the model is too large to encode");
  return out;
}

// Every check encode_model makes, in its order, and the payload's length.
uint64_t checked_payload_bytes(const ModelSections& s, const std::string& meta, const std::string& ctx) {
  uint64_t n = 4 + 8 + meta.size();

  std::set<std::string_view> seen;
  check_section_count(ctx, "id list", s.id_lists.size());
  n += 4 + 4;
  for (const auto& l : s.id_lists) {
    check_name(ctx, "id list", l.name, seen);
    TANDEM_CHECK(l.produce || l.count == 0,
                 ctx << ": id list " << in_quotes(l.name) << " has " << l.count << " values and no producer");
    n = plus(n, plus(4 + 8 + l.name.size(), times(l.count, 8, ctx), ctx), ctx);
  }

  seen.clear();
  check_section_count(ctx, "string list", s.string_lists.size());
  n += 4 + 4;
  for (const auto& l : s.string_lists) {
    check_name(ctx, "string list", l.name, seen);
    n += 4 + 8 + l.name.size();
    if (l.values == nullptr) continue;
    const auto& v = *l.values;
    for (size_t i = 0; i < v.size(); ++i) {
      TANDEM_CHECK(v[i].size() <= kMaxStringBytes,
                   ctx << ": string list " << in_quotes(l.name) << " entry " << i << " has " << v[i].size()
                       << " bytes, over the limit of " << kMaxStringBytes);
      n = plus(n, 4 + v[i].size(), ctx);
    }
  }

  seen.clear();
  check_section_count(ctx, "tensor", s.tensors.size());
  n += 4 + 4;
  for (const auto& t : s.tensors) {
    check_name(ctx, "tensor", t.name, seen);
    TANDEM_CHECK(t.shape.size() <= kMaxRank, ctx << ": tensor " << in_quotes(t.name) << " has rank "
                                                 << t.shape.size() << ", over the limit of " << kMaxRank);
    uint64_t elements = 0;
    TANDEM_CHECK(shape_elements(t.shape, elements) && elements == t.count,
                 ctx << ": tensor " << in_quotes(t.name) << " shape " << shape_text(t.shape)
                     << " does not match its " << t.count << " values");
    TANDEM_CHECK(t.data != nullptr || t.count == 0,
                 ctx << ": tensor " << in_quotes(t.name) << " has " << t.count << " values and no data");
    n = plus(n, plus(4 + t.name.size() + 4 + 8 * t.shape.size() + 8, times(t.count, 4, ctx), ctx), ctx);
  }
  return n;
}

void write_payload(PayloadWriter& w, const ModelSections& s, const std::string& meta, const std::string& ctx) {
  w.raw(kTagMeta, 4);
  w.u64(meta.size());
  w.raw(meta.data(), meta.size());

  w.raw(kTagIds, 4);
  w.u32(static_cast<uint32_t>(s.id_lists.size()));
  for (const auto& l : s.id_lists) {
    w.bytes32(l.name);
    w.u64(l.count);
    if (!l.produce) continue;  // count is 0 (checked)
    uint64_t got = 0;
    l.produce([&](const int64_t* v, size_t n) {
      TANDEM_CHECK(n <= l.count - got, ctx << ": id list " << in_quotes(l.name)
                                           << " produced more than its " << l.count << " values");
      w.i64s(v, n);
      got += n;
    });
    TANDEM_CHECK(got == l.count, ctx << ": id list " << in_quotes(l.name) << " produced " << got << " of its "
                                     << l.count << " values");
  }

  w.raw(kTagStrings, 4);
  w.u32(static_cast<uint32_t>(s.string_lists.size()));
  for (const auto& l : s.string_lists) {
    w.bytes32(l.name);
    w.u64(l.values == nullptr ? 0 : l.values->size());
    if (l.values != nullptr)
      for (const auto& v : *l.values) w.bytes32(v);
  }

  w.raw(kTagTensors, 4);
  w.u32(static_cast<uint32_t>(s.tensors.size()));
  for (const auto& t : s.tensors) {
    w.bytes32(t.name);
    w.u32(static_cast<uint32_t>(t.shape.size()));
    w.i64s(t.shape.data(), t.shape.size());
    w.u64(t.count);
    w.f32s(t.data, t.count);
  }
}

}  // namespace

IdListSection id_list_of(std::string name, const std::vector<int64_t>& values) {
  return {std::move(name), values.size(), [&values](const IdChunkSink& sink) {
            if (!values.empty()) sink(values.data(), values.size());
          }};
}

IdListSection id_list_widened(std::string name, const std::vector<int32_t>& values) {
  return {std::move(name), values.size(), [&values](const IdChunkSink& sink) {
            std::vector<int64_t> chunk(std::min(kWidenChunk, values.size()));
            for (size_t i = 0; i < values.size(); i += kWidenChunk) {
              const size_t n = std::min(kWidenChunk, values.size() - i);
              std::copy(values.begin() + static_cast<std::ptrdiff_t>(i),
                        values.begin() + static_cast<std::ptrdiff_t>(i + n), chunk.begin());
              sink(chunk.data(), n);
            }
          }};
}

ModelSections sections_of(const ModelBundle& b) {
  ModelSections s;
  s.metadata = b.metadata;
  for (const auto& [name, v] : b.id_lists) s.id_lists.push_back(id_list_of(name, v));
  for (const auto& [name, v] : b.string_lists) s.string_lists.push_back({name, &v});
  for (const auto& t : b.tensors) s.tensors.push_back({t.name, t.shape, t.data.data(), t.data.size()});
  return s;
}

ModelBundle bundle_of(const ModelSections& s) {
  ModelBundle b;
  b.metadata = s.metadata;
  for (const auto& l : s.id_lists) {
    std::vector<int64_t> v;
    if (l.produce) l.produce([&](const int64_t* p, size_t n) { v.insert(v.end(), p, p + n); });
    b.id_lists.emplace_back(l.name, std::move(v));
  }
  for (const auto& l : s.string_lists)
    b.string_lists.emplace_back(l.name, l.values == nullptr ? std::vector<std::string>{} : *l.values);
  for (const auto& t : s.tensors)
    b.tensors.push_back({t.name, t.shape, t.count == 0 ? std::vector<float>{} : std::vector<float>(t.data, t.data + t.count)});
  return b;
}

void write_model_sections(const std::string& path, const ModelSections& s) {
  TANDEM_CHECK(s.metadata.is_object(),
               path << ": metadata must be a JSON object, not " << s.metadata.type_name());
  std::string meta;
  try {
    meta = s.metadata.dump();
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW(path << ": metadata cannot be serialised: " << e.what());
  }
  const uint64_t payload_len = checked_payload_bytes(s, meta, path);

  AtomicFile file(path);
  char header[kHeaderBytes];
  std::copy(std::begin(kMagic), std::end(kMagic), header);
  const auto put = [&header](size_t at, uint64_t v, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i) header[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  put(8, kModelFormatVersion, 4);
  put(12, 0, 4);  // flags
  put(16, payload_len, 8);
  file.write(header, sizeof header);

  PayloadWriter w(file);
  write_payload(w, s, meta, path);
  const uint64_t digest = w.digest();
  TANDEM_CHECK(w.written() == payload_len, path << ": internal error: wrote " << w.written()
                                                << " payload bytes, the header declares " << payload_len);
  char sum[kChecksumBytes];
  for (size_t i = 0; i < kChecksumBytes; ++i) sum[i] = static_cast<char>((digest >> (8 * i)) & 0xFF);
  file.write(sum, sizeof sum);
  file.commit();
}

}  // namespace tandem
