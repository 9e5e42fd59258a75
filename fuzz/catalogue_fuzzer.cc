// u.item text (pipe-separated, latin-1) into parse_catalogue, the function
// load_catalogue goes through.
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>

#include "fuzz_support.h"
#include "tandem/data/catalogue.h"

namespace {

// Latin-1 to UTF-8 must always yield well-formed UTF-8: every byte below
// 0x80, or a 0xC2/0xC3 lead byte followed by one continuation byte.
bool is_two_byte_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) continue;
    if ((b != 0xC2 && b != 0xC3) || i + 1 == s.size()) return false;
    if ((static_cast<unsigned char>(s[++i]) & 0xC0) != 0x80) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tandem::fuzz::accepts([&] {
    const tandem::Catalogue c = tandem::parse_catalogue(tandem::fuzz::as_text(data, size), "fuzz");
    FUZZ_REQUIRE(c.size() > 0 && c.titles.size() == c.size());
    std::unordered_set<int64_t> ids;
    for (size_t i = 0; i < c.size(); ++i) {
      FUZZ_REQUIRE(c.item_ids[i] >= 0);
      FUZZ_REQUIRE(ids.insert(c.item_ids[i]).second);
      FUZZ_REQUIRE(is_two_byte_utf8(c.titles[i]));
    }
  });
  return 0;
}
