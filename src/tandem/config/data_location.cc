#include "tandem/config/data_location.h"

#include <filesystem>

#include "tandem/core/error.h"
#include "tandem/data/data_dir.h"

namespace tandem {

void locate_data(ExperimentConfig& c, const std::string& data_dir, const std::string& train_file,
                 const std::string& test_file, bool need_data) {
  namespace fs = std::filesystem;
  const std::string data_arg = !data_dir.empty() ? data_dir : c.data_dir;
  if (!train_file.empty()) c.train_file = fs::absolute(train_file).string();
  if (!test_file.empty()) c.test_file = fs::absolute(test_file).string();
  if (!need_data) return;
  if (!c.train_file.empty() || !c.test_file.empty() || c.data_format == "csv") {
    try {
      c.data_dir = fs::absolute(resolve_data_dir(data_arg)).lexically_normal().string();
    } catch (const Error&) {
      if (!data_arg.empty()) throw;
      c.data_dir.clear();
    }
  } else {
    c.data_dir = fs::absolute(resolve_data_dir(data_arg)).lexically_normal().string();
  }
}

}  // namespace tandem
