// A view of one trainable dense parameter and its gradient buffer, so that an
// optimizer can walk a model's parameters without knowing its layers.
#pragma once

#include <cstdint>
#include <string>

namespace tandem {

struct ParameterRef {
  std::string name;
  float* value;
  float* grad;
  int64_t size;
};

// A read-only view of a parameter's values (for saving).
struct ParameterView {
  std::string name;
  const float* value;
  int64_t size;
};

}  // namespace tandem
