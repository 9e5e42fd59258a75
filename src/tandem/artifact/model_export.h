// `tandem export`: a trained model as a file other tools read without Tandem:
// a NumPy .npz archive (np.load) or a safetensors file. Both hold the same
// arrays under the same names: the user and item retrieval vectors with
// their raw ids (and strings, for models trained on string ids), the item
// titles, every embedding table and dense weight by name, and the config as
// JSON metadata. docs/export.md describes the layout.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/artifact/trained_model.h"

namespace tandem {

enum class ExportFormat { kNpz, kSafetensors };

// "npz" or "safetensors"; anything else throws tandem::Error naming the
// valid ones.
ExportFormat export_format_from(std::string_view name);
const char* export_format_name(ExportFormat f);

// One array as written: its name, its element type as the format spells it
// ('<f4', '<i8', '<U12' in npz; "F32", "I64", "U8" in safetensors), shape
// and data bytes.
struct ExportedArray {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t bytes = 0;
};

struct ExportSummary {
  ExportFormat format = ExportFormat::kNpz;
  std::string path;
  std::vector<ExportedArray> arrays;  // in file order
  uint64_t file_bytes = 0;            // the whole file's size
  nlohmann::json to_json() const;
};

// Writes the model to `path` atomically (a temporary beside it, renamed over
// it once complete; on any error nothing is left behind and an existing
// file is untouched). Arrays are produced one at a time, so the export holds
// at most one computed array (the user or item vectors) besides the model.
ExportSummary export_model(const TrainedModel& m, ExportFormat f, const std::string& path);

}  // namespace tandem
