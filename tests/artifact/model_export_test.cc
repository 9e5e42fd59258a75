// tandem export: the .npz and safetensors files are read back by readers
// written from the formats' specifications (support/export_readers.h), and
// every array is compared with the model it came from.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/export_readers.h"
#include "support/tiny_movielens.h"
#include "tandem/artifact/model_arrays.h"
#include "tandem/artifact/model_export.h"
#include "tandem/core/error.h"
#include "tandem/data/ratings.h"
#include "tandem/experiment/experiment.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

using testing::byte_strings;
using testing::file_bytes;
using testing::read_npz;
using testing::read_safetensors;
using testing::ReadArray;
using testing::ReadFile;
using testing::unicode_strings;

std::vector<std::string> strings_of(const ReadFile& f, ExportFormat format, const std::string& name) {
  return format == ExportFormat::kNpz ? unicode_strings(f.arrays.at(name)) : byte_strings(f, name);
}

std::string dtype_f32(ExportFormat f) { return f == ExportFormat::kNpz ? "<f4" : "F32"; }
std::string dtype_i64(ExportFormat f) { return f == ExportFormat::kNpz ? "<i8" : "I64"; }

class ModelExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tandem_model_export_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    testing::write_tiny_movielens(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  TrainedModel train(const ExperimentConfig& c) {
    auto [model, result] = train_and_evaluate(c, prepare_data(c), "joint");
    return std::move(model);
  }

  // Exports `m` in format f, reads the file back, and checks what every
  // model has: ids, vectors, titles, tables, dense weights, metadata and the
  // summary.
  ReadFile export_and_check(const TrainedModel& m, ExportFormat format) {
    const fs::path path = dir_ / (std::string("m.") + export_format_name(format));
    const ExportSummary s = export_model(m, format, path.string());
    const ReadFile f = format == ExportFormat::kNpz ? read_npz(path) : read_safetensors(path);
    EXPECT_EQ(s.file_bytes, fs::file_size(path));
    std::vector<std::string> summary_names;
    for (const auto& a : s.arrays) {
      summary_names.push_back(a.name);
      const auto it = f.arrays.find(a.name);
      if (it == f.arrays.end()) continue;
      EXPECT_EQ(a.dtype, it->second.dtype) << a.name;
      EXPECT_EQ(a.shape, it->second.shape) << a.name;
      EXPECT_EQ(a.bytes, it->second.bytes.size()) << a.name;
    }
    EXPECT_EQ(summary_names, f.order);

    const int64_t d = m.model->task_dim();
    const RowIds users = user_row_ids(m), items = catalogue_item_ids(m);
    const auto& uid = f.arrays.at("user_ids");
    EXPECT_EQ(uid.dtype, dtype_i64(format));
    EXPECT_EQ(uid.shape, (std::vector<int64_t>{m.users.rows()}));
    EXPECT_EQ(uid.values<int64_t>(), users.ids);
    const auto& uemb = f.arrays.at("user_embeddings");
    EXPECT_EQ(uemb.dtype, dtype_f32(format));
    EXPECT_EQ(uemb.shape, (std::vector<int64_t>{m.users.rows(), d}));
    EXPECT_EQ(uemb.values<float>(), user_query_vectors(m));

    const auto& iid = f.arrays.at("item_ids");
    EXPECT_EQ(iid.shape, (std::vector<int64_t>{static_cast<int64_t>(m.catalogue.rows.size())}));
    EXPECT_EQ(iid.values<int64_t>(), items.ids);
    const auto& iemb = f.arrays.at("item_embeddings");
    EXPECT_EQ(iemb.shape, (std::vector<int64_t>{static_cast<int64_t>(m.catalogue.rows.size()), d}));
    EXPECT_EQ(iemb.values<float>(), m.catalogue_embeddings());
    EXPECT_EQ(strings_of(f, format, "item_titles"), m.catalogue.items.titles);

    // Every table and every dense weight, by name, with its values.
    for (const TableView& t : m.model->sparse_parameter_values()) {
      const std::string name = t.name == "user_embedding" ? "tables/user"
                               : t.name == "item_embedding" ? "tables/item"
                                                            : "tables/" + t.name;
      EXPECT_TRUE(f.arrays.count(name)) << name;
      if (!f.arrays.count(name)) continue;
      const auto& a = f.arrays.at(name);
      EXPECT_EQ(a.shape, (std::vector<int64_t>{t.table->rows, t.table->dim})) << name;
      EXPECT_EQ(a.values<float>(), t.table->weights) << name;
    }
    for (const ParameterView& p : m.model->dense_parameter_values()) {
      const std::string name = "weights/" + p.name;
      EXPECT_TRUE(f.arrays.count(name)) << name;
      if (!f.arrays.count(name)) continue;
      const auto& a = f.arrays.at(name);
      int64_t n = 1;
      for (int64_t x : a.shape) n *= x;
      EXPECT_EQ(n, p.size) << name;
      EXPECT_EQ(a.values<float>(), std::vector<float>(p.value, p.value + p.size)) << name;
    }

    // The metadata: the config as JSON (text in safetensors' string map).
    const nlohmann::json config = format == ExportFormat::kNpz
                                      ? f.metadata.at("config")
                                      : nlohmann::json::parse(f.metadata.at("config").get<std::string>());
    EXPECT_EQ(config, m.config.to_json());
    EXPECT_EQ(f.metadata.at("format"), "tandem-export");
    const std::string dim_text = format == ExportFormat::kNpz ? f.metadata.at("dim").dump()
                                                              : f.metadata.at("dim").get<std::string>();
    EXPECT_EQ(dim_text, std::to_string(d));
    const nlohmann::json described = format == ExportFormat::kNpz
                                         ? f.metadata.at("arrays")
                                         : nlohmann::json::parse(f.metadata.at("arrays").get<std::string>());
    for (const auto& name : f.order) {
      if (name == "metadata") continue;
      EXPECT_TRUE(described.contains(name)) << name << " has no description";
    }
    return f;
  }

  fs::path dir_;
};

