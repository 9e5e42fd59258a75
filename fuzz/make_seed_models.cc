// Writes the binary seed corpora of the model-file fuzz targets: small model
// files made by the library itself from synthetic ids, titles and weights (no
// MovieLens data, so they may be committed), plus near-valid damaged copies.
//
//   fuzz_make_seed_models fuzz/corpus
//
// writes fuzz/corpus/model_file/*.tandem and fuzz/corpus/trained_model/*.tandem.
// Rerun it after a model-format change and commit what changed.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "resealed_model.h"
#include "tandem/config/experiment_config.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/core/error.h"
#include "tandem/data/examples.h"
#include "tandem/io/model_file.h"

namespace {

namespace fs = std::filesystem;
using tandem::ModelBundle;

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  TANDEM_CHECK(out.good(), "cannot write " << path.string());
  std::printf("%s (%zu bytes)\n", path.c_str(), bytes.size());
}

// One entry of each section kind, including the edge values the format must
// carry: extreme ids, empty lists, an empty string, a zero-sized tensor.
ModelBundle every_section_bundle() {
  ModelBundle b;
  b.metadata = {{"format", "seed"},
                {"numbers", {1, -2.5, 1e-7, 18446744073709551615ull}},
                {"nested", {{"null", nullptr}, {"flag", true}}},
                {"text", "caf\u00e9"}};
  b.id_lists = {{"ids", {1, -5, std::numeric_limits<int64_t>::max(),
                         std::numeric_limits<int64_t>::min(), 0}},
                {"empty", {}}};
  b.string_lists = {{"titles", {"Synthetic A", "", "Caf\u00e9 Imaginaire"}}, {"none", {}}};
  b.tensors = {{"bias", {3}, {-0.0f, 1.5f, std::numeric_limits<float>::denorm_min()}},
               {"matrix", {2, 2}, {1.0f, -2.0f, 3.0f, std::numeric_limits<float>::infinity()}},
               {"empty", {0, 4}, {}}};
  return b;
}

void write_model_file_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const std::string good = tandem::encode_model(every_section_bundle());
  write_bytes(dir / "every_section.tandem", good);
  write_bytes(dir / "empty_bundle.tandem", tandem::encode_model(ModelBundle{}));
  // Near-valid: each damaged in one place the reader checks.
  write_bytes(dir / "truncated_header.tandem", good.substr(0, 20));
  write_bytes(dir / "truncated_payload.tandem", good.substr(0, good.size() / 2));
  std::string v = good;
  v[8] = 2;  // version
  write_bytes(dir / "version_2.tandem", v);
  std::string f = good;
  f[12] = 1;  // flags
  write_bytes(dir / "flags_set.tandem", f);
  std::string c = good;
  c[40] ^= 0x20;  // a payload byte, checksum left stale
  write_bytes(dir / "checksum_mismatch.tandem", c);
  write_bytes(dir / "trailing_byte.tandem", good + '\0');
  write_bytes(dir / "foreign.tandem", "PK\x03\x04 not a model");
}

// A trained model in miniature: dimension 4, a head of one 8-unit layer,
// synthetic ids and titles, weights from the model's own seeded init.
tandem::TrainedModel tiny_model(const std::string& preset, tandem::Vocabulary users,
                                tandem::Vocabulary items, const std::vector<int64_t>& item_ids) {
  tandem::TrainedModel m;
  m.config = tandem::preset_config(preset);
  m.config.embedding_dim = 4;
  m.config.layer_sizes = {8};
  m.config.train_count = 6;
  m.config.test_count = 2;
  m.users = std::move(users);
  m.items = std::move(items);
  for (const int64_t id : item_ids) {
    m.catalogue.items.item_ids.push_back(id);
    m.catalogue.items.titles.push_back("Synthetic Item " + std::to_string(id));
    m.catalogue.rows.push_back(*m.items.find(id));
  }
  tandem::ModelShape shape;
  shape.user_rows = m.users.rows();
  shape.item_rows = m.items.rows();
  shape.dim = m.config.embedding_dim;
  shape.hidden = m.config.layer_sizes;
  m.model = std::make_unique<tandem::MultiTaskModel>(shape, 1);
  m.model->init(m.config.seed);
  // Each user row rated the first catalogue items, some twice.
  tandem::Examples train;
  for (int32_t u = 0; u < m.users.rows(); ++u)
    for (size_t i = 0; i <= static_cast<size_t>(u) % m.catalogue.size(); ++i) {
      train.users.push_back(u);
      train.items.push_back(m.catalogue.rows[i]);
      train.labels.push_back(1.0f);
    }
  m.set_training_interactions(train);
  m.metrics = {{"note", "synthetic fuzz seed"}, {"rmse", 0.5}};
  return m;
}

// `file` with spaces after the numbers of its config's model section: JSON
// ignores them, and they give the mutator room to grow a number (layer sizes,
// embedding dimension) in place. Growing it any other way shifts the bytes
// after it and breaks the metadata length, which stops the decoder long
// before the loader sees the shape.
std::string with_padded_model_config(const std::string& file) {
  const size_t meta_at = tandem::fuzz::kModelHeaderBytes + 4;  // after the "META" tag
  uint64_t meta_len = 0;
  for (size_t i = 0; i < 8; ++i)
    meta_len |= uint64_t{static_cast<unsigned char>(file[meta_at + i])} << (8 * i);
  std::string meta = file.substr(meta_at + 8, meta_len);
  const std::string pad(8, ' ');
  for (const std::string key : {"\"embedding_dim\":4", "\"layer_sizes\":[8"}) {
    const size_t at = meta.find(key);
    TANDEM_CHECK(at != std::string::npos, "seed metadata lacks " << key);
    meta.insert(at + key.size(), pad);
  }
  std::string out = file.substr(0, meta_at);
  out.append(8, '\0');
  tandem::fuzz::store_le64(out, meta_at, meta.size());
  out += meta;
  out += file.substr(meta_at + 8 + meta_len);
  return tandem::fuzz::resealed(out).value_or(out);
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_trained_model_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  // Keras-RS style: integer ids are rows.
  tandem::save_model((dir / "identity_vocabulary.tandem").string(),
                     tiny_model("kerasrs", tandem::Vocabulary::identity(3),
                                tandem::Vocabulary::identity(5), {1, 2, 3, 4, 5}));
  // TFRS style: looked-up ids with an out-of-vocabulary row.
  tandem::save_model((dir / "lookup_vocabulary.tandem").string(),
                     tiny_model("tfrs", tandem::Vocabulary::lookup({3, 8, 20}),
                                tandem::Vocabulary::lookup({5, 7, 100}), {5, 7, 100}));
  for (const auto& entry : fs::directory_iterator(dir))
    std::printf("%s (%ju bytes)\n", entry.path().c_str(),
                static_cast<uintmax_t>(fs::file_size(entry.path())));
  write_bytes(dir / "padded_config.tandem",
              with_padded_model_config(read_bytes(dir / "identity_vocabulary.tandem")));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT (e.g. fuzz/corpus)\n", argv[0]);
    return 2;
  }
  try {
    write_model_file_seeds(fs::path(argv[1]) / "model_file");
    write_trained_model_seeds(fs::path(argv[1]) / "trained_model");
  } catch (const tandem::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
