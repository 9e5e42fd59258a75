// Which optimizer trains a model, with its hyperparameters, L2 penalties and
// learning-rate schedule. Defaults are Keras' Adagrad at learning rate 0.1
// (both tutorials), so a config that names nothing trains as before.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tandem {

enum class OptimizerKind {
  kAdagrad,  // tf.keras.optimizers.Adagrad
  kAdam,     // tf.keras.optimizers.Adam; embedding tables lazily (see adam.h)
  kSgd,      // tf.keras.optimizers.SGD, optional (Nesterov) momentum
};

enum class LrScheduleKind {
  kConstant,      // the learning rate throughout (after any warmup)
  kLinearWarmup,  // linear warmup over warmup_steps, then constant
  kCosine,        // cosine decay to min_lr_fraction x lr
  kExponential,   // lr x decay_rate^(t / decay_steps), smooth
  kStep,          // lr x decay_rate^floor(t / decay_steps), a staircase
};

// The learning rate as a pure function of the global step (see
// lr_schedule.h), so that a resumed run takes the same steps.
struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::kConstant;
  // Steps over which the rate ramps linearly from lr / warmup_steps up to lr
  // (any kind; linear-warmup requires it). Decay starts after the warmup.
  int64_t warmup_steps = 0;
  // Exponential and step: the steps per factor of decay_rate (required).
  // Cosine: the length of the decay; 0 = until the end of training.
  int64_t decay_steps = 0;
  float decay_rate = 0.5f;
  // Decays never go below min_lr_fraction x lr (cosine ends there).
  float min_lr_fraction = 0.0f;
};

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kAdagrad;
  float learning_rate = 0.1f;
  float epsilon = 1e-7f;             // Adagrad and Adam denominators (Keras' default)
  float initial_accumulator = 0.1f;  // Adagrad
  float beta1 = 0.9f;                // Adam
  float beta2 = 0.999f;              // Adam
  float momentum = 0.0f;             // SGD (0: plain SGD, no state)
  bool nesterov = false;             // SGD
  // L2 penalties: the gradient gains l2 x w. embedding_l2 applies to the
  // embedding rows a batch touched, once per distinct row (see optimizer.h);
  // dense_l2 to every dense parameter the step updates.
  float embedding_l2 = 0.0f;
  float dense_l2 = 0.0f;
  LrSchedule schedule;

  // Checks ranges and combinations; throws tandem::Error naming the field.
  void validate() const;
};

std::string to_string(OptimizerKind k);               // "adagrad", "adam", "sgd"
OptimizerKind parse_optimizer_kind(const std::string& s);  // errors list the choices
std::string display_name(OptimizerKind k);            // "Adagrad", "Adam", "SGD"
std::vector<std::string> optimizer_names();
std::string to_string(LrScheduleKind k);              // "constant", "linear-warmup", ...
LrScheduleKind parse_lr_schedule(const std::string& s);
std::vector<std::string> lr_schedule_names();

// The state each parameter carries, one slot per name, each shaped like the
// parameter. The names prefix the slots' tensors in checkpoints:
// adagrad {"adagrad"}, adam {"adam_m", "adam_v"}, sgd {"sgd_momentum"}
// (none without momentum).
std::vector<std::string> optimizer_slot_names(const OptimizerConfig& c);
// What every slot starts at (Adagrad: initial_accumulator; otherwise 0).
float optimizer_slot_initial_value(const OptimizerConfig& c);

}  // namespace tandem
