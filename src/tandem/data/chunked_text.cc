#include "tandem/data/chunked_text.h"

#include <cstring>

#include "tandem/core/error.h"

namespace tandem::data_detail {

std::vector<std::string_view> split_at_lines(std::string_view text, int parts) {
  TANDEM_CHECK(parts >= 1, "cannot cut a text into " << parts << " pieces");
  std::vector<std::string_view> out;
  out.reserve(static_cast<size_t>(parts));
  size_t begin = 0;
  for (int i = 1; i <= parts; ++i) {
    size_t end = text.size();
    if (i < parts) {
      // The even cut, moved forward to just after the next newline (or to
      // the end when the rest holds none); never before the previous cut.
      const size_t target = std::max(begin, text.size() / static_cast<size_t>(parts) * static_cast<size_t>(i));
      const void* nl = target < text.size() ? std::memchr(text.data() + target, '\n', text.size() - target)
                                            : nullptr;
      end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - text.data()) + 1 : text.size();
    }
    out.push_back(text.substr(begin, end - begin));
    begin = end;
  }
  return out;
}

}  // namespace tandem::data_detail
