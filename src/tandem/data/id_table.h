// String ids interned to dense integers, so that everything after loading
// (vocabularies, examples, the model file's id lists) keeps working on int64
// ids: the n-th distinct string seen gets id n, and the table keeps the
// strings to turn ids back into names (model file, recommend output).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tandem {

class IdTable {
 public:
  IdTable() = default;
  // A table that already holds `names` (ids 0..n-1 in that order), e.g. the
  // ones stored in a model file; duplicates are an error.
  explicit IdTable(std::vector<std::string> names);

  // The id of `name`, adding it (as the next id) when new.
  int64_t intern(std::string_view name);
  std::optional<int64_t> find(std::string_view name) const;
  const std::vector<std::string>& names() const { return names_; }
  size_t size() const { return names_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> index_;
  std::vector<std::string> names_;
};

}  // namespace tandem
