#include "tandem/artifact/checkpoint.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>

#include "tandem/core/error.h"
#include "tandem/io/checksum.h"

// Bundle layout (inside the model-file container):
//   metadata  {"format": "tandem-checkpoint", "checkpoint_version": 1,
//              "config": ..., "settings": ..., "data_fingerprint": hex,
//              "trainer": {epochs_done, step_in_epoch, global_step,
//                          shuffle_state (hex), current, history}}
//   id list   "example_order"
//   tensors   the weights (model-file names), then per optimizer slot (the
//             trainer's "optimizer_slots", e.g. "adagrad" or "adam_m",
//             "adam_v") "<slot>/<name>" for each weight
// 64-bit values travel as hex strings so that no JSON reader can round them
// through a double; the epoch stats' doubles are written by nlohmann::json,
// whose shortest round-trip form reads back to the same bits.

namespace tandem {

namespace {

constexpr const char* kFormatName = "tandem-checkpoint";
constexpr const char* kOrderList = "example_order";
// Checkpoints written before other optimizers existed name no slots: they
// hold Adagrad's accumulators.
constexpr const char* kLegacySlot = "adagrad";
constexpr const char* kUserTable = "user_embedding";
constexpr const char* kItemTable = "item_embedding";

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

uint64_t parse_hex64(const std::string& s, const std::string& field) {
  bool ok = s.size() == 16;
  for (char c : s) ok = ok && std::isxdigit(static_cast<unsigned char>(c));
  TANDEM_CHECK(ok, field << " is not 16 hex digits: '" << s << "'");
  return std::stoull(s, nullptr, 16);
}

nlohmann::json stats_json(const EpochStats& e) {
  nlohmann::json j = {{"epoch", e.epoch},
          {"steps", e.steps},
          {"examples", e.examples},
          {"ranking_loss", e.ranking_loss},
          {"retrieval_loss", e.retrieval_loss},
          {"total_loss", e.total_loss},
          {"seconds", e.seconds},
          {"score_entries", e.score_entries},
          {"learning_rate", e.learning_rate}};
  if (!e.learned_task_weights.empty()) j["learned_task_weights"] = e.learned_task_weights;
  if (!e.extra_losses.empty()) j["extra_losses"] = e.extra_losses;
  return j;
}

EpochStats stats_from(const nlohmann::json& j) {
  EpochStats e;
  e.epoch = j.at("epoch").get<int>();
  e.steps = j.at("steps").get<int64_t>();
  e.examples = j.at("examples").get<int64_t>();
  e.ranking_loss = j.at("ranking_loss").get<double>();
  e.retrieval_loss = j.at("retrieval_loss").get<double>();
  e.total_loss = j.at("total_loss").get<double>();
  e.seconds = j.at("seconds").get<double>();
  e.score_entries = j.at("score_entries").get<double>();
  if (j.contains("learned_task_weights"))
    e.learned_task_weights = j.at("learned_task_weights").get<std::vector<double>>();
  if (j.contains("extra_losses")) e.extra_losses = j.at("extra_losses").get<std::vector<double>>();
  e.learning_rate = j.value("learning_rate", 0.0);  // absent in older checkpoints
  return e;
}

Tensor table_tensor(const char* name, const EmbeddingTable& t, const std::vector<float>& values) {
  return {name, {t.rows, t.dim}, values};
}

}  // namespace

uint64_t data_fingerprint(const PreparedData& data) {
  const int64_t rows[2] = {data.users.rows(), data.items.rows()};
  uint64_t h = xxh64(rows, sizeof rows);
  for (const Examples* ex : {&data.train, &data.test}) {
    const uint64_t n = ex->size();
    h = xxh64(&n, sizeof n, h);
    h = xxh64(ex->users.data(), n * sizeof(int32_t), h);
    h = xxh64(ex->items.data(), n * sizeof(int32_t), h);
    h = xxh64(ex->labels.data(), n * sizeof(float), h);
  }
  return xxh64(data.test_ratings.data(), data.test_ratings.size() * sizeof(float), h);
}

ModelBundle checkpoint_bundle(const CheckpointRun& run, const MultiTaskModel& model,
                              const TrainerState& state) {
  ModelBundle b;
  b.metadata["format"] = kFormatName;
  b.metadata["checkpoint_version"] = kCheckpointVersion;
  b.metadata["config"] = run.config.to_json();
  b.metadata["settings"] = run.settings;
  b.metadata["data_fingerprint"] = hex64(run.data_fingerprint);
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : state.history) history.push_back(stats_json(e));
  b.metadata["trainer"] = {{"epochs_done", state.epochs_done},
                           {"step_in_epoch", state.step_in_epoch},
                           {"global_step", state.global_step},
                           {"shuffle_state", hex64(state.shuffle_state)},
                           {"current", stats_json(state.current)},
                           {"history", std::move(history)},
                           {"optimizer", state.optimizer},
                           {"optimizer_slots", state.slot_names}};
  b.id_lists.emplace_back(kOrderList, std::vector<int64_t>(state.order.begin(), state.order.end()));

