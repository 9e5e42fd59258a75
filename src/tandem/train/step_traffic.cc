#include "tandem/train/step_traffic.h"

#include <cstdio>

#include "tandem/train/trainer.h"

namespace tandem {

namespace {
constexpr double kFloat = 4.0;
}  // namespace

StepTraffic estimate_step_traffic(const TrafficShape& s) {
  StepTraffic t;
  t.rows_measured = s.rows_measured;
  const double update_passes = 1.0 + 2.0 * (1.0 + s.optimizer_slots);  // grad read; value + slots read, written
  for (const auto& table : s.tables) {
    const double d = static_cast<double>(table.dim);
    t.gather += 2.0 * table.lookups * d * kFloat;
    t.scatter += (table.lookups + table.rows) * d * kFloat;
    t.sparse_update += table.rows * d * update_passes * kFloat;
  }
  const double dense = static_cast<double>(s.dense_floats);
  t.dense_update = dense * update_passes * kFloat;
  if (s.workers > 1) t.reduce = (s.workers + 1.0) * dense * kFloat;
  if (s.score_entries > 0.0)
    t.softmax = (5.0 * s.score_entries + 4.0 * s.examples * static_cast<double>(s.task_dim)) * kFloat;
  const double b = s.examples;
  for (const auto& widths : s.heads) {
    if (widths.size() < 2) continue;
    t.activations += b * static_cast<double>(widths.front()) * kFloat;  // the concatenated input
    for (size_t l = 0; l + 1 < widths.size(); ++l) {
      const double in = static_cast<double>(widths[l]), out = static_cast<double>(widths[l + 1]);
      t.activations += (3.0 * b * (in + out) + 3.0 * s.workers * in * out) * kFloat;
    }
  }
  return t;
}

nlohmann::json StepTraffic::to_json(double seconds_per_step, double bandwidth_gbs) const {
  const double bytes = total();
  const double achieved = seconds_per_step > 0.0 ? bytes / seconds_per_step / 1e9 : 0.0;
  nlohmann::json j = {{"bytes_per_step",
                       {{"gather", gather},
                        {"scatter", scatter},
                        {"sparse_update", sparse_update},
                        {"dense_update", dense_update},
                        {"reduce", reduce},
                        {"softmax", softmax},
                        {"activations", activations},
                        {"total", bytes}}},
                      {"touched_rows", rows_measured ? "measured" : "upper bound (lookups)"},
                      {"seconds_per_step", seconds_per_step},
                      {"achieved_gbs", achieved}};
  if (bandwidth_gbs > 0.0) {
    j["bandwidth_gbs"] = bandwidth_gbs;
    j["fraction_of_bandwidth"] = achieved / bandwidth_gbs;
  }
  return j;
}

std::string StepTraffic::summary(double seconds_per_step, double bandwidth_gbs) const {
  const double bytes = total();
  const double achieved = seconds_per_step > 0.0 ? bytes / seconds_per_step / 1e9 : 0.0;
  char line[320];
  std::snprintf(line, sizeof line,
                "  memory traffic (estimate): %.2f MB/step (gather %.2f, scatter %.2f, sparse update %.2f, "
                "dense update %.2f, reduce %.2f, softmax %.2f, activations %.2f); %.2f GB/s",
                bytes / 1e6, gather / 1e6, scatter / 1e6, sparse_update / 1e6, dense_update / 1e6, reduce / 1e6,
                softmax / 1e6, activations / 1e6, achieved);
  std::string out = line;
  if (bandwidth_gbs > 0.0) {
    std::snprintf(line, sizeof line, " = %.1f%% of the measured %.1f GB/s", 100.0 * achieved / bandwidth_gbs,
                  bandwidth_gbs);
    out += line;
  }
  out += rows_measured ? "\n" : " (rows: upper bound)\n";
  return out;
}

TrafficShape traffic_shape(const MultiTaskModel& model, const TaskWeights& weights, int workers,
                           int optimizer_slots, const StepProfile& profile, int64_t batch) {
  TrafficShape s;
  const bool measured = profile.steps > 0;
  const double steps = measured ? static_cast<double>(profile.steps) : 1.0;
  s.examples = measured ? static_cast<double>(profile.examples) / steps : static_cast<double>(batch);
  s.workers = workers;
  s.optimizer_slots = optimizer_slots;
  s.task_dim = model.task_dim();
  const std::vector<TableView> tables = model.sparse_parameter_values();
  s.rows_measured = measured && profile.rows_touched.size() == tables.size();
  for (size_t t = 0; t < tables.size(); ++t) {
    TrafficShape::Table table;
    table.name = tables[t].name;
    table.dim = tables[t].table->dim;
    // The id tables are read once per example; a side feature's table
    // (towers) at least once per touched row (its bags are not counted).
    const bool id_table = t < 2;
    const double rows = s.rows_measured ? profile.rows_touched[t] / steps : s.examples;
    table.lookups = id_table ? s.examples : rows;
    table.rows = std::min(rows, table.lookups);
    s.tables.push_back(table);
  }
  const std::vector<ParameterView> dense = model.dense_parameter_values();
  const std::vector<bool> trained = model.trained_dense_parameters(weights);
  for (size_t p = 0; p < dense.size() && p < trained.size(); ++p)
    if (trained[p]) s.dense_floats += dense[p].size;
  for (int h = 0; h < 1 + model.extra_task_count(); ++h) {
    if (weights.of(1 + h) == 0.0f) continue;
    const Mlp& mlp = model.head_task(h).mlp();
    std::vector<int64_t> widths = {mlp.in()};
    for (size_t l = 0; l < mlp.layer_count(); ++l) widths.push_back(mlp.layer(l).out());
    s.heads.push_back(widths);
  }
  if (weights.retrieval != 0.0f)
    s.score_entries = measured ? profile.score_entries / steps : s.examples * s.examples;
  return s;
}

TrafficShape traffic_shape(const Trainer& trainer, int64_t batch) {
  return traffic_shape(trainer.model(), trainer.step_weights(), trainer.profile().threads,
                       trainer.optimizer_slots(), trainer.profile(), batch);
}

}  // namespace tandem
