#include "tandem/app/checkpoint.h"

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
//   tensors   the weights (model-file names), then "adagrad/<name>" for each
// 64-bit values travel as hex strings so that no JSON reader can round them
// through a double; the epoch stats' doubles are written by nlohmann::json,
// whose shortest round-trip form reads back to the same bits.

namespace tandem {

namespace {

constexpr const char* kFormatName = "tandem-checkpoint";
constexpr const char* kOrderList = "example_order";
constexpr const char* kAccumulatorPrefix = "adagrad/";
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
  return {{"epoch", e.epoch},
          {"steps", e.steps},
          {"examples", e.examples},
          {"ranking_loss", e.ranking_loss},
          {"retrieval_loss", e.retrieval_loss},
          {"total_loss", e.total_loss},
          {"seconds", e.seconds},
          {"score_entries", e.score_entries}};
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
                           {"history", std::move(history)}};
  b.id_lists.emplace_back(kOrderList, std::vector<int64_t>(state.order.begin(), state.order.end()));

  const auto head = model.rating_head().parameter_values();
  TANDEM_CHECK(head.size() == state.dense_accumulators.size(),
               "checkpoint: " << head.size() << " rating-head parameters but "
                              << state.dense_accumulators.size() << " accumulators");
  b.tensors.push_back(table_tensor(kUserTable, model.user_table(), model.user_table().weights));
  b.tensors.push_back(table_tensor(kItemTable, model.item_table(), model.item_table().weights));
  for (const auto& p : head) {
    b.tensors.push_back({p.name, {p.size}, std::vector<float>(p.value, p.value + p.size)});
  }
  const std::string acc = kAccumulatorPrefix;
  b.tensors.push_back(table_tensor((acc + kUserTable).c_str(), model.user_table(), state.user_accumulator));
  b.tensors.push_back(table_tensor((acc + kItemTable).c_str(), model.item_table(), state.item_accumulator));
  for (size_t p = 0; p < head.size(); ++p) {
    b.tensors.push_back({acc + head[p].name, {head[p].size}, state.dense_accumulators[p]});
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

    // Weights, in file order, then one accumulator of the same shape each.
    for (const auto& tensor : b.tensors) {
      if (tensor.name.rfind(kAccumulatorPrefix, 0) != 0) c.weights.push_back(tensor);
    }
    TANDEM_CHECK(c.weights.size() >= 2 && c.weights[0].name == kUserTable &&
                     c.weights[1].name == kItemTable,
                 "the weights do not start with the user and item embeddings");
    for (size_t w = 0; w < c.weights.size(); ++w) {
      const Tensor& acc = b.tensor(kAccumulatorPrefix + c.weights[w].name);
      TANDEM_CHECK(acc.shape == c.weights[w].shape,
                   "accumulator " << acc.name << " differs in shape from its weights");
      if (w == 0) {
        s.user_accumulator = acc.data;
      } else if (w == 1) {
        s.item_accumulator = acc.data;
      } else {
        s.dense_accumulators.push_back(acc.data);
      }
    }
    TANDEM_CHECK(b.tensors.size() == 2 * c.weights.size(),
                 "holds tensors that are neither weights nor their accumulators");
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
  auto head = model.dense_parameters();
  TANDEM_CHECK(c.weights.size() == head.size() + 2,
               source << ": the checkpoint holds " << c.weights.size() - 2
                      << " rating-head parameters, the configured model " << head.size());
  auto copy = [&](const Tensor& t, const std::string& name, std::vector<int64_t> shape, float* dst) {
    TANDEM_CHECK(t.name == name && t.shape == shape,
                 source << ": checkpoint tensor '" << t.name << "' does not fit the configured "
                        << "model's '" << name << "' (different data or dimensions)");
    std::memcpy(dst, t.data.data(), t.data.size() * sizeof(float));
  };
  EmbeddingTable& users = model.user_table();
  EmbeddingTable& items = model.item_table();
  copy(c.weights[0], kUserTable, {users.rows, users.dim}, users.weights.data());
  copy(c.weights[1], kItemTable, {items.rows, items.dim}, items.weights.data());
  for (size_t p = 0; p < head.size(); ++p) copy(c.weights[p + 2], head[p].name, {head[p].size}, head[p].value);
}

}  // namespace tandem
