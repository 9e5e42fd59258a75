#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "io/alloc_probe.h"
#include "io/model_file_helpers.h"
#include "tandem/core/error.h"
#include "tandem/io/model_file.h"

namespace tandem_test {
namespace {

using tandem::decode_model;
using tandem::encode_model;
using tandem::ModelBundle;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(ModelFileCodec, RoundTripsEverySection) {
  const ModelBundle in = sample_bundle();
  const std::string bytes = encode_model(in);
  const ModelBundle out = decode_model(bytes, "mem");
  expect_same(in, out);
  EXPECT_EQ(out.metadata["title"], "Caf\u00e9 \u65e5\u672c");
  EXPECT_EQ(out.strings("titles")[1], "");
  // Bit-level float identity, not just ==, so -0.0 and denormals are covered.
  EXPECT_TRUE(std::signbit(out.tensor("bias").data[0]));
  EXPECT_EQ(out.tensor("bias").data[1], std::numeric_limits<float>::denorm_min());
}

TEST(ModelFileCodec, RoundTripsAnEmptyBundle) {
  const ModelBundle in;
  const std::string bytes = encode_model(in);
  const ModelBundle out = decode_model(bytes, "mem");
  expect_same(in, out);
  EXPECT_TRUE(out.metadata.is_object());
  EXPECT_TRUE(out.metadata.empty());
}

TEST(ModelFileCodec, EncodingIsDeterministic) {
  EXPECT_EQ(encode_model(sample_bundle()), encode_model(sample_bundle()));
}

TEST(ModelFileCodec, HeaderMatchesTheDocumentedLayout) {
  const std::string bytes = encode_model(sample_bundle());
  ASSERT_GE(bytes.size(), kHeaderBytes + 8);
  EXPECT_EQ(bytes.substr(0, 8), std::string("TANDEM\x00\x1a", 8));
  EXPECT_EQ(bytes.substr(8, 4), std::string("\x01\x00\x00\x00", 4));
  EXPECT_EQ(bytes.substr(12, 4), std::string(4, '\0'));
  EXPECT_EQ(get_u64(bytes, 16), bytes.size() - kHeaderBytes - 8);
  EXPECT_EQ(get_u64(bytes, bytes.size() - 8),
            XXH64(bytes.data() + kHeaderBytes, bytes.size() - kHeaderBytes - 8, 0));
}

TEST(ModelFileCodec, LookupsByName) {
  const ModelBundle b = sample_bundle();
  EXPECT_EQ(b.ids("item_ids"), (std::vector<int64_t>{42, 7}));
  EXPECT_EQ(b.strings("titles").size(), 4u);
  EXPECT_EQ(b.tensor("embedding").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(error_of([&] { b.tensor("x"); }), "model file has no tensor 'x'");
  EXPECT_EQ(error_of([&] { b.ids("x"); }), "model file has no id list 'x'");
  EXPECT_EQ(error_of([&] { b.strings("x"); }), "model file has no string list 'x'");
  // Kinds are separate name spaces.
  EXPECT_EQ(error_of([&] { b.tensor("user_ids"); }), "model file has no tensor 'user_ids'");
}

TEST(ModelFileCodec, TruncationAtEveryOffsetIsRefused) {
  const std::string bytes = encode_model(sample_bundle());
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string msg = decode_error(bytes.substr(0, n));
    EXPECT_TRUE(starts_with(msg, "mem: truncated: ")) << "at " << n << ": " << msg;
  }
}

TEST(ModelFileCodec, EverySingleBitFlipIsRefused) {
  const std::string bytes = encode_model(sample_bundle());
  const size_t checksum_at = bytes.size() - 8;
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = bytes;
      bad[at] = static_cast<char>(bad[at] ^ (1 << bit));
      const std::string msg = decode_error(bad);
      SCOPED_TRACE("byte " + std::to_string(at) + " bit " + std::to_string(bit) + ": " + msg);
      ASSERT_TRUE(starts_with(msg, "mem: "));
      if (at < 8) {
        EXPECT_TRUE(has(msg, "bad magic"));
      } else if (at < 12) {
        EXPECT_TRUE(has(msg, "unsupported format version"));
      } else if (at < 16) {
        EXPECT_TRUE(has(msg, "unsupported flags"));
      } else if (at < kHeaderBytes) {
        EXPECT_TRUE(has(msg, "truncated") || has(msg, "trailing bytes"));
      } else {
        (void)checksum_at;
        EXPECT_TRUE(has(msg, "checksum mismatch: file is corrupt"));
      }
    }
  }
}

