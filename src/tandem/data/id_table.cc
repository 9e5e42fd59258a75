#include "tandem/data/id_table.h"

#include "tandem/core/error.h"
#include "tandem/core/message_text.h"

namespace tandem {

IdTable::IdTable(std::vector<std::string> names) {
  index_.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i)
    TANDEM_CHECK(index_.emplace(names[i], static_cast<int64_t>(i)).second,
                 "id table: the name " << quote_field(names[i]) << " appears twice");
  names_ = std::move(names);
}

int64_t IdTable::intern(std::string_view name) {
  const auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  const auto id = static_cast<int64_t>(names_.size());
  names_.emplace_back(name);
  index_.emplace(names_.back(), id);
  return id;
}

std::optional<int64_t> IdTable::find(std::string_view name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tandem
