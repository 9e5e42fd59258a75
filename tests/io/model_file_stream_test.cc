// The streaming model-file writer: its files are byte for byte what
// encode_model makes of the same content (bundles of every kind of section,
// sizes beyond its buffer, id lists produced in uneven chunks), it refuses
// what encode_model refuses with the same messages, and a producer that
// hands the wrong number of values fails naming the file, leaving nothing.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <string>

#include <gtest/gtest.h>

#include "io/model_file_helpers.h"
#include "support/temp_dir.h"
#include "tandem/core/error.h"
#include "tandem/io/model_file.h"
#include "tandem/io/model_file_stream.h"

namespace tandem_test {
namespace {

namespace fs = std::filesystem;
using tandem::testing::TempDir;
using tandem::bundle_of;
using tandem::encode_model;
using tandem::IdChunkSink;
using tandem::ModelBundle;
using tandem::ModelSections;
using tandem::sections_of;
using tandem::write_model_sections;

class ModelFileStream : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  size_t entries() const { return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {})); }
  TempDir scratch_{"tandem_io_stream"};
  const fs::path& dir_ = scratch_.path();
};

// Sections larger than the writer's 1 MiB buffer, one exactly its size, and
// many small ones between them.
ModelBundle large_bundle() {
  ModelBundle b = sample_bundle();
  std::vector<int64_t> ids(300000);
  std::iota(ids.begin(), ids.end(), -1000);
  b.id_lists.emplace_back("many_ids", ids);
  b.id_lists.emplace_back("exactly_a_buffer", std::vector<int64_t>(131072, 7));
  std::vector<std::string> titles;
  for (int i = 0; i < 5000; ++i) titles.push_back("title " + std::to_string(i * 7919));
  b.string_lists.emplace_back("titles_many", titles);
  std::vector<float> w(700 * 513);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i) * 0.001f - 3.0f;
  b.tensors.push_back({"wide", {700, 513}, w});
  b.tensors.push_back({"scalar_like", {1}, {2.5f}});
  return b;
}

TEST_F(ModelFileStream, StreamedBytesEqualEncodeModelForVariedBundles) {
  ModelBundle only_meta;
  only_meta.metadata = {{"x", 1}};
  for (const auto& [name, b] : {std::pair{"empty", ModelBundle{}}, std::pair{"sample", sample_bundle()},
                                std::pair{"only_meta", only_meta}, std::pair{"large", large_bundle()}}) {
    SCOPED_TRACE(name);
    const std::string p = path(std::string(name) + ".tandem");
    write_model_sections(p, sections_of(b));
    EXPECT_EQ(slurp(p), encode_model(b));
    // write_model_file streams too.
    tandem::write_model_file(p, b);
    EXPECT_EQ(slurp(p), encode_model(b));
    expect_same(b, tandem::read_model_file(p));
    EXPECT_EQ(encode_model(bundle_of(sections_of(b))), encode_model(b));
  }
}

TEST_F(ModelFileStream, IdListsProducedInChunksAndWidenedEqualTheWholeList) {
  std::vector<int32_t> narrow(200001);
  for (size_t i = 0; i < narrow.size(); ++i) narrow[i] = static_cast<int32_t>(i * 2654435761u);
  const std::vector<int64_t> wide(narrow.begin(), narrow.end());
  ModelBundle reference;
  reference.metadata = {{"k", "v"}};
  reference.id_lists = {{"first", {1, 2, 3}}, {"narrow", wide}, {"uneven", wide}};
  ModelSections s;
  s.metadata = reference.metadata;
  const std::vector<int64_t> first{1, 2, 3};
  s.id_lists.push_back(tandem::id_list_of("first", first));
  s.id_lists.push_back(tandem::id_list_widened("narrow", narrow));
  // Chunks of 1, 2, 3, ... values, and an empty one.
  s.id_lists.push_back({"uneven", wide.size(), [&](const IdChunkSink& sink) {
                          sink(wide.data(), 0);
                          size_t at = 0;
                          for (size_t n = 1; at < wide.size(); ++n) {
                            const size_t m = std::min(n, wide.size() - at);
                            sink(wide.data() + at, m);
                            at += m;
                          }
                        }});
  const std::string p = path("chunks.tandem");
  write_model_sections(p, s);
  EXPECT_EQ(slurp(p), encode_model(reference));
  EXPECT_EQ(encode_model(bundle_of(s)), encode_model(reference));
}

TEST_F(ModelFileStream, AProducerHandingTheWrongCountFailsNamingTheFileAndLeavesTheOldOne) {
  const std::string p = path("m.tandem");
  tandem::write_model_file(p, sample_bundle());
  const std::string before = slurp(p);
  const std::vector<int64_t> v{1, 2, 3};
  for (const uint64_t claimed : {uint64_t{2}, uint64_t{4}}) {
    SCOPED_TRACE(claimed);
    ModelSections s;
    s.id_lists.push_back({"ids", claimed, [&](const IdChunkSink& sink) { sink(v.data(), v.size()); }});
    const std::string msg = error_of([&] { write_model_sections(p, s); });
    EXPECT_EQ(msg, claimed == 2 ? p + ": id list 'ids' produced more than its 2 values"
                                : p + ": id list 'ids' produced 3 of its 4 values");
    EXPECT_EQ(slurp(p), before);
    EXPECT_EQ(entries(), 1u);  // no temporary left
  }
}

TEST_F(ModelFileStream, RefusesWhatEncodeModelRefusesWithTheSameMessage) {
  const auto both = [&](const ModelBundle& b) {
    const std::string p = path("bad.tandem");
    const std::string streamed = error_of([&] { write_model_sections(p, sections_of(b)); });
    const std::string encoded = error_of([&] { encode_model(b); });
    EXPECT_FALSE(encoded.empty());
    EXPECT_EQ(streamed, p + encoded.substr(std::string("encode_model").size()));
    EXPECT_FALSE(fs::exists(p));
    EXPECT_EQ(entries(), 0u);
  };
  ModelBundle b = sample_bundle();
  b.tensors[1].shape = {2, 2};
  both(b);
  b = sample_bundle();
  b.id_lists.push_back(b.id_lists[0]);
  both(b);
  b = sample_bundle();
  b.string_lists[0].first = "";
  both(b);
  b = sample_bundle();
  b.string_lists[0].second.push_back(std::string((1u << 20) + 1, 'x'));
  both(b);
  b = sample_bundle();
  b.tensors[0].shape = {1, 1, 1, 1, 1, 1, 1, 1, 3};
  both(b);
  b = ModelBundle{};
  b.metadata = nlohmann::json::array();
  both(b);
}

}  // namespace
}  // namespace tandem_test