TEST(ModelFileCodec, BadMagicIsRefused) {
  EXPECT_EQ(decode_error("PK\x03\x04 this is a zip, honest", "m.zip"),
            "m.zip: not a Tandem model file (bad magic)");
  EXPECT_EQ(decode_error("{\"json\": true}", "m.json"),
            "m.json: not a Tandem model file (bad magic)");
  // Too short to hold a header but already not ours: foreign, not truncated.
  EXPECT_EQ(decode_error("TAX", "m"), "m: not a Tandem model file (bad magic)");
}

TEST(ModelFileCodec, NewerVersionGetsTheVersionMessage) {
  std::string bytes = encode_model(sample_bundle());
  put_u32(bytes, 8, 7);
  EXPECT_EQ(decode_error(bytes, "new.tdm"),
            "new.tdm: unsupported format version 7 (this build reads version 1)");
  // A newer format may checksum differently or be laid out differently after
  // the version; the version message must still win.
  bytes.back() = static_cast<char>(bytes.back() ^ 0xFF);
  EXPECT_EQ(decode_error(bytes, "new.tdm"),
            "new.tdm: unsupported format version 7 (this build reads version 1)");
  EXPECT_EQ(decode_error(bytes.substr(0, 12), "new.tdm"),
            "new.tdm: unsupported format version 7 (this build reads version 1)");
}

TEST(ModelFileCodec, TrailingBytesAreRefused) {
  std::string bytes = encode_model(sample_bundle());
  bytes += '\0';
  EXPECT_EQ(decode_error(bytes), "mem: 1 trailing bytes after the checksum");
}

TEST(ModelFileCodec, AbsurdHeaderLengthIsRefused) {
  const std::string good = encode_model(sample_bundle());
  for (uint64_t len : {uint64_t{1} << 60, std::numeric_limits<uint64_t>::max(),
                       std::numeric_limits<uint64_t>::max() - 7}) {
    std::string bad = good;
    put_u64(bad, 16, len);
    AllocProbe probe;
    const std::string msg = decode_error(bad);
    EXPECT_TRUE(starts_with(msg, "mem: truncated: ")) << msg;
    EXPECT_LT(probe.largest(), size_t{1} << 20);
  }
}

// Each case forges one length inside the payload and reseals the file, so the
// checksum passes and the length check itself must catch it.
struct Forgery {
  const char* label;
  void (*apply)(std::string&);
  const char* expect;  // part of the message
};

void forge_u64_after(std::string& s, const std::string& needle, uint64_t v) {
  put_u64(s, after(s, needle), v);
}