  const auto tables = model.sparse_parameter_values();
  const auto dense = model.dense_parameter_values();
  TANDEM_CHECK(dense.size() == state.dense_slots.size() && tables.size() == state.sparse_slots.size(),
               "checkpoint: the model has " << tables.size() << " tables and " << dense.size()
                                            << " dense parameters, the optimizer state "
                                            << state.sparse_slots.size() << " and "
                                            << state.dense_slots.size());
  b.metadata["sparse_parameters"] = tables.size();
  for (const auto& t : tables) b.tensors.push_back(table_tensor(t.name.c_str(), *t.table, t.table->weights));
  for (const auto& p : dense) {
    b.tensors.push_back({p.name, {p.size}, std::vector<float>(p.value, p.value + p.size)});
  }
  for (size_t k = 0; k < state.slot_names.size(); ++k) {
    const std::string prefix = state.slot_names[k] + "/";
    for (size_t t = 0; t < tables.size(); ++t) {
      b.tensors.push_back(
          table_tensor((prefix + tables[t].name).c_str(), *tables[t].table, state.sparse_slots[t].at(k)));
    }
    for (size_t p = 0; p < dense.size(); ++p) {
      b.tensors.push_back({prefix + dense[p].name, {dense[p].size}, state.dense_slots[p].at(k)});
    }
  }
  return b;
}

