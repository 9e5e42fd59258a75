// Shared fixtures for the model file tests: a bundle that exercises every
// section, and byte surgery that keeps the checksum valid so that the checks
// behind it are what gets tested.
#pragma once

#include <xxhash.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/core/error.h"
#include "tandem/io/model_file.h"

namespace tandem_test {

inline constexpr size_t kHeaderBytes = 24;

inline tandem::ModelBundle sample_bundle() {
  tandem::ModelBundle b;
  b.metadata = {{"config", {{"dim", 8}, {"lr", 0.05}, {"loss", "bpr"}}},
                {"metrics", {{"ndcg@10", 0.3125}}},
                {"title", "Caf\u00e9 \u65e5\u672c"}};
  b.id_lists = {{"user_ids", {1, -5, std::numeric_limits<int64_t>::max(),
                              std::numeric_limits<int64_t>::min(), 0}},
                {"item_ids", {42, 7}},
                {"empty_ids", {}}};
  b.string_lists = {{"titles", {"Am\u00e9lie", "", "\u6771\u4eac\u7269\u8a9e \U0001F3AC", "x"}},
                    {"no_strings", {}}};
  const float denorm = std::numeric_limits<float>::denorm_min();
  b.tensors = {{"bias", {3}, {-0.0f, denorm, -denorm}},
               {"embedding",
                {2, 3},
                {1.5f, -2.25f, std::numeric_limits<float>::max(),
                 std::numeric_limits<float>::lowest(), std::numeric_limits<float>::min() / 4,
                 std::numeric_limits<float>::infinity()}},
               {"empty", {0, 4}, {}},
               {"special", {2},
                {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}}};
  return b;
}

inline uint64_t get_u64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v |= uint64_t(static_cast<unsigned char>(s.at(at + i))) << (8 * i);
  return v;
}

inline void put_u64(std::string& s, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) s.at(at + i) = static_cast<char>((v >> (8 * i)) & 0xFF);
}

inline void put_u32(std::string& s, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) s.at(at + i) = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Rewrites the header length and trailing checksum to match the payload as it
// now stands, as a careful forger would.
inline void reseal(std::string& s) {
  const size_t payload = s.size() - kHeaderBytes - 8;
  put_u64(s, 16, payload);
  put_u64(s, s.size() - 8, XXH64(s.data() + kHeaderBytes, payload, 0));
}

// Offset of the byte just after the first occurrence of `needle` in the payload.
inline size_t after(const std::string& s, const std::string& needle) {
  const size_t at = s.find(needle, kHeaderBytes);
  if (at == std::string::npos) throw std::logic_error("test bug: '" + needle + "' not found");
  return at + needle.size();
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i])) return false;
  return true;
}

inline void expect_same(const tandem::ModelBundle& a, const tandem::ModelBundle& b) {
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.id_lists, b.id_lists);
  EXPECT_EQ(a.string_lists, b.string_lists);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].name, b.tensors[i].name);
    EXPECT_EQ(a.tensors[i].shape, b.tensors[i].shape);
    EXPECT_TRUE(same_bits(a.tensors[i].data, b.tensors[i].data)) << a.tensors[i].name;
  }
}

// Runs `fn`, expecting a tandem::Error, and returns its message ("" and a test
// failure otherwise, including for any other exception type).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const tandem::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected tandem::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected tandem::Error, nothing was thrown";
  return "";
}

inline std::string decode_error(const std::string& bytes, const std::string& source = "mem") {
  return error_of([&] { tandem::decode_model(bytes, source); });
}

}  // namespace tandem_test
