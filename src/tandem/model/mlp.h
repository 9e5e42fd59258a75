// A stack of dense layers, ReLU between them and a linear last layer: the
// rating head. Owns its input buffer (callers write features into input())
// and, for backprop into the features, its input-gradient buffer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tandem/model/dense_layer.h"

namespace tandem {

class Mlp {
 public:
  // hidden: sizes of the ReLU layers; the last layer has `outputs` units.
  Mlp(int64_t in, const std::vector<int64_t>& hidden, int64_t outputs, int64_t max_batch);

  void init_glorot(Rng& rng);

  float* input() { return input_.data(); }               // [max_batch, in]
  const float* input_grad() const { return input_grad_.data(); }
  void fprop(int64_t batch);
  const float* output() const { return layers_.back()->output(); }  // [batch, outputs]
  float* output_grad() { return layers_.back()->output_grad(); }
  void bprop(int64_t batch);

  // Row-slice versions for workers that each take part of a batch.
  // bprop_rows writes the slice's parameter gradients, packed in
  // parameters() order, into `grads` (parameter_count() floats).
  void fprop_rows(int64_t r0, int64_t r1);
  void bprop_rows(int64_t r0, int64_t r1, float* grads);
  int64_t parameter_count() const;
  // Sets the parameters' gradient buffers to the sum of the first `count`
  // of `parts` (each packed as above), added in order so the result is
  // deterministic.
  void sum_gradients(const std::vector<std::vector<float>>& parts, int count);

  // Inference on caller buffers: x [n, in] -> out [n, outputs], any n; uses
  // `scratch` for activations and reads only the weights (thread-safe with
  // one scratch per thread).
  void predict(const float* x, int64_t n, float* out, std::vector<float>& scratch) const;

  // Prefix of the parameter names ("rating_head" unless set: "<name>.<layer>.kernel").
  void set_name(std::string name) { name_ = std::move(name); }

  int64_t in() const { return in_; }
  int64_t max_batch() const { return max_batch_; }
  size_t layer_count() const { return layers_.size(); }
  const DenseLayer& layer(size_t i) const { return *layers_[i]; }
  std::vector<DenseLayer*> layers();
  std::vector<ParameterRef> parameters();
  std::vector<ParameterView> parameter_values() const;

  // What an MLP of this shape allocates (footprint.h): its layers' and its
  // own input and input-gradient buffers.
  static Footprint footprint(int64_t in, const std::vector<int64_t>& hidden, int64_t outputs,
                             int64_t max_batch);
  Footprint allocated() const;

 private:
  int64_t in_, max_batch_;
  std::string name_ = "rating_head";
  std::vector<float> input_, input_grad_;
  std::vector<std::unique_ptr<DenseLayer>> layers_;
};

}  // namespace tandem
