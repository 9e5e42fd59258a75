#include "tandem/config/optimizer_json.h"

#include <limits>
#include <string>

#include "tandem/core/error.h"

namespace tandem {

namespace {

[[noreturn]] void bad(const char* key, const char* what, const nlohmann::json& v) {
  TANDEM_THROW("invalid experiment configuration: train." << key << " must be " << what << ", got "
                                                          << (v.is_number() ? v.dump() : v.type_name()));
}

// A float, refusing values a float cannot hold (the conversion would be
// undefined behaviour); `fallback` when the key is absent.
float number(const nlohmann::json& t, const char* key, float fallback, bool required = false) {
  if (!t.contains(key)) {
    if (required) TANDEM_THROW("invalid experiment configuration: train." << key << " is missing");
    return fallback;
  }
  const auto& v = t.at(key);
  constexpr double kMax = std::numeric_limits<float>::max();
  if (v.is_number()) {
    const double d = v.get<double>();
    if (d >= -kMax && d <= kMax) return static_cast<float>(d);
  }
  bad(key, "a number within float range", v);
}

int64_t count(const nlohmann::json& t, const char* key) {
  if (!t.contains(key)) return 0;
  const auto& v = t.at(key);
  if (v.is_number_unsigned() && v.get<uint64_t>() <= uint64_t{std::numeric_limits<int64_t>::max()})
    return static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();  // validate() refuses < 0
  bad(key, "an integer", v);
}

std::string text(const nlohmann::json& t, const char* key, const char* fallback) {
  if (!t.contains(key)) return fallback;
  const auto& v = t.at(key);
  if (!v.is_string()) bad(key, "a string", v);
  return v.get<std::string>();
}

}  // namespace

void add_optimizer_json(nlohmann::json& train, const OptimizerConfig& c) {
  train["optimizer"] = to_string(c.kind);
  train["learning_rate"] = c.learning_rate;
  train["initial_accumulator"] = c.initial_accumulator;
  train["epsilon"] = c.epsilon;
  train["beta1"] = c.beta1;
  train["beta2"] = c.beta2;
  train["momentum"] = c.momentum;
  train["nesterov"] = c.nesterov;
  train["embedding_l2"] = c.embedding_l2;
  train["dense_l2"] = c.dense_l2;
  train["lr_schedule"] = to_string(c.schedule.kind);
  train["warmup_steps"] = c.schedule.warmup_steps;
  train["decay_steps"] = c.schedule.decay_steps;
  train["decay_rate"] = c.schedule.decay_rate;
  train["min_lr_fraction"] = c.schedule.min_lr_fraction;
}

OptimizerConfig optimizer_from_json(const nlohmann::json& t) {
  OptimizerConfig c;
  c.kind = parse_optimizer_kind(text(t, "optimizer", "adagrad"));
  c.learning_rate = number(t, "learning_rate", c.learning_rate, true);
  c.initial_accumulator = number(t, "initial_accumulator", c.initial_accumulator, true);
  c.epsilon = number(t, "epsilon", c.epsilon, true);
  c.beta1 = number(t, "beta1", c.beta1);
  c.beta2 = number(t, "beta2", c.beta2);
  c.momentum = number(t, "momentum", c.momentum);
  if (t.contains("nesterov")) {
    if (!t.at("nesterov").is_boolean()) bad("nesterov", "true or false", t.at("nesterov"));
    c.nesterov = t.at("nesterov").get<bool>();
  }
  c.embedding_l2 = number(t, "embedding_l2", c.embedding_l2);
  c.dense_l2 = number(t, "dense_l2", c.dense_l2);
  c.schedule.kind = parse_lr_schedule(text(t, "lr_schedule", "constant"));
  c.schedule.warmup_steps = count(t, "warmup_steps");
  c.schedule.decay_steps = count(t, "decay_steps");
  c.schedule.decay_rate = number(t, "decay_rate", c.schedule.decay_rate);
  c.schedule.min_lr_fraction = number(t, "min_lr_fraction", c.schedule.min_lr_fraction);
  return c;
}

}  // namespace tandem
