// Readers of `tandem export`'s files, written from the formats'
// specifications rather than from the writer: an .npz is a zip (libzip) of
// .npy v1.0 files (magic, version, header length, a header dict, data from a
// multiple of 64); a safetensors file is an 8-byte length, a JSON header and
// the tensors' bytes, contiguous in header order.
#pragma once

#include <gtest/gtest.h>

#include <zip.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem::testing {

namespace fs = std::filesystem;

// An array as a reader finds it: the format's type name, shape and bytes.
struct ReadArray {
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;

  template <typename T>
  std::vector<T> values() const {
    EXPECT_EQ(bytes.size() % sizeof(T), 0u);
    std::vector<T> v(bytes.size() / sizeof(T));
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
  }
};

struct ReadFile {
  std::vector<std::string> order;  // names in file order
  std::map<std::string, ReadArray> arrays;
  nlohmann::json metadata;  // npz: the `metadata` array's JSON; safetensors: __metadata__
};

inline std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string utf8_of(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xe0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

// A '<U<n>' array's strings (NUL padding dropped), as UTF-8.
inline std::vector<std::string> unicode_strings(const ReadArray& a) {
  EXPECT_EQ(a.dtype.substr(0, 2), "<U");
  const size_t width = std::stoul(a.dtype.substr(2));
  const std::vector<char32_t> cps = a.values<char32_t>();
  EXPECT_EQ(cps.size() % width, 0u);
  std::vector<std::string> out;
  for (size_t i = 0; i + width <= cps.size(); i += width) {
    std::string s;
    for (size_t k = i; k < i + width && cps[k] != 0; ++k) s += utf8_of(cps[k]);
    out.push_back(s);
  }
  return out;
}

// One .npy v1.0 file: magic, version 1.0, little-endian header length, the
// header dict (descr, fortran_order, shape), data from a multiple of 64.
inline ReadArray parse_npy(const std::string& npy, const std::string& name) {
  ReadArray a;
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8)) << name;
  const size_t len = static_cast<unsigned char>(npy[8]) | (static_cast<size_t>(static_cast<unsigned char>(npy[9])) << 8);
  const std::string dict = npy.substr(10, len);
  EXPECT_EQ((10 + len) % 64, 0u) << name << ": data must start at a multiple of 64";
  EXPECT_EQ(dict.back(), '\n') << name;
  const auto field = [&](const std::string& key) {
    const size_t at = dict.find("'" + key + "': ");
    EXPECT_NE(at, std::string::npos) << name << " has no " << key << ": " << dict;
    return at == std::string::npos ? std::string() : dict.substr(at + key.size() + 4);
  };
  const std::string descr = field("descr");
  a.dtype = descr.substr(1, descr.find('\'', 1) - 1);
  EXPECT_EQ(field("fortran_order").substr(0, 5), "False") << name;
  const std::string shape = field("shape");
  const std::string inside = shape.substr(1, shape.find(')') - 1);
  std::stringstream ss(inside);
  for (std::string dim; std::getline(ss, dim, ',');)
    if (dim.find_first_not_of(' ') != std::string::npos) a.shape.push_back(std::stoll(dim));
  a.bytes = npy.substr(10 + len);
  return a;
}

inline ReadFile read_npz(const fs::path& path) {
  ReadFile f;
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY, &err);
  EXPECT_NE(za, nullptr) << path << ": libzip error " << err;
  if (za == nullptr) return f;
  for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st);
    std::string entry = st.name;
    EXPECT_EQ(st.comp_method, ZIP_CM_STORE) << entry;
    std::string data(st.size, '\0');
    zip_file_t* zf = zip_fopen_index(za, static_cast<zip_uint64_t>(i), 0);
    EXPECT_EQ(zip_fread(zf, data.data(), st.size), static_cast<zip_int64_t>(st.size)) << entry;
    zip_fclose(zf);
    EXPECT_EQ(entry.substr(entry.size() - 4), ".npy");
    const std::string name = entry.substr(0, entry.size() - 4);
    f.order.push_back(name);
    f.arrays[name] = parse_npy(data, name);
  }
  zip_close(za);
  const auto md = f.arrays.find("metadata");
  EXPECT_NE(md, f.arrays.end());
  if (md != f.arrays.end()) {
    EXPECT_TRUE(md->second.shape.empty()) << "metadata is a 0-d array";
    f.metadata = nlohmann::json::parse(unicode_strings(md->second).at(0));
  }
  return f;
}

inline ReadFile read_safetensors(const fs::path& path) {
  ReadFile f;
  const std::string raw = file_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "the header is padded to a multiple of 8";
  const auto header = nlohmann::ordered_json::parse(raw.substr(8, n));
  const size_t base = 8 + n;
  uint64_t expected_begin = 0;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      for (const auto& [k, s] : v.items()) {
        EXPECT_TRUE(s.is_string()) << "metadata values are strings";
        f.metadata[k] = s;
      }
      continue;
    }
    ReadArray a;
    a.dtype = v.at("dtype");
    a.shape = v.at("shape").get<std::vector<int64_t>>();
    const uint64_t begin = v.at("data_offsets")[0], end = v.at("data_offsets")[1];
    EXPECT_EQ(begin, expected_begin) << name << ": tensors are contiguous, in header order";
    expected_begin = end;
    a.bytes = raw.substr(base + begin, end - begin);
    f.order.push_back(name);
    f.arrays[name] = a;
  }
  EXPECT_EQ(base + expected_begin, raw.size()) << "the tensors end the file";
  return f;
}

inline std::vector<std::string> byte_strings(const ReadFile& f, const std::string& name) {
  const ReadArray& bytes = f.arrays.at(name + ".bytes");
  EXPECT_EQ(bytes.dtype, "U8");
  const std::vector<int64_t> offsets = f.arrays.at(name + ".offsets").values<int64_t>();
  EXPECT_EQ(offsets.front(), 0);
  EXPECT_EQ(static_cast<size_t>(offsets.back()), bytes.bytes.size());
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < offsets.size(); ++i)
    out.push_back(bytes.bytes.substr(static_cast<size_t>(offsets[i]), static_cast<size_t>(offsets[i + 1] - offsets[i])));
  return out;
}

}  // namespace tandem::testing