const Forgery kForgeries[] = {
    {"metadata length 2^60",
     [](std::string& s) { put_u64(s, kHeaderBytes + 4, uint64_t{1} << 60); }, "metadata needs"},
    {"metadata length max",
     [](std::string& s) { put_u64(s, kHeaderBytes + 4, ~uint64_t{0}); }, "metadata needs"},
    {"id list count max",
     [](std::string& s) { put_u32(s, after(s, "IDS "), 0xFFFFFFFFu); }, "id list section claims"},
    {"id list length 2^60", [](std::string& s) { forge_u64_after(s, "user_ids", uint64_t{1} << 60); },
     "id list 'user_ids' claims"},
    // n * 8 wraps to a small number: must not slip through as a short read.
    {"id list length wraps",
     [](std::string& s) { forge_u64_after(s, "user_ids", (uint64_t{1} << 61) + 1); },
     "id list 'user_ids' claims"},
    {"id list length off by one", [](std::string& s) { forge_u64_after(s, "item_ids", 3); },
     "corrupt payload"},
    {"name length max",
     [](std::string& s) { put_u32(s, after(s, "IDS ") + 4, 0xFFFFFFFFu); }, "exceeds the limit"},
    {"name length zero", [](std::string& s) { put_u32(s, after(s, "IDS ") + 4, 0); },
     "empty name"},
    {"string list length 2^60",
     [](std::string& s) { forge_u64_after(s, "titles", uint64_t{1} << 60); },
     "string list 'titles' claims"},
    {"string length over limit",
     [](std::string& s) { put_u32(s, after(s, "titles") + 8, 0xFFFFFFF0u); }, "over the limit"},
    {"string length past the end",
     [](std::string& s) { put_u32(s, after(s, "titles") + 8, 1u << 20); }, "entry 0 needs"},
    {"tensor count max",
     [](std::string& s) { put_u32(s, after(s, "TENS"), 0xFFFFFFFFu); }, "tensor section claims"},
    {"tensor rank 9", [](std::string& s) { put_u32(s, after(s, "embedding"), 9); },
     "has rank 9, over the limit of 8"},
    {"tensor rank max", [](std::string& s) { put_u32(s, after(s, "embedding"), 0xFFFFFFFFu); },
     "over the limit of 8"},
    {"tensor dim mismatched",
     [](std::string& s) { forge_u64_after(s, std::string("embedding\x02\0\0\0", 13), 4); },
     "holds 12 values but the file stores 6"},
    {"tensor dims overflow",
     [](std::string& s) {
       const size_t at = after(s, std::string("embedding\x02\0\0\0", 13));
       put_u64(s, at, uint64_t{1} << 40);
       put_u64(s, at + 8, uint64_t{1} << 40);
     },
     "invalid shape"},
    {"tensor dim negative",
     [](std::string& s) {
       forge_u64_after(s, std::string("embedding\x02\0\0\0", 13), static_cast<uint64_t>(-2));
     },
     "invalid shape [-2, 3]"},
    {"tensor value count 2^60 with matching shape",
     [](std::string& s) {
       const size_t at = after(s, std::string("embedding\x02\0\0\0", 13));
       put_u64(s, at, uint64_t{1} << 30);
       put_u64(s, at + 8, uint64_t{1} << 30);
       put_u64(s, at + 16, uint64_t{1} << 60);
     },
     "claims 1152921504606846976 entries"},
    {"tensor value count 2^60",
     [](std::string& s) {
       put_u64(s, after(s, std::string("bias\x01\0\0\0", 8)) + 8, uint64_t{1} << 60);
     },
     "holds 3 values but the file stores"},
};

TEST(ModelFileCodec, ForgedLengthsAreRefusedWithoutAllocating) {
  const std::string good = encode_model(sample_bundle());
  for (const Forgery& f : kForgeries) {
    SCOPED_TRACE(f.label);
    std::string bad = good;
    f.apply(bad);
    ASSERT_NE(bad, good);
    reseal(bad);
    AllocProbe probe;
    const std::string msg = decode_error(bad, "forged.tdm");
    EXPECT_TRUE(starts_with(msg, "forged.tdm: corrupt payload: ")) << msg;
    EXPECT_TRUE(has(msg, f.expect)) << msg;
    // Far below any forged size; the whole file is a few hundred bytes.
    EXPECT_LT(probe.largest(), size_t{1} << 16);
  }
}

TEST(ModelFileCodec, MetadataMustBeAJsonObject) {
  ModelBundle b;
  b.metadata = nlohmann::json::object();
  const std::string good = encode_model(b);
  const size_t text_at = kHeaderBytes + 4 + 8;
  ASSERT_EQ(good.substr(text_at, 2), "{}");

  std::string bad = good;
  bad.replace(text_at, 2, "[]");
  reseal(bad);
  EXPECT_EQ(decode_error(bad), "mem: corrupt payload: metadata is a JSON array, not an object");

  bad = good;
  bad.replace(text_at, 2, "{x");
  reseal(bad);
  const std::string msg = decode_error(bad);
  EXPECT_TRUE(starts_with(msg, "mem: corrupt payload: metadata is not valid JSON: ")) << msg;
}

