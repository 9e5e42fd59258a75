#include "tandem/core/byte_size.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "tandem/core/error.h"

namespace tandem {

int64_t parse_byte_size(const std::string& text) {
  std::string s;
  for (char ch : text)
    if (!std::isspace(static_cast<unsigned char>(ch))) s += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (!s.empty() && s.back() == 'B') s.pop_back();
  double scale = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 'K': scale = 1024.0; break;
      case 'M': scale = 1024.0 * 1024; break;
      case 'G': scale = 1024.0 * 1024 * 1024; break;
      case 'T': scale = 1024.0 * 1024 * 1024 * 1024; break;
      default: break;
    }
    if (scale != 1) s.pop_back();
  }
  size_t used = 0;
  double v = -1;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  TANDEM_CHECK(!s.empty() && used == s.size() && std::isfinite(v) && v > 0,
               "memory size '" << text << "' is not a positive size such as 512M, 8G or 1073741824");
  const double bytes = v * scale;
  TANDEM_CHECK(bytes < 9.0e18, "memory size '" << text << "' is too large");
  return static_cast<int64_t>(bytes);
}

std::string format_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

}  // namespace tandem
