#include "tandem/app/reference_split.h"

#include <filesystem>

#include "tandem/core/error.h"
#include "tandem/data/split.h"

namespace tandem {

PreparedData model_test_set(const TrainedModel& model, const std::string& data_dir_override,
                            const std::string& test_file) {
  const ExperimentConfig& c = model.config;
  PreparedData out;
  out.users = model.users;
  out.items = model.items;
  out.catalogue = model.catalogue;
  if (!test_file.empty()) {
    const Ratings test = load_ratings(test_file);
    encode_test(test, nullptr, out.users, out.items, c.label_transform, out);
    out.source = test_file;
    return out;
  }
  if (c.explicit_split()) {
    const Ratings train = load_ratings(c.train_file);
    const Ratings test = load_ratings(c.test_file);
    encode_test(test, &train, out.users, out.items, c.label_transform, out);
    out.source = c.test_file;
    return out;
  }
  const std::string dir = data_dir_override.empty() ? c.data_dir : data_dir_override;
  const std::string path = (std::filesystem::path(dir) / "u.data").string();
  const Ratings all = load_ratings(path);
  TANDEM_CHECK(c.train_count + c.test_count <= static_cast<int64_t>(all.size()),
               path << " has " << all.size() << " ratings but the model was trained on a split of "
                    << c.train_count << " + " << c.test_count << " (different data?)");
  const SplitIndices split = random_split(all.size(), c.seed, static_cast<size_t>(c.train_count),
                                          static_cast<size_t>(c.test_count));
  const Ratings train = all.select(split.train);
  encode_test(all.select(split.test), &train, out.users, out.items, c.label_transform, out);
  out.source = path + " (seeded split, seed " + std::to_string(c.seed) + ")";
  return out;
}

}  // namespace tandem
