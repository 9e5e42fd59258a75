// Comparing two model files as models: the one definition the end-to-end
// tests share (resumed runs, runs on several ranks).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "tandem/io/model_file.h"

namespace tandem::testing {

inline // Two model files hold the same model: every tensor bit for bit (memcmp, so
// -0.0 and 0.0 differ), the same id and string lists and config, and the
// same metrics apart from timings.
void expect_same_model_file(const std::string& a_path, const std::string& b_path) {
  const ModelBundle a = read_model_file(a_path), b = read_model_file(b_path);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    EXPECT_EQ(a.tensors[t].name, b.tensors[t].name);
    EXPECT_EQ(a.tensors[t].shape, b.tensors[t].shape);
    ASSERT_EQ(a.tensors[t].data.size(), b.tensors[t].data.size());
    EXPECT_EQ(std::memcmp(a.tensors[t].data.data(), b.tensors[t].data.data(),
                          a.tensors[t].data.size() * sizeof(float)),
              0)
        << "tensor " << a.tensors[t].name << " differs";
  }
  EXPECT_EQ(a.id_lists, b.id_lists);
  EXPECT_EQ(a.string_lists, b.string_lists);
  EXPECT_EQ(a.metadata.at("config"), b.metadata.at("config"));
  auto metrics = [](nlohmann::json m) {
    m.erase("train_seconds");
    m.erase("eval_seconds");
    m.erase("eval_phase_seconds");
    for (auto& e : m["epochs"]) e.erase("seconds");
    return m;
  };
  EXPECT_EQ(metrics(a.metadata.at("metrics")), metrics(b.metadata.at("metrics")));
}

}  // namespace tandem::testing
