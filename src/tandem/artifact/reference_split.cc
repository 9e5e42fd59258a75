#include "tandem/artifact/reference_split.h"

#include <filesystem>

#include "tandem/prepare/split_ratings.h"

namespace tandem {

namespace {

namespace fs = std::filesystem;

// `path` moved into `dir` (same file name), for data that moved.
std::string moved(const std::string& path, const std::string& dir) {
  if (path.empty()) return path;
  return (fs::path(dir) / fs::path(path).filename()).string();
}

}  // namespace

PreparedData model_test_set(const TrainedModel& model, const std::string& data_dir_override,
                            const std::string& test_file) {
  ExperimentConfig c = model.config;
  PreparedData out;
  out.users = model.users;
  out.items = model.items;
  out.catalogue = model.catalogue;
  out.names = model.names;
  if (!test_file.empty()) {
    const Ratings test = load_test_ratings(c, test_file, model.names);
    encode_test(test, nullptr, out.users, out.items, c.label_transform, out);
    out.source = test_file;
    return out;
  }
  if (!data_dir_override.empty()) {
    c.data_dir = data_dir_override;
    if (c.data_format == "csv") {
      c.csv.ratings_file = moved(c.csv.ratings_file, data_dir_override);
      c.csv.items_file = moved(c.csv.items_file, data_dir_override);
    }
  }
  // A file too small for the stored split sizes is an error there.
  const SplitRatings data = load_split_ratings(c, model.names);
  encode_test(data.test, &data.train, out.users, out.items, c.label_transform, out);
  out.source = c.explicit_split() ? c.test_file : data.source;
  return out;
}

}  // namespace tandem
