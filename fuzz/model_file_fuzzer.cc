// Model-file bytes into decode_model (what read_model_file does after reading
// the file), both as given and resealed (see resealed_model.h).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_support.h"
#include "resealed_model.h"
#include "tandem/io/model_file.h"

namespace {

void decode(const std::string& bytes) {
  std::optional<tandem::ModelBundle> bundle;
  tandem::fuzz::accepts([&] { bundle = tandem::decode_model(bytes, "fuzz"); });
  if (!bundle) return;
  // Whatever is accepted must re-encode without error (an Error here escapes
  // and is a finding), and the encoding must be a fixed point: decoding and
  // re-encoding it gives the same bytes.
  const std::string once = tandem::encode_model(*bundle);
  FUZZ_REQUIRE(tandem::encode_model(tandem::decode_model(once, "fuzz re-encoded")) == once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(tandem::fuzz::as_text(data, size));
  decode(bytes);
  if (const auto sealed = tandem::fuzz::resealed(bytes)) decode(*sealed);
  return 0;
}
