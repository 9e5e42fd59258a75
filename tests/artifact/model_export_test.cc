// tandem export: the .npz and safetensors files are read back here by
// readers written from the formats' specifications (libzip + the .npy
// header; the safetensors length, JSON header and offsets), and every array
// is compared with the model it came from.
#include <gtest/gtest.h>

#include <unistd.h>
#include <zip.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/tiny_movielens.h"
#include "tandem/artifact/model_arrays.h"
#include "tandem/artifact/model_export.h"
#include "tandem/core/error.h"
#include "tandem/data/ratings.h"
#include "tandem/experiment/experiment.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

// An array as a reader finds it: the format's type name, shape and bytes.
struct ReadArray {
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;

  template <typename T>
  std::vector<T> values() const {
    EXPECT_EQ(bytes.size() % sizeof(T), 0u);
    std::vector<T> v(bytes.size() / sizeof(T));
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
  }
};

struct ReadFile {
  std::vector<std::string> order;  // names in file order
  std::map<std::string, ReadArray> arrays;
  nlohmann::json metadata;  // npz: the `metadata` array's JSON; safetensors: __metadata__
};

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string utf8_of(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xe0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

// A '<U<n>' array's strings (NUL padding dropped), as UTF-8.
std::vector<std::string> unicode_strings(const ReadArray& a) {
  EXPECT_EQ(a.dtype.substr(0, 2), "<U");
  const size_t width = std::stoul(a.dtype.substr(2));
  const std::vector<char32_t> cps = a.values<char32_t>();
  EXPECT_EQ(cps.size() % width, 0u);
  std::vector<std::string> out;
  for (size_t i = 0; i + width <= cps.size(); i += width) {
    std::string s;
    for (size_t k = i; k < i + width && cps[k] != 0; ++k) s += utf8_of(cps[k]);
    out.push_back(s);
  }
  return out;
}

// One .npy v1.0 file: magic, version 1.0, little-endian header length, the
// header dict (descr, fortran_order, shape), data from a multiple of 64.
ReadArray parse_npy(const std::string& npy, const std::string& name) {
  ReadArray a;
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8)) << name;
  const size_t len = static_cast<unsigned char>(npy[8]) | (static_cast<size_t>(static_cast<unsigned char>(npy[9])) << 8);
  const std::string dict = npy.substr(10, len);
  EXPECT_EQ((10 + len) % 64, 0u) << name << ": data must start at a multiple of 64";
  EXPECT_EQ(dict.back(), '\n') << name;
  const auto field = [&](const std::string& key) {
    const size_t at = dict.find("'" + key + "': ");
    EXPECT_NE(at, std::string::npos) << name << " has no " << key << ": " << dict;
    return at == std::string::npos ? std::string() : dict.substr(at + key.size() + 4);
  };
  const std::string descr = field("descr");
  a.dtype = descr.substr(1, descr.find('\'', 1) - 1);
  EXPECT_EQ(field("fortran_order").substr(0, 5), "False") << name;
  const std::string shape = field("shape");
  const std::string inside = shape.substr(1, shape.find(')') - 1);
  std::stringstream ss(inside);
  for (std::string dim; std::getline(ss, dim, ',');)
    if (dim.find_first_not_of(' ') != std::string::npos) a.shape.push_back(std::stoll(dim));
  a.bytes = npy.substr(10 + len);
  return a;
}

ReadFile read_npz(const fs::path& path) {
  ReadFile f;
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY, &err);
  EXPECT_NE(za, nullptr) << path << ": libzip error " << err;
  if (za == nullptr) return f;
  for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st);
    std::string entry = st.name;
    EXPECT_EQ(st.comp_method, ZIP_CM_STORE) << entry;
    std::string data(st.size, '\0');
    zip_file_t* zf = zip_fopen_index(za, static_cast<zip_uint64_t>(i), 0);
    EXPECT_EQ(zip_fread(zf, data.data(), st.size), static_cast<zip_int64_t>(st.size)) << entry;
    zip_fclose(zf);
    EXPECT_EQ(entry.substr(entry.size() - 4), ".npy");
    const std::string name = entry.substr(0, entry.size() - 4);
    f.order.push_back(name);
    f.arrays[name] = parse_npy(data, name);
  }
  zip_close(za);
  const auto md = f.arrays.find("metadata");
  EXPECT_NE(md, f.arrays.end());
  if (md != f.arrays.end()) {
    EXPECT_TRUE(md->second.shape.empty()) << "metadata is a 0-d array";
    f.metadata = nlohmann::json::parse(unicode_strings(md->second).at(0));
  }
  return f;
}

ReadFile read_safetensors(const fs::path& path) {
  ReadFile f;
  const std::string raw = file_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "the header is padded to a multiple of 8";
  const auto header = nlohmann::ordered_json::parse(raw.substr(8, n));
  const size_t base = 8 + n;
  uint64_t expected_begin = 0;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      for (const auto& [k, s] : v.items()) {
        EXPECT_TRUE(s.is_string()) << "metadata values are strings";
        f.metadata[k] = s;
      }
      continue;
    }
    ReadArray a;
    a.dtype = v.at("dtype");
    a.shape = v.at("shape").get<std::vector<int64_t>>();
    const uint64_t begin = v.at("data_offsets")[0], end = v.at("data_offsets")[1];
    EXPECT_EQ(begin, expected_begin) << name << ": tensors are contiguous, in header order";
    expected_begin = end;
    a.bytes = raw.substr(base + begin, end - begin);
    f.order.push_back(name);
    f.arrays[name] = a;
  }
  EXPECT_EQ(base + expected_begin, raw.size()) << "the tensors end the file";
  return f;
}

std::vector<std::string> byte_strings(const ReadFile& f, const std::string& name) {
  const ReadArray& bytes = f.arrays.at(name + ".bytes");
  EXPECT_EQ(bytes.dtype, "U8");
  const std::vector<int64_t> offsets = f.arrays.at(name + ".offsets").values<int64_t>();
  EXPECT_EQ(offsets.front(), 0);
  EXPECT_EQ(static_cast<size_t>(offsets.back()), bytes.bytes.size());
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < offsets.size(); ++i)
    out.push_back(bytes.bytes.substr(static_cast<size_t>(offsets[i]), static_cast<size_t>(offsets[i + 1] - offsets[i])));
  return out;
}

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
