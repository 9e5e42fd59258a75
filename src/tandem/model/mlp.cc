#include "tandem/model/mlp.h"

#include <algorithm>
#include <string>

#include "tandem/core/error.h"

namespace tandem {

Mlp::Mlp(int64_t in, const std::vector<int64_t>& hidden, int64_t outputs, int64_t max_batch)
    : in_(in), max_batch_(max_batch) {
  TANDEM_CHECK(in > 0 && outputs > 0 && max_batch > 0, "MLP needs positive sizes");
  input_.assign(static_cast<size_t>(max_batch * in), 0.0f);
  input_grad_.assign(input_.size(), 0.0f);
  const float* x = input_.data();
  float* dx = input_grad_.data();
  int64_t width = in;
  for (size_t i = 0; i <= hidden.size(); ++i) {
    const bool last = i == hidden.size();
    const int64_t units = last ? outputs : hidden[i];
    TANDEM_CHECK(units > 0, "layer " << i << " of the rating head has " << units << " units");
    layers_.push_back(std::make_unique<DenseLayer>(
        width, units, last ? Activation::kNone : Activation::kRelu, max_batch, x, dx));
    // The next layer reads this one's output and writes its input gradient
    // into this one's output gradient.
    x = layers_.back()->output();
    dx = layers_.back()->output_grad();
    width = units;
  }
}

void Mlp::init_glorot(Rng& rng) {
  for (auto& l : layers_) l->init_glorot(rng);
}

void Mlp::fprop(int64_t batch) {
  for (auto& l : layers_) l->fprop(batch);
}

void Mlp::bprop(int64_t batch) {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) (*it)->bprop(batch);
}

void Mlp::fprop_rows(int64_t r0, int64_t r1) {
  for (auto& l : layers_) l->fprop_rows(r0, r1);
}

int64_t Mlp::parameter_count() const {
  int64_t n = 0;
  for (const auto& l : layers_) n += l->in() * l->out() + l->out();
  return n;
}

void Mlp::bprop_rows(int64_t r0, int64_t r1, float* grads) {
  // Packed like parameters(): per layer, kernel then bias; walked from the
  // end because backprop visits the last layer first.
  float* end = grads + parameter_count();
  for (size_t i = layers_.size(); i-- > 0;) {
    DenseLayer& l = *layers_[i];
    float* kernel = end - (l.in() * l.out() + l.out());
    l.bprop_rows(r0, r1, kernel, kernel + l.in() * l.out());
    end = kernel;
  }
}

void Mlp::sum_gradients(const std::vector<std::vector<float>>& parts, int count) {
  int64_t offset = 0;
  for (auto& l : layers_) {
    const int64_t nk = l->in() * l->out();
    float* dst[2] = {l->kernel_grad_buffer(), l->bias_grad_buffer()};
    const int64_t len[2] = {nk, l->out()};
    for (int which = 0; which < 2; ++which) {
      for (int64_t j = 0; j < len[which]; ++j) dst[which][j] = parts[0][static_cast<size_t>(offset + j)];
      for (int part = 1; part < count; ++part) {
        const float* src = parts[static_cast<size_t>(part)].data() + offset;
        for (int64_t j = 0; j < len[which]; ++j) dst[which][j] += src[j];
      }
      offset += len[which];
    }
  }
}

void Mlp::predict(const float* x, int64_t n, float* out, std::vector<float>& scratch) const {
  if (n <= 0) return;
  // Two ping-pong activation buffers, each as wide as the widest hidden layer.
  int64_t widest = 0;
  for (const auto& l : layers_) widest = std::max(widest, l->out());
  const size_t half = static_cast<size_t>(n * widest);
  if (scratch.size() < 2 * half) scratch.resize(2 * half);
  const float* cur = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const bool last = i + 1 == layers_.size();
    float* dst = last ? out : scratch.data() + (i % 2) * half;
    layers_[i]->forward(cur, n, dst);
    cur = dst;
  }
}

std::vector<DenseLayer*> Mlp::layers() {
  std::vector<DenseLayer*> out;
  for (auto& l : layers_) out.push_back(l.get());
  return out;
}

std::vector<ParameterView> Mlp::parameter_values() const {
  std::vector<ParameterView> out;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const DenseLayer& l = *layers_[i];
    const std::string prefix = name_ + "." + std::to_string(i);
    out.push_back({prefix + ".kernel", l.kernel_values(), l.in() * l.out()});
    out.push_back({prefix + ".bias", l.bias_values(), l.out()});
  }
  return out;
}

std::vector<ParameterRef> Mlp::parameters() {
  std::vector<ParameterRef> out;
  for (size_t i = 0; i < layers_.size(); ++i) {
    for (auto& p : layers_[i]->parameters(name_ + "." + std::to_string(i))) out.push_back(p);
  }
  return out;
}

Footprint Mlp::footprint(int64_t in, const std::vector<int64_t>& hidden, int64_t outputs,
                         int64_t max_batch) {
  Footprint f{0, 0, footprint_mul(bytes_of<float>(footprint_mul(max_batch, in)), 2)};
  int64_t width = in;
  for (size_t i = 0; i <= hidden.size(); ++i) {
    const int64_t units = i == hidden.size() ? outputs : hidden[i];
    f += DenseLayer::footprint(width, units, max_batch);
    width = units;
  }
  return f;
}

Footprint Mlp::allocated() const {
  Footprint f{0, 0, bytes_held(input_) + bytes_held(input_grad_)};
  for (const auto& l : layers_) f += l->allocated();
  return f;
}

}  // namespace tandem
