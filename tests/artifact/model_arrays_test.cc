// A model's rows as arrays (what the Python module and export hand out):
// ids line up with the rows whose vectors they label.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "support/tiny_movielens.h"
#include "tandem/artifact/model_arrays.h"
#include "tandem/experiment/experiment.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TrainedModel tiny(const char* preset) {
  const fs::path dir = fs::temp_directory_path() / ("tandem_model_arrays_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir);
  const ExperimentConfig c = testing::tiny_config(preset, dir);
  auto [model, result] = train_and_evaluate(c, prepare_data(c), "joint");
  fs::remove_all(dir);
  return std::move(model);
}

TEST(ModelArrays, IdentityIdsAreTheRowsAndVectorsTheTable) {
  const TrainedModel m = tiny("kerasrs");
  const RowIds users = user_row_ids(m);
  ASSERT_EQ(static_cast<int64_t>(users.ids.size()), m.users.rows());
  for (size_t r = 0; r < users.ids.size(); ++r) EXPECT_EQ(users.ids[r], static_cast<int64_t>(r));
  EXPECT_FALSE(users.has_names);
  ASSERT_TRUE(user_vectors_are_table(m));
  const std::vector<float> v = user_query_vectors(m);
  const EmbeddingTable& t = m.model->user_table();
  ASSERT_EQ(v.size(), t.weights.size());
  EXPECT_EQ(v, t.weights);
  const RowIds items = catalogue_item_ids(m);
  EXPECT_EQ(items.ids, m.catalogue.items.item_ids);
  EXPECT_EQ(catalogue_titles(m).size(), items.ids.size());
}

TEST(ModelArrays, LookupVocabulariesMarkTheOovRowAndMapBack) {
  const TrainedModel m = tiny("tfrs");
  const RowIds users = user_row_ids(m);
  ASSERT_EQ(static_cast<int64_t>(users.ids.size()), m.users.rows());
  EXPECT_EQ(users.ids[0], -1);  // the out-of-vocabulary row
  for (size_t r = 1; r < users.ids.size(); ++r) {
    const auto row = m.users.find(users.ids[r]);
    ASSERT_TRUE(row.has_value()) << r;
    EXPECT_EQ(*row, static_cast<int32_t>(r));
  }
  // The catalogue's vectors are its rows' vectors.
  const std::vector<float> all = user_query_vectors(m);
  const int64_t d = m.model->task_dim();
  std::vector<float> one(static_cast<size_t>(d)), scratch;
  const int32_t row = 3;
  m.model->user_vectors(Task::kRetrieval, &row, 1, one.data(), scratch);
  EXPECT_EQ(std::vector<float>(all.begin() + row * d, all.begin() + (row + 1) * d), one);
}

}  // namespace
}  // namespace tandem
