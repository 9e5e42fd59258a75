// Model-file bytes all the way to a TrainedModel: decode_model, then
// model_from_bundle (load_model's two steps), as given and resealed (see
// resealed_model.h), so that forged but well-sealed files reach the checks
// of the vocabularies, catalogue, interactions and tensor shapes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "resealed_model.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/io/model_file.h"

namespace {

void load(const std::string& bytes) {
  tandem::fuzz::accepts([&] {
    const tandem::TrainedModel m =
        tandem::model_from_bundle(tandem::decode_model(bytes, "fuzz"), "fuzz");
    // Gathers every catalogue row: a row the loader let through outside the
    // item table is an out-of-bounds read the sanitizers report.
    const std::vector<float> embeddings = m.catalogue_embeddings();
    FUZZ_REQUIRE(embeddings.size() == m.catalogue.size() * static_cast<size_t>(m.model->shape().dim));
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(tandem::fuzz::as_text(data, size));
  load(bytes);
  if (const auto sealed = tandem::fuzz::resealed(bytes)) load(*sealed);
  return 0;
}