TEST_F(ModelExportTest, SharedBottomModelExportsItsTablesAndWeights) {
  const TrainedModel m = train(testing::tiny_config("kerasrs", dir_));
  for (const ExportFormat format : {ExportFormat::kNpz, ExportFormat::kSafetensors}) {
    SCOPED_TRACE(export_format_name(format));
    const ReadFile f = export_and_check(m, format);
    EXPECT_EQ(f.metadata.at("ids"), "integer");
    EXPECT_FALSE(f.arrays.count("user_names") || f.arrays.count("user_names.bytes"));
    // A shared bottom: the vectors are the tables' rows.
    const std::vector<float> users = f.arrays.at("user_embeddings").values<float>();
    EXPECT_EQ(users, m.model->sparse_parameter_values()[0].table->weights);
    const std::vector<float> items = f.arrays.at("item_embeddings").values<float>();
    const EmbeddingTable& item_table = *m.model->sparse_parameter_values()[1].table;
    for (size_t i = 0; i < m.catalogue.rows.size(); ++i)
      for (int64_t k = 0; k < 8; ++k)
        ASSERT_EQ(items[i * 8 + static_cast<size_t>(k)], item_table.row(m.catalogue.rows[i])[k]) << i;
    // The tiny head: 2 x dim 8 in, layers 16 and 8, one output.
    EXPECT_EQ(f.arrays.at("weights/rating_head.0.kernel").shape, (std::vector<int64_t>{16, 16}));
    EXPECT_EQ(f.arrays.at("weights/rating_head.0.bias").shape, (std::vector<int64_t>{16}));
    EXPECT_EQ(f.arrays.at("weights/rating_head.1.kernel").shape, (std::vector<int64_t>{16, 8}));
    EXPECT_EQ(f.arrays.at("weights/rating_head.2.kernel").shape, (std::vector<int64_t>{8, 1}));
    // Integer ids: the identity vocabulary's row r is raw id r.
    const std::vector<int64_t> ids = f.arrays.at("user_ids").values<int64_t>();
    EXPECT_EQ(ids[7], 7);
  }
}

