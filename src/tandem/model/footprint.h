// The memory a layer allocates, as a value: what a layer's static
// footprint(...) says it will allocate for a configuration, and what its
// allocated() says a constructed one holds. The two are the same numbers by
// construction and a test holds them to it (tests/model/model_plan_test.cc),
// so that a memory plan (model_plan.h) is read from the layers themselves
// instead of re-deriving their widths.
//
// Counted: the buffers a layer sizes from its configuration (weights,
// gradients, activations, index arrays), as vector capacity in bytes. Not
// counted: a few bytes of bookkeeping (offset lists, names), the optimizer's
// state (the optimizer allocates it; see ModelPlan::optimizer_state), and
// the input data a layer is handed (a tower's feature bags).
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace tandem {

// a * b and a + b on sizes, saturating at INT64_MAX instead of wrapping, so
// an absurd configuration still compares as absurd.
inline int64_t footprint_mul(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<int64_t>::max() : r;
}
inline int64_t footprint_add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<int64_t>::max() : r;
}

// Bytes of `count` values of T, saturating.
template <class T>
int64_t bytes_of(int64_t count) {
  return footprint_mul(count, static_cast<int64_t>(sizeof(T)));
}
// Bytes a vector holds (its capacity: reserved storage is allocated too).
template <class T>
int64_t bytes_held(const std::vector<T>& v) {
  return static_cast<int64_t>(v.capacity() * sizeof(T));
}

struct Footprint {
  int64_t parameters = 0;  // trainable values
  int64_t gradients = 0;   // the parameters' gradient buffers (incl. per-worker copies)
  int64_t workspace = 0;   // activations, their gradients, index and scratch arrays

  int64_t bytes() const { return footprint_add(footprint_add(parameters, gradients), workspace); }
  Footprint& operator+=(const Footprint& o) {
    parameters = footprint_add(parameters, o.parameters);
    gradients = footprint_add(gradients, o.gradients);
    workspace = footprint_add(workspace, o.workspace);
    return *this;
  }
  friend Footprint operator+(Footprint a, const Footprint& b) { return a += b; }
  // `copies` of this footprint (e.g. a layer per tower), saturating.
  Footprint times(int64_t copies) const {
    return {footprint_mul(parameters, copies), footprint_mul(gradients, copies),
            footprint_mul(workspace, copies)};
  }
  bool operator==(const Footprint&) const = default;
};

}  // namespace tandem
