// A trained model's rows as arrays, the way other tools read a model: the
// raw id behind each user-table row and each catalogue entry, and the
// retrieval vectors of both. The Python module (python/) and
// `tandem export` (model_export.h) hand out exactly these, so that a user's
// vector dotted with the item vectors gives the scores Tandem's exact
// retrieval ranks by.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/artifact/trained_model.h"

namespace tandem {

// Raw ids, one per row. A row no id owns (the out-of-vocabulary row 0 of a
// lookup vocabulary) has id -1. `names` is filled when the model was trained
// on string ids: names[i] is ids[i]'s string ("" where ids[i] is -1).
struct RowIds {
  std::vector<int64_t> ids;
  std::vector<std::string> names;
  bool has_names = false;  // the ids were strings
};

// One entry per user-table row, in row order (row r of user_query_vectors).
RowIds user_row_ids(const TrainedModel& m);
// One entry per catalogue entry, in catalogue order (row i of
// TrainedModel::catalogue_embeddings()). With items keyed by title (tfrs),
// the id is the catalogue entry's own raw id.
RowIds catalogue_item_ids(const TrainedModel& m);
// The catalogue entries' titles, in catalogue order.
const std::vector<std::string>& catalogue_titles(const TrainedModel& m);

// The retrieval query vector of every user-table row, [users.rows(),
// task_dim()] row-major: the user table itself with a shared bottom, the
// user tower's (or experts') output otherwise. A timestamp feature takes its
// most recent bucket, as serving does.
std::vector<float> user_query_vectors(const TrainedModel& m);

// True when user_query_vectors is the user table as stored (no tower, no
// experts), so a reader may view the table's memory instead of copying it.
bool user_vectors_are_table(const TrainedModel& m);

}  // namespace tandem