TEST_F(ModelExportTest, SameModelExportsToTheSameBytes) {
  const TrainedModel m = train(testing::tiny_config("kerasrs", dir_));
  for (const ExportFormat format : {ExportFormat::kNpz, ExportFormat::kSafetensors}) {
    export_model(m, format, (dir_ / "a").string());
    export_model(m, format, (dir_ / "b").string());
    EXPECT_EQ(file_bytes(dir_ / "a"), file_bytes(dir_ / "b")) << export_format_name(format);
  }
}

TEST_F(ModelExportTest, LookupVocabularyHasOovRowAndTitleKeyedCatalogue) {
  testing::write_tiny_shared_title(dir_);  // movies 3 and 5 share a title: one catalogue entry
  const TrainedModel m = train(testing::tiny_config("tfrs", dir_));
  ASSERT_TRUE(m.users.has_oov());
  ASSERT_EQ(m.catalogue.rows.size(), 41u);
  for (const ExportFormat format : {ExportFormat::kNpz, ExportFormat::kSafetensors}) {
    SCOPED_TRACE(export_format_name(format));
    const ReadFile f = export_and_check(m, format);
    const std::vector<int64_t> users = f.arrays.at("user_ids").values<int64_t>();
    EXPECT_EQ(users[0], -1) << "row 0 is the out-of-vocabulary row";
    EXPECT_EQ(std::count(users.begin(), users.end(), -1), 1);
    const std::vector<std::string> titles = strings_of(f, format, "item_titles");
    EXPECT_EQ(std::count(titles.begin(), titles.end(), "Movie 3"), 1);
    EXPECT_EQ(f.arrays.at("item_ids").shape, (std::vector<int64_t>{41}));
  }
}

TEST_F(ModelExportTest, StringIdsAreExportedAsStrings) {
  // ratings.csv with ids "u1", "u2", ... for users and items.
  const Ratings r = load_ratings((dir_ / "u.data").string());
  {
    std::ofstream out(dir_ / "ratings.csv");
    out << "who,item,stars,when\n";
    for (size_t i = 0; i < r.size(); ++i)
      out << 'u' << r.users[i] << ",u" << r.items[i] << ',' << r.ratings[i] << ',' << r.timestamps[i] << '\n';
    std::ofstream items(dir_ / "items.tsv");
    items << "title\tid\n";
    for (int i = 1; i <= 42; ++i) items << "Film " << i << "\tu" << i << '\n';
  }
  ExperimentConfig c = testing::tiny_config("tfrs", dir_);
  c.data_format = "csv";
  c.csv.ratings_file = (dir_ / "ratings.csv").string();
  c.csv.items_file = (dir_ / "items.tsv").string();
  c.csv.user = ColumnRef::named("who");
  c.csv.item = ColumnRef::named("item");
  c.csv.rating = ColumnRef::named("stars");
  c.csv.timestamp = ColumnRef::named("when");
  c.csv.item_id = ColumnRef::named("id");
  c.csv.item_title = ColumnRef::named("title");
  TrainedModel m = train(c);
  ASSERT_NE(m.names.users, nullptr);
  // Titles beyond ASCII: UTF-8 becomes its code points; a byte that is not
  // UTF-8 is read as Latin-1 (0xE9: é).
  m.catalogue.items.titles[0] = "Am\xc3\xa9lie \xe2\x98\x83 \xf0\x9f\x8e\xac";
  m.catalogue.items.titles[1] = "Caf\xe9";
  for (const ExportFormat format : {ExportFormat::kNpz, ExportFormat::kSafetensors}) {
    SCOPED_TRACE(export_format_name(format));
    const fs::path path = dir_ / "s.out";
    export_model(m, format, path.string());
    const ReadFile f = format == ExportFormat::kNpz ? read_npz(path) : read_safetensors(path);
    EXPECT_EQ(f.metadata.at("ids"), "string");
    const std::vector<std::string> users = strings_of(f, format, "user_names");
    const std::vector<int64_t> user_ids = f.arrays.at("user_ids").values<int64_t>();
    ASSERT_EQ(users.size(), user_ids.size());
    EXPECT_EQ(users[0], "");  // the OOV row
    for (size_t i = 1; i < users.size(); ++i) EXPECT_EQ(users[i], m.user_name(user_ids[i]));
    EXPECT_NE(std::find(users.begin(), users.end(), "u7"), users.end());
    const std::vector<std::string> items = strings_of(f, format, "item_names");
    ASSERT_EQ(items.size(), m.catalogue.rows.size());
    EXPECT_EQ(items[0], "u1");
    const std::vector<std::string> titles = strings_of(f, format, "item_titles");
    EXPECT_EQ(titles[0], m.catalogue.items.titles[0]);
    // npz holds code points; safetensors the bytes as they are.
    EXPECT_EQ(titles[1], format == ExportFormat::kNpz ? "Caf\xc3\xa9" : "Caf\xe9");
    if (format == ExportFormat::kNpz) {
      EXPECT_EQ(f.arrays.at("item_titles").dtype, "<U10");  // the longest title: "Amélie ☃ 🎬"
    }
  }
}

