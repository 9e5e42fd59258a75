// Builds small zip archives in tests with libzip: fake MovieLens downloads
// (synthetic ratings, never MovieLens content) and hostile archives.
#pragma once

#include <unistd.h>
#include <zip.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tandem::testing {

// (name, content) pairs; a name ending in '/' is a directory entry.
using ZipEntries = std::vector<std::pair<std::string, std::string>>;

// The bytes of a zip archive holding `entries`, deflated, in order.
inline std::string make_zip(const ZipEntries& entries) {
  static std::atomic<int> counter{0};
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("tandem_zip_builder_" + std::to_string(::getpid()) +
                                                "_" + std::to_string(counter++) + ".zip");
  int code = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (z == nullptr) throw std::runtime_error("zip_open failed: " + std::to_string(code));
  for (const auto& [name, content] : entries) {
    if (!name.empty() && name.back() == '/') {
      if (zip_dir_add(z, name.c_str(), ZIP_FL_ENC_UTF_8) < 0)
        throw std::runtime_error(std::string("zip_dir_add: ") + zip_strerror(z));
      continue;
    }
    // libzip reads the buffer at zip_close, while `entries` is still alive.
    zip_source_t* src = zip_source_buffer(z, content.data(), content.size(), 0);
    if (src == nullptr || zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8) < 0) {
      if (src != nullptr) zip_source_free(src);
      throw std::runtime_error(std::string("zip_file_add: ") + zip_strerror(z));
    }
  }
  if (zip_close(z) != 0) throw std::runtime_error(std::string("zip_close: ") + zip_strerror(z));
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  return bytes;
}

// A fake ml-100k: `users` x `items` synthetic ratings in u.data's format
// (every user rates every item, a rating from a fixed formula) and a u.item
// with made-up titles, under ml-100k/ like the real archive.
inline ZipEntries fake_ml100k(int users = 12, int items = 10) {
  std::string data, item;
  for (int u = 1; u <= users; ++u)
    for (int i = 1; i <= items; ++i)
      data += std::to_string(u) + "\t" + std::to_string(i) + "\t" +
              std::to_string(1 + (u * 7 + i * 3) % 5) + "\t" +
              std::to_string(880000000 + u * 1000 + i) + "\n";
  for (int i = 1; i <= items; ++i)
    item += std::to_string(i) + "|Synthetic Movie " + std::to_string(i) + " (2000)|01-Jan-2000||\n";
  return {{"ml-100k/", ""},
          {"ml-100k/u.data", data},
          {"ml-100k/u.item", item},
          {"ml-100k/README", "synthetic test archive\n"}};
}

}  // namespace tandem::testing
