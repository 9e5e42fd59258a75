// HTTP request bodies and query-string values into the serving API's
// decoders (api_json.h), exactly as the server passes them: every input goes
// through all three.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "tandem/serve/api_json.h"

namespace {

constexpr int64_t kMaxScoreItems = 64;  // small, so the limit is easy to reach

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto body = tandem::fuzz::as_text(data, size);
  tandem::fuzz::accepts([&] { tandem::decode_recommend_request(body); });
  tandem::fuzz::accepts([&] {
    const tandem::ScoreRequest r = tandem::decode_score_request(body, kMaxScoreItems);
    FUZZ_REQUIRE(static_cast<int64_t>(r.item_ids.size()) <= kMaxScoreItems);
  });
  tandem::fuzz::accepts([&] { tandem::decode_int_param("k", std::string(body)); });
  return 0;
}
