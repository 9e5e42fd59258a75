// model_from_bundle on forged but well-sealed model files: a configuration
// claiming a model far larger than the file's tensors is refused before
// anything is allocated. Found while reviewing what fuzz/trained_model_fuzzer.cc
// could reach (the fuzzer did not hit it in 60 s); the hand-made reproducer
// is in fuzz/regressions/trained_model/.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/tiny_movielens.h"
#include "tandem/experiment/experiment.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/core/error.h"
#include "tandem/io/model_file.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

// One tiny trained model, saved and read back as a bundle.
class TrainedModelBundleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path dir = fs::temp_directory_path() / ("tandem_trained_model_" + std::to_string(::getpid()));
    testing::write_tiny_movielens(dir);
    const ExperimentConfig c = testing::tiny_config("kerasrs", dir);
    auto [model, result] = train_and_evaluate(c, prepare_data(c), "joint");
    save_model((dir / "m.tandem").string(), model);
    bundle_ = new ModelBundle(read_model_file((dir / "m.tandem").string()));
    fs::remove_all(dir);
  }
  static void TearDownTestSuite() { delete bundle_; }

  // The stored values of every tensor, which is what any shape must fit in.
  static uint64_t stored_values(const ModelBundle& b) {
    uint64_t n = 0;
    for (const auto& t : b.tensors) n += t.data.size();
    return n;
  }

  static ModelBundle* bundle_;
};

ModelBundle* TrainedModelBundleTest::bundle_ = nullptr;

std::string refusal(const ModelBundle& b) {
  try {
    model_from_bundle(b, "forged.tandem");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "the forged bundle was accepted";
  return "";
}

TEST_F(TrainedModelBundleTest, TheSavedBundleLoads) {
  const TrainedModel m = model_from_bundle(*bundle_, "m.tandem");
  EXPECT_EQ(parameter_count(m.model->shape()), static_cast<int64_t>(stored_values(*bundle_)));
}

TEST_F(TrainedModelBundleTest, AHugeHeadInTheConfigIsRefusedBeforeAllocating) {
  // Two layers of 65536 units passed validation and made the loader allocate
  // 16 GiB (twice: kernels and their gradients) for a 2 KB file before the
  // shape checks ran.
  ModelBundle b = *bundle_;
  b.metadata["config"]["model"]["layers"] = {65536, 65536};
  ModelShape shape = model_from_bundle(*bundle_, "m.tandem").model->shape();
  shape.hidden = {65536, 65536};
  EXPECT_EQ(refusal(b), "forged.tandem: the configuration and vocabularies need " +
                            std::to_string(parameter_count(shape)) +
                            " parameter values but the file stores " +
                            std::to_string(stored_values(b)));
}

TEST_F(TrainedModelBundleTest, AWiderEmbeddingInTheConfigIsRefusedBeforeAllocating) {
  ModelBundle b = *bundle_;
  b.metadata["config"]["model"]["embedding_dim"] = 4096;
  EXPECT_EQ(refusal(b), "forged.tandem: tensor 'user_embedding' has the wrong shape for the "
                       "model's configuration");
}

}  // namespace
}  // namespace tandem
