// Fully connected layer y = act(x W + b) with a fused bias + activation, bound
// at construction to its input buffer (owned by the caller) and owning its
// output and gradient buffers sized for the largest batch, so that fprop and
// bprop never allocate (HugeCTR's layer habit).
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/core/random.h"
#include "tandem/model/footprint.h"
#include "tandem/model/parameter.h"

namespace tandem {

enum class Activation { kNone, kRelu };

class DenseLayer {
 public:
  // `input` is [max_batch, in]; `input_grad` (may be null: no gradient wanted
  // for the input) is [max_batch, in] and is overwritten by bprop.
  DenseLayer(int64_t in, int64_t out, Activation act, int64_t max_batch, const float* input,
             float* input_grad);

  // Glorot-uniform kernel, zero bias (Keras' Dense defaults).
  void init_glorot(Rng& rng);

  // output[:batch] = act(input[:batch] W + b).
  void fprop(int64_t batch);
  // The same computation on caller buffers (x [n, in] -> y [n, out]); reads
  // only the weights, so concurrent callers with their own buffers are safe.
  void forward(const float* x, int64_t n, float* y) const;
  // Reads output_grad()[:batch] (dL/dy), leaves dL/dW and dL/db in the
  // gradient buffers (overwritten, not accumulated) and dL/dx in input_grad.
  void bprop(int64_t batch);

  // The same on rows [r0, r1) only, so that workers can each take a slice of
  // the batch: fprop_rows writes those output rows; bprop_rows writes those
  // input-gradient rows and this slice's dL/dW, dL/db into `kernel_grad`
  // ([in, out]) and `bias_grad` ([out]), overwritten.
  void fprop_rows(int64_t r0, int64_t r1);
  void bprop_rows(int64_t r0, int64_t r1, float* kernel_grad, float* bias_grad);

  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  Activation activation() const { return act_; }
  const float* output() const { return output_.data(); }
  float* output_grad() { return output_grad_.data(); }

  float* kernel() { return kernel_.data(); }  // [in, out]
  float* kernel_grad_buffer() { return kernel_grad_.data(); }
  float* bias_grad_buffer() { return bias_grad_.data(); }
  float* bias() { return bias_.data(); }      // [out]
  const float* kernel_values() const { return kernel_.data(); }
  const float* bias_values() const { return bias_.data(); }
  const float* kernel_grad() const { return kernel_grad_.data(); }
  const float* bias_grad() const { return bias_grad_.data(); }
  std::vector<ParameterRef> parameters(const std::string& prefix);

  // What a layer of this shape allocates (footprint.h): kernel and bias,
  // their gradients, its output and output gradient for max_batch rows.
  static Footprint footprint(int64_t in, int64_t out, int64_t max_batch);
  Footprint allocated() const;

 private:
  int64_t in_, out_, max_batch_;
  Activation act_;
  const float* input_;
  float* input_grad_;
  std::vector<float> kernel_, bias_, kernel_grad_, bias_grad_;
  std::vector<float> output_, output_grad_;
};

}  // namespace tandem
