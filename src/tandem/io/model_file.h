// The single model file: everything needed to evaluate and recommend.
//
// Layout (little-endian):
//   magic   8 bytes  "TANDEM\x00\x1a"
//   version u32      kModelFormatVersion
//   flags   u32      0
//   length  u64      payload byte count
//   payload          sections (see model_file.cc)
//   xxh64   u64      XXH64(payload, seed 0)
// Written atomically: a temporary file beside the target, fsync, rename, so an
// existing model is never left half-overwritten. Reading validates every
// length against the bytes present and refuses a bad magic, an unknown
// version, a checksum mismatch or truncation with a tandem::Error naming the
// file and what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem {

inline constexpr uint32_t kModelFormatVersion = 1;

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;  // row-major; product == data.size()
  std::vector<float> data;
};

struct ModelBundle {
  nlohmann::json metadata = nlohmann::json::object();  // config, data, metrics
  std::vector<std::pair<std::string, std::vector<int64_t>>> id_lists;
  std::vector<std::pair<std::string, std::vector<std::string>>> string_lists;
  std::vector<Tensor> tensors;

  // Lookups by name; a missing name is a tandem::Error naming it.
  const Tensor& tensor(const std::string& name) const;
  const std::vector<int64_t>& ids(const std::string& name) const;
  // An id list that only some files hold (nullptr when absent).
  const std::vector<int64_t>* find_ids(const std::string& name) const;
  const std::vector<std::string>& strings(const std::string& name) const;
};

// Serialise to bytes / parse bytes (`source` names the origin in errors).
std::string encode_model(const ModelBundle& bundle);
ModelBundle decode_model(const std::string& bytes, const std::string& source);

void write_model_file(const std::string& path, const ModelBundle& bundle);
ModelBundle read_model_file(const std::string& path);

}  // namespace tandem