TEST_F(ModelExportTest, TowersAndExpertsExportEveryWeightWithItsShape) {
  testing::write_tiny_side_files(dir_);
  ExperimentConfig c = testing::tiny_config("kerasrs", dir_);
  testing::enable_all_side_features(c);
  c.multitask.arch = MultitaskArch::kMmoe;
  c.multitask.experts = 2;
  c.multitask.expert_dim = 8;
  c.multitask.weighting = TaskWeighting::kUncertainty;
  const TrainedModel m = train(c);
  ASSERT_GT(m.model->sparse_parameter_values().size(), 2u);
  for (const ExportFormat format : {ExportFormat::kNpz, ExportFormat::kSafetensors}) {
    SCOPED_TRACE(export_format_name(format));
    const ReadFile f = export_and_check(m, format);
    EXPECT_TRUE(f.arrays.count("tables/user_feature.occupation"));
    // Experts over the tower's output (8): 2 experts of width 8; gates: 2
    // tasks x 2 experts; the learned weights: one per task.
    EXPECT_EQ(f.arrays.at("weights/user_moe.experts.kernel").shape, (std::vector<int64_t>{8, 16}));
    EXPECT_EQ(f.arrays.at("weights/user_moe.gates.kernel").shape, (std::vector<int64_t>{8, 4}));
    EXPECT_EQ(f.arrays.at("weights/task_log_variance").shape, (std::vector<int64_t>{2}));
  }
}

TEST_F(ModelExportTest, UnknownFormatNamesTheValidOnes) {
  EXPECT_EQ(export_format_from("npz"), ExportFormat::kNpz);
  EXPECT_EQ(export_format_from("safetensors"), ExportFormat::kSafetensors);
  try {
    export_format_from("onnx");
    FAIL() << "onnx is not a format";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'onnx'"), std::string::npos) << what;
    EXPECT_NE(what.find("npz, safetensors"), std::string::npos) << what;
  }
}

TEST_F(ModelExportTest, FailedExportLeavesNothingAndKeepsTheOldFile) {
  const TrainedModel m = train(testing::tiny_config("kerasrs", dir_));
  for (const ExportFormat format : {ExportFormat::kNpz, ExportFormat::kSafetensors}) {
    SCOPED_TRACE(export_format_name(format));
    const fs::path out = dir_ / "out";
    fs::create_directories(out);
    // A directory that does not exist: nothing is created.
    EXPECT_THROW(export_model(m, format, (out / "missing" / "m.x").string()), Error);
    EXPECT_FALSE(fs::exists(out / "missing"));
    // A target the rename cannot replace (a non-empty directory): the whole
    // file was written to a temporary, which is removed again.
    fs::create_directories(out / "taken" / "x");
    EXPECT_THROW(export_model(m, format, (out / "taken").string()), Error);
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(out)) left.push_back(e.path().filename().string());
    EXPECT_EQ(left, (std::vector<std::string>{"taken"}));
    // A new export replaces an old file whole.
    {
      std::ofstream old(out / "m.x");
      old << "old content";
    }
    export_model(m, format, (out / "m.x").string());
    EXPECT_GT(fs::file_size(out / "m.x"), 1000u);
    fs::remove_all(out);
  }
}

}  // namespace
}  // namespace tandem
