#include "cmd_optimizer_options.h"

namespace tandem::cli {

void OptimizerOptions::add_to(CLI::App& app) {
  app.add_option("--optimizer", optimizer,
                 "adagrad (default, as both tutorials), adam (lazy on embedding rows) or sgd")
      ->check(CLI::IsMember(optimizer_names()));
  app.add_option("--epsilon", epsilon, "Adagrad/Adam denominator epsilon (default 1e-7)");
  app.add_option("--initial-accumulator", initial_accumulator, "Adagrad's initial accumulator (default 0.1)")
      ->type_name("NUM");  // FLOAT would fill the help's name column
  app.add_option("--beta1", beta1, "Adam's beta1 (default 0.9)");
  app.add_option("--beta2", beta2, "Adam's beta2 (default 0.999)");
  app.add_option("--momentum", momentum, "SGD momentum (default 0: plain SGD)");
  app.add_flag("--nesterov", nesterov, "SGD with Nesterov momentum (needs --momentum > 0)");
  app.add_option("--embedding-l2", embedding_l2,
                 "L2 penalty on the embedding rows a batch touches: adds l2 * w to their gradient "
                 "(default 0)");
  app.add_option("--dense-l2", dense_l2, "L2 penalty on the rating head's parameters (default 0)");
  app.add_option("--lr-schedule", lr_schedule,
                 "Learning-rate schedule: constant (default), linear-warmup, cosine, exponential, step")
      ->check(CLI::IsMember(lr_schedule_names()));
  app.add_option("--warmup-steps", warmup_steps, "Steps of linear warmup (any schedule; default 0)");
  app.add_option("--decay-steps", decay_steps,
                 "Exponential/step: steps per decay_rate factor; cosine: decay length (0 = to the end)");
  app.add_option("--decay-rate", decay_rate, "Exponential/step decay factor in (0, 1] (default 0.5)");
  app.add_option("--min-lr-fraction", min_lr_fraction,
                 "Floor of the decayed rate, as a fraction of the learning rate (default 0)");
}

void OptimizerOptions::apply(OptimizerConfig& c) const {
  if (!optimizer.empty()) c.kind = parse_optimizer_kind(optimizer);
  if (epsilon) c.epsilon = *epsilon;
  if (initial_accumulator) c.initial_accumulator = *initial_accumulator;
  if (beta1) c.beta1 = *beta1;
  if (beta2) c.beta2 = *beta2;
  if (momentum) c.momentum = *momentum;
  if (nesterov) c.nesterov = true;
  if (embedding_l2) c.embedding_l2 = *embedding_l2;
  if (dense_l2) c.dense_l2 = *dense_l2;
  if (!lr_schedule.empty()) c.schedule.kind = parse_lr_schedule(lr_schedule);
  if (warmup_steps) c.schedule.warmup_steps = *warmup_steps;
  if (decay_steps) c.schedule.decay_steps = *decay_steps;
  if (decay_rate) c.schedule.decay_rate = *decay_rate;
  if (min_lr_fraction) c.schedule.min_lr_fraction = *min_lr_fraction;
}

}  // namespace tandem::cli
