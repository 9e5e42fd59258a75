#include "tandem/config/data_config.h"

#include <cmath>

#include "tandem/core/error.h"

namespace tandem {

void validate_data_options(const ExperimentConfig& c) {
  if (c.data_format == "csv") {
    validate(c.csv);
    TANDEM_CHECK(c.explicit_split() || !c.csv.ratings_file.empty(),
                 "the csv data format needs a ratings file ([data] ratings_file, or --ratings-file)");
  } else {
    TANDEM_CHECK(c.csv == CsvRatingsSpec{},
                 "ratings_file, items_file, users_file, separator, list_separator, header, "
                 "[data.columns], [data.item_columns] and [data.user_columns] apply to the csv "
                 "data format only; set [data] format = \"csv\" (or --format csv)");
  }
  TANDEM_CHECK(std::isfinite(c.time_cut_fraction) && c.time_cut_fraction > 0 && c.time_cut_fraction <= 1,
               "time_cut_fraction must be in (0, 1], got " << c.time_cut_fraction);
  TANDEM_CHECK(c.split == SplitStrategy::kRandom || !c.explicit_split(),
               "split = " << to_string(c.split)
                          << " splits one ratings file; it cannot be combined with --train/--test");
}

}  // namespace tandem
