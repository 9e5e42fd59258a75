// Writing a model file as its sections are produced, for models whose
// content is too large to hold twice: nothing is copied whole, an id list
// can be produced a chunk at a time (an int32 array widened, a column read
// from a store), and the checksum is a streaming XXH64 over the bytes as
// they go to the file. The bytes are exactly those encode_model writes for
// the same content (model_file.h), so files written either way are one
// format, read by every build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/io/model_file.h"

namespace tandem {

// Receives an id list's values, a chunk at a time.
using IdChunkSink = std::function<void(const int64_t* values, size_t n)>;

// An id list the writer pulls in chunks: `produce` hands the sink exactly
// `count` values, in order (the file's length is computed from `count`
// before anything is written).
struct IdListSection {
  std::string name;
  uint64_t count = 0;
  std::function<void(const IdChunkSink&)> produce;
};

struct StringListSection {
  std::string name;
  const std::vector<std::string>* values = nullptr;  // referenced
};

struct TensorSection {
  std::string name;
  std::vector<int64_t> shape;
  const float* data = nullptr;  // `count` values, referenced
  uint64_t count = 0;
};

// A model file's content by reference (everything referenced must outlive
// the write), in the order the file lists it.
struct ModelSections {
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<IdListSection> id_lists;
  std::vector<StringListSection> string_lists;
  std::vector<TensorSection> tensors;
};

// An id list of `values` (referenced).
IdListSection id_list_of(std::string name, const std::vector<int64_t>& values);
// An id list of int32 `values` (referenced), widened to int64 a chunk at a
// time instead of copied whole.
IdListSection id_list_widened(std::string name, const std::vector<int32_t>& values);

// A bundle's sections, by reference.
ModelSections sections_of(const ModelBundle& bundle);
// Everything the sections refer to or produce, copied into a bundle: the
// same content for encode_model (tests compare the two writers with it).
ModelBundle bundle_of(const ModelSections& sections);

// Writes `sections` to `path` atomically (a temporary beside it, fsync,
// rename), byte for byte as write_model_file(path, bundle_of(sections)):
// first every check encode_model makes and the payload's length, before the
// temporary is created; then each section straight to the temporary through
// a 1 MiB buffer, hashed as it goes. Memory: the metadata's JSON text, the
// buffer and a chunk. Errors name `path`; a producer that hands more or fewer
// values than its count is an error, and any error leaves an existing file
// at `path` untouched.
void write_model_sections(const std::string& path, const ModelSections& sections);

}  // namespace tandem
