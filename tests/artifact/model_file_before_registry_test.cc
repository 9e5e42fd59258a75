// A model file written by main at 03a2d04, before the settings registry
// renamed the config's keys (tests/fixtures/main-03a2d04/README.md): it still
// loads, with its old keys read under their new names, and evaluates to the
// figures that main's `tandem evaluate --json` stored beside it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tandem/artifact/reference_split.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/data/ratings_writer.h"
#include "tandem/data/synthetic.h"
#include "tandem/evaluate/evaluation.h"
#include "tandem/experiment/experiment.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

fs::path fixture_dir() {
  const char* src = std::getenv("TANDEM_SOURCE_DIR");
  return (src ? fs::path(src) : fs::current_path()) / "tests" / "fixtures" / "main-03a2d04";
}

// got == want key for key: integers, strings and booleans exactly, other
// numbers within 1e-6 relative (the "auc" key within auc_tolerance).
void expect_json_near(const nlohmann::json& got, const nlohmann::json& want, const std::string& at,
                      double auc_tolerance) {
  if (want.is_object()) {
    ASSERT_TRUE(got.is_object()) << at << ": " << got.dump();
    for (const auto& [key, value] : want.items()) {
      ASSERT_TRUE(got.contains(key)) << at << "." << key << " is missing";
      expect_json_near(got.at(key), value, at + "." + key, auc_tolerance);
    }
    for (const auto& [key, value] : got.items())
      EXPECT_TRUE(want.contains(key)) << at << "." << key << " is new: " << value.dump();
  } else if (want.is_number_float() || got.is_number_float()) {
    ASSERT_TRUE(got.is_number()) << at << ": " << got.dump();
    const double w = want.get<double>();
    const double tolerance = at == ".auc" ? auc_tolerance : 1e-6 * std::max(1.0, std::abs(w));
    EXPECT_NEAR(got.get<double>(), w, tolerance) << at;
  } else {
    EXPECT_EQ(got, want) << at;
  }
}

TEST(ModelFileBeforeRegistry, LoadsAndEvaluatesAsMainDid) {
  const fs::path dir = fixture_dir();
  ASSERT_TRUE(fs::exists(dir / "model.tandem")) << dir;
  // The README's data: tandem synth --users 60 --items 40 --interactions 1500 --seed 3.
  const fs::path data = fs::temp_directory_path() / ("tandem-fixture-" + std::to_string(::getpid()));
  fs::create_directories(data);
  SyntheticSpec spec;
  spec.users = 60;
  spec.items = 40;
  spec.interactions = 1500;
  spec.seed = 3;
  write_ratings(generate_synthetic(spec), (data / "u.data").string());

  TrainedModel m = load_model((dir / "model.tandem").string());
  // The old keys: train.distinct_rows (inverted) and evaluate.eval_batch_size.
  EXPECT_FALSE(m.config.distinct_rows);
  EXPECT_EQ(m.config.eval_batch_size, 64);
  EXPECT_EQ(m.config.batch_size, 128);
  EXPECT_EQ(m.config.multitask.arch, MultitaskArch::kMmoe);
  EXPECT_EQ(m.config.item_key, ItemKey::kId);
  EXPECT_EQ(m.config.id_mode, IdMode::kVocabulary);
  // Written again, it uses the new names.
  const nlohmann::json j = m.config.to_json();
  EXPECT_EQ(j.at("training").at("full_score_matrix"), true);
  EXPECT_EQ(j.at("evaluation").at("batch_size"), 64);

  // As `tandem evaluate --model model.tandem --data DIR --threads 1 --json`.
  m.config.threads = 1;
  m.config.validate();
  apply_threads(m.config);
  const PreparedData test = model_test_set(m, data.string(), "");
  const SeenItems seen{m.seen_offsets, m.seen_items};
  const EvalResult r = evaluate(*m.model, m.config, m.catalogue, test.test, test.test_ratings, {}, &seen);
  nlohmann::json got = r.to_json();
  got["preset"] = m.config.preset;
  got["test"] = test.coverage.to_json();
  got.erase("eval_seconds");  // the timings, removed from the stored file
  got.erase("eval_phase_seconds");
  std::ifstream in(dir / "evaluate.json");
  const nlohmann::json want = nlohmann::json::parse(in);
  // Counts must be equal. The figures are compared to float precision, since
  // another CPU rounds the scores differently in their last bits (other SIMD
  // kernels in OpenBLAS, -march=native). The AUC may differ by two flipped
  // near-tied pairs.
  const double auc_pairs = want.at("auc_positives").get<double>() * want.at("auc_negatives").get<double>();
  expect_json_near(got, want, "", 2.0 / auc_pairs);
  fs::remove_all(data);
}

}  // namespace
}  // namespace tandem