TEST(ModelFileCodec, DuplicateNamesAreRefusedOnDecode) {
  ModelBundle b;
  b.id_lists = {{"dup_a", {1}}, {"dup_b", {2}}};
  b.tensors = {{"t_a", {1}, {1.0f}}, {"t_b", {1}, {2.0f}}};
  const std::string good = encode_model(b);

  std::string bad = good;
  bad.replace(after(bad, "dup_b") - 5, 5, "dup_a");
  reseal(bad);
  EXPECT_EQ(decode_error(bad), "mem: corrupt payload: duplicate id list name 'dup_a'");

  bad = good;
  bad.replace(after(bad, "t_b") - 3, 3, "t_a");
  reseal(bad);
  EXPECT_EQ(decode_error(bad), "mem: corrupt payload: duplicate tensor name 't_a'");
}

TEST(ModelFileCodec, ExtraPayloadBytesAndBadTagsAreRefused) {
  const std::string good = encode_model(ModelBundle{});

  std::string bad = good;
  bad.insert(bad.size() - 8, "junk");
  reseal(bad);
  EXPECT_EQ(decode_error(bad), "mem: corrupt payload: 4 unexpected bytes after the last section");

  bad = good;
  bad.replace(after(bad, "TENS") - 4, 4, "TENZ");
  reseal(bad);
  EXPECT_TRUE(has(decode_error(bad), "expected the tensor section tag 'TENS'"));
}

TEST(ModelFileCodec, EncodeRefusesWhatDecodeWouldRefuse) {
  auto encode_error = [](const ModelBundle& b) { return error_of([&] { encode_model(b); }); };

  ModelBundle b;
  b.tensors = {{"t", {2, 3}, std::vector<float>(5)}};
  EXPECT_EQ(encode_error(b), "encode_model: tensor 't' shape [2, 3] does not match its 5 values");

  b.tensors = {{"t", {-1}, {}}};
  EXPECT_TRUE(has(encode_error(b), "tensor 't' shape [-1]"));

  b.tensors = {{"t", std::vector<int64_t>(9, 1), {1.0f}}};
  EXPECT_TRUE(has(encode_error(b), "has rank 9, over the limit of 8"));

  b.tensors = {{"t", {1}, {1.0f}}, {"t", {1}, {2.0f}}};
  EXPECT_EQ(encode_error(b), "encode_model: duplicate tensor name 't'");

  b = ModelBundle{};
  b.id_lists = {{"", {1}}};
  EXPECT_EQ(encode_error(b), "encode_model: id list with an empty name");

  b = ModelBundle{};
  b.string_lists = {{std::string(2000, 'n'), {}}};
  EXPECT_TRUE(has(encode_error(b), "exceeds the limit"));

  b = ModelBundle{};
  b.string_lists = {{"s", {std::string((1u << 20) + 1, 's')}}};
  EXPECT_TRUE(has(encode_error(b), "string list 's' entry 0"));

  b = ModelBundle{};
  b.metadata = nlohmann::json::array();
  EXPECT_EQ(encode_error(b), "encode_model: metadata must be a JSON object, not array");

  b.metadata = {{"bad", std::string("\xff\xfe")}};
  EXPECT_TRUE(has(encode_error(b), "metadata cannot be serialised"));
}

TEST(ModelFileCodec, RankZeroAndLargeTensorsRoundTrip) {
  ModelBundle b;
  b.tensors.push_back({"scalar", {}, {3.5f}});
  tandem::Tensor big{"big", {1000, 64}, std::vector<float>(64000)};
  for (size_t i = 0; i < big.data.size(); ++i) big.data[i] = static_cast<float>(i) * 0.001f - 7.0f;
  b.tensors.push_back(big);
  expect_same(b, decode_model(encode_model(b), "mem"));
}

}  // namespace
}  // namespace tandem_test

namespace tandem_test {
namespace {

// Guards the guard: the allocation checks above mean nothing if the probe
// cannot see allocations.
TEST(AllocProbe, SeesLargeAllocations) {
  AllocProbe probe;
  std::vector<char> v(size_t{1} << 20);
  EXPECT_GE(probe.largest(), size_t{1} << 20);
  EXPECT_EQ(v.size(), size_t{1} << 20);
}

}  // namespace
}  // namespace tandem_test