Checkpoint checkpoint_from_bundle(const ModelBundle& b, const std::string& source) {
  Checkpoint c;
  try {
    const std::string format = b.metadata.value("format", "");
    TANDEM_CHECK(format == kFormatName,
                 "not a checkpoint (format '" << format << "'; a model file is loaded with --model)");
    const int version = b.metadata.at("checkpoint_version").get<int>();
    TANDEM_CHECK(version == kCheckpointVersion, "unsupported checkpoint version "
                                                    << version << " (this build reads version "
                                                    << kCheckpointVersion << ")");
    c.run.config = ExperimentConfig::from_json(b.metadata.at("config"));
    c.run.settings = b.metadata.at("settings");
    TANDEM_CHECK(c.run.settings.is_object(), "settings is not a JSON object");
    c.run.data_fingerprint =
        parse_hex64(b.metadata.at("data_fingerprint").get<std::string>(), "data_fingerprint");
    const auto& t = b.metadata.at("trainer");
    TrainerState& s = c.trainer;
    s.epochs_done = t.at("epochs_done").get<int>();
    s.step_in_epoch = t.at("step_in_epoch").get<int64_t>();
    s.global_step = t.at("global_step").get<int64_t>();
    s.shuffle_state = parse_hex64(t.at("shuffle_state").get<std::string>(), "shuffle_state");
    s.current = stats_from(t.at("current"));
    for (const auto& e : t.at("history")) s.history.push_back(stats_from(e));

    const auto& order = b.ids(kOrderList);
    s.order.reserve(order.size());
    for (int64_t e : order) {
      TANDEM_CHECK(e >= 0 && e <= std::numeric_limits<uint32_t>::max(),
                   "example order holds " << e << ", not an example index");
      s.order.push_back(static_cast<uint32_t>(e));
    }

    s.optimizer = t.value("optimizer", std::string(kLegacySlot));
    s.slot_names = t.value("optimizer_slots", std::vector<std::string>{kLegacySlot});
    for (size_t k = 0; k < s.slot_names.size(); ++k) {
      const std::string& n = s.slot_names[k];
      TANDEM_CHECK(!n.empty() && n.find('/') == std::string::npos &&
                       std::find(s.slot_names.begin(), s.slot_names.begin() + static_cast<long>(k), n) ==
                           s.slot_names.begin() + static_cast<long>(k),
                   "bad optimizer slot name '" << n << "'");
    }
    auto is_slot = [&](const std::string& name) {
      for (const auto& n : s.slot_names)
        if (name.rfind(n + "/", 0) == 0) return true;
      return false;
    };
    // Weights, in file order, then per slot one tensor of the same shape each.
    for (const auto& tensor : b.tensors) {
      if (!is_slot(tensor.name)) c.weights.push_back(tensor);
    }
    // The tables come first (checkpoints written before the count was
    // recorded hold exactly the user and item tables).
    const size_t tables = b.metadata.value("sparse_parameters", size_t{2});
    TANDEM_CHECK(tables >= 2 && c.weights.size() >= tables && c.weights[0].name == kUserTable &&
                     c.weights[1].name == kItemTable,
                 "the weights do not start with the user and item embeddings");
    c.sparse_weights = tables;
    for (size_t w = 0; w < c.weights.size(); ++w) {
      OptimizerSlots slots;
      for (const auto& n : s.slot_names) {
        const Tensor& slot = b.tensor(n + "/" + c.weights[w].name);
        TANDEM_CHECK(slot.shape == c.weights[w].shape,
                     "optimizer state " << slot.name << " differs in shape from its weights");
        slots.push_back(slot.data);
      }
      (w < tables ? s.sparse_slots : s.dense_slots).push_back(std::move(slots));
    }
    TANDEM_CHECK(b.tensors.size() == (1 + s.slot_names.size()) * c.weights.size(),
                 "holds tensors that are neither weights nor their optimizer state");
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW(source << ": bad checkpoint metadata: " << e.what());
  } catch (const Error& e) {
    TANDEM_THROW(source << ": " << e.what());
  }
  return c;
}

void write_checkpoint(const std::string& path, const CheckpointRun& run,
                      const MultiTaskModel& model, const TrainerState& state) {
  write_model_file(path, checkpoint_bundle(run, model, state));
}

Checkpoint read_checkpoint(const std::string& path) {
  return checkpoint_from_bundle(read_model_file(path), path);
}

void restore_weights(const Checkpoint& c, MultiTaskModel& model, const std::string& source) {
  auto tables = model.sparse_parameters();
  auto dense = model.dense_parameters();
  TANDEM_CHECK(c.sparse_weights == tables.size() && c.weights.size() == tables.size() + dense.size(),
               source << ": the checkpoint holds " << c.sparse_weights << " tables and "
                      << c.weights.size() - c.sparse_weights << " dense parameters, the configured model "
                      << tables.size() << " and " << dense.size());
  auto copy = [&](const Tensor& t, const std::string& name, std::vector<int64_t> shape, float* dst) {
    TANDEM_CHECK(t.name == name && t.shape == shape,
                 source << ": checkpoint tensor '" << t.name << "' does not fit the configured "
                        << "model's '" << name << "' (different data or dimensions)");
    std::memcpy(dst, t.data.data(), t.data.size() * sizeof(float));
  };
  for (size_t t = 0; t < tables.size(); ++t) {
    EmbeddingTable& table = *tables[t].table;
    copy(c.weights[t], tables[t].name, {table.rows, table.dim}, table.weights.data());
  }
  for (size_t p = 0; p < dense.size(); ++p) {
    copy(c.weights[tables.size() + p], dense[p].name, {dense[p].size}, dense[p].value);
  }
}

}  // namespace tandem
