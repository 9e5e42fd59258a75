#include "tandem/config/settings.h"

#include "tandem/config/task_config.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <toml++/toml.h>

#include "tandem/core/byte_size.h"
#include "tandem/core/error.h"

namespace tandem {

namespace {

using json = nlohmann::json;
using C = ExperimentConfig;

// Accessors of a plain member, of an enum through its names, of an optional
// and of a column.
#define TANDEM_MEMBER(m)                                        \
  .get = [](const C& c) -> json { return c.m; },                \
  .set = [](C& c, const json& v) { v.get_to(c.m); }
#define TANDEM_ENUM(m, parse)                                   \
  .get = [](const C& c) -> json { return to_string(c.m); },     \
  .set = [](C& c, const json& v) { c.m = parse(v.get<std::string>()); }
#define TANDEM_OPTIONAL(m, T)                                                    \
  .get = [](const C& c) -> json { return c.m ? json(*c.m) : json(nullptr); },    \
  .set = [](C& c, const json& v) {                                               \
    if (v.is_null()) c.m.reset();                                                \
    else c.m = v.get<T>();                                                       \
  }
#define TANDEM_COLUMN(m)                                                                      \
  .get = [](const C& c) -> json {                                                             \
    return !c.m.name.empty() ? json(c.m.name) : c.m.index >= 0 ? json(c.m.index) : json(nullptr); \
  },                                                                                          \
  .set = [](C& c, const json& v) {                                                            \
    c.m = v.is_null() ? ColumnRef{} : v.is_string() ? ColumnRef::named(v.get<std::string>())  \
                                                    : ColumnRef::at(v.get<int64_t>());        \
  }

bool is_csv(const C& c) { return c.data_format == "csv"; }
bool features_on(const C& c) { return c.side_features.enabled(); }
bool experts_shown(const C& c) {
  const MultitaskSpec d;
  const MultitaskSpec& m = c.multitask;
  return m.has_experts() || m.experts != d.experts || m.shared_experts != d.shared_experts ||
         m.task_experts != d.task_experts || m.expert_dim != d.expert_dim;
}

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
const char* const kColumnHelp = " column: header name or 0-based index";

std::vector<Setting> make_settings() {
  using K = SettingKind;
  std::vector<Setting> s = {
      {.table = "", .key = "preset", .flag = "--preset", .kind = K::kChoice,
       .help = "Reference protocol: kerasrs or tfrs; the base every other setting overrides",
       TANDEM_MEMBER(preset), .choices = preset_names(), .custom_flag = true},
      // [data]
      {.table = "data", .key = "dir", .flag = "--data", .kind = K::kPath,
       .help = "MovieLens-100K directory (u.data, u.item) or another layout's",
       TANDEM_MEMBER(data_dir), .aliases = {"data.data_dir"}, .fixed_on_resume = false,
       .default_note = "$TANDEM_DATA, else ../shared/data/ml-100k", .custom_flag = true},
      {.table = "data", .key = "format", .flag = "--format", .kind = K::kChoice,
       .help = "Data format: auto, movielens-100k, movielens-1m, movielens-csv, or csv (a generic "
               "delimited file: --ratings-file and the column flags)",
       TANDEM_MEMBER(data_format),
       .choices = {"auto", "movielens-100k", "movielens-1m", "movielens-csv", "csv"},
       .details = "auto: detected from u.data, ratings.dat or ratings.csv; csv: see [Generic CSV/TSV ratings](#generic-csvtsv-ratings-format--csv)"},
      {.table = "data", .key = "train_file", .flag = "--train", .kind = K::kPath,
       .help = "Explicit training file in u.data format (with --test)", TANDEM_MEMBER(train_file),
       .shown = [](const C& c) { return !c.train_file.empty(); }, .fixed_on_resume = false,
       .custom_flag = true},
      {.table = "data", .key = "test_file", .flag = "--test", .kind = K::kPath,
       .help = "Explicit test file in u.data format (with --train)", TANDEM_MEMBER(test_file),
       .shown = [](const C& c) { return !c.test_file.empty(); }, .fixed_on_resume = false,
       .custom_flag = true},
      {.table = "data", .key = "split", .flag = "--split", .kind = K::kChoice,
       .help = "random (seeded, --train-count/--test-count), leave-last-out (per user, the latest "
               "rating tests) or time (the earliest --time-cut-fraction train)",
       TANDEM_ENUM(split, parse_split_strategy), .choices = {"random", "leave-last-out", "time"}},
      {.table = "data", .key = "item_key", .flag = "--item-key", .kind = K::kChoice,
       .help = "What an item's embedding row stands for: id (each item id) or title (each "
               "distinct title, as TFRS's StringLookup over movie titles; needs vocabulary ids)",
       TANDEM_ENUM(item_key, parse_item_key), .choices = {"id", "title"},
       .details = "title is the tutorial's `StringLookup(vocabulary=unique_movie_titles)`; needs `[features] ids = \"vocabulary\"`. See [Items keyed by title](#items-keyed-by-title)"},
      {.table = "data", .key = "ratings_file", .flag = "--ratings-file", .kind = K::kPath,
       .help = "csv format: the ratings file", TANDEM_MEMBER(csv.ratings_file),
       .aliases = {"data.csv.ratings_file"},
       .shown = [](const C& c) { return is_csv(c) && !c.csv.ratings_file.empty(); }},
      {.table = "data", .key = "items_file", .flag = "--items-file", .kind = K::kPath,
       .help = "csv format: an items file with ids and titles (optional); --item-features name "
               "its columns",
       TANDEM_MEMBER(csv.items_file), .aliases = {"data.csv.items_file"},
       .shown = [](const C& c) { return is_csv(c) && !c.csv.items_file.empty(); }},
      {.table = "data", .key = "users_file", .flag = "--users-file", .kind = K::kPath,
       .help = "csv format: a users file with ids (optional); --user-features name its columns",
       TANDEM_MEMBER(csv.users_file), .aliases = {"data.csv.users_file"},
       .shown = [](const C& c) { return is_csv(c) && !c.csv.users_file.empty(); }},
      {.table = "data", .key = "separator", .flag = "--separator", .kind = K::kString,
       .help = "csv format: auto (from the extension, else the first line), comma, tab, or one "
               "character",
       TANDEM_MEMBER(csv.separator), .aliases = {"data.csv.separator"}, .shown = is_csv,
       .details = "auto: `.tsv`/`.tab` tab, `.csv` comma, else tab if the first line has one, else comma"},
      {.table = "data", .key = "header", .flag = "--no-header", .kind = K::kBool,
       .help = "csv format: the files' first line names the columns (the flag: the files have no "
               "header line, columns by index)",
       TANDEM_MEMBER(csv.header), .aliases = {"data.csv.header"}, .shown = is_csv,
       .flag_value = false},
      {.table = "data", .key = "list_separator", .flag = "--list-separator", .kind = K::kString,
       .help = "csv format: splits a side-feature field into several values (a bag), e.g. '|'",
       TANDEM_MEMBER(csv.list_separator), .aliases = {"data.csv.list_separator"},
       .shown = [](const C& c) { return is_csv(c) && !c.csv.list_separator.empty(); }},
      {.table = "data.columns", .key = "user", .flag = "--user-column", .kind = K::kColumn,
       .help = "csv format: user id", TANDEM_COLUMN(csv.user), .optional = true,
       .aliases = {"data.csv.user"}, .shown = is_csv},
      {.table = "data.columns", .key = "item", .flag = "--item-column", .kind = K::kColumn,
       .help = "csv format: item id", TANDEM_COLUMN(csv.item), .optional = true,
       .aliases = {"data.csv.item"}, .shown = is_csv},
      {.table = "data.columns", .key = "rating", .flag = "--rating-column", .kind = K::kColumn,
       .help = "csv format: rating", TANDEM_COLUMN(csv.rating), .optional = true,
       .aliases = {"data.csv.rating"}, .shown = is_csv,
       .default_note = "implicit feedback, rating 1"},
      {.table = "data.columns", .key = "timestamp", .flag = "--timestamp-column",
       .kind = K::kColumn, .help = "csv format: timestamp", TANDEM_COLUMN(csv.timestamp),
       .optional = true, .aliases = {"data.csv.timestamp"}, .shown = is_csv},
      {.table = "data.columns", .key = "weight", .flag = "--weight-column", .kind = K::kColumn,
       .help = "csv format: per-example sample weight", TANDEM_COLUMN(csv.weight),
       .optional = true, .aliases = {"data.csv.weight"}, .shown = is_csv,
       .default_note = "weight 1", .details = "weights must be finite and >= 0"},
      {.table = "data.item_columns", .key = "id", .flag = "--item-id-column", .kind = K::kColumn,
       .help = "csv format: items file's id", TANDEM_COLUMN(csv.item_id), .optional = true,
       .aliases = {"data.csv.item_id"}, .shown = is_csv},
      {.table = "data.item_columns", .key = "title", .flag = "--title-column", .kind = K::kColumn,
       .help = "csv format: items file's title", TANDEM_COLUMN(csv.item_title), .optional = true,
       .aliases = {"data.csv.item_title"}, .shown = is_csv},
      {.table = "data.user_columns", .key = "id", .flag = "--user-id-column", .kind = K::kColumn,
       .help = "csv format: users file's id", TANDEM_COLUMN(csv.user_file_id), .optional = true,
       .aliases = {"data.csv.user_file_id"},
       .shown = [](const C& c) { return is_csv(c) && !c.csv.users_file.empty(); }},
      // [split]
      {.table = "split", .key = "seed", .flag = "--seed", .kind = K::kUInt,
       .help = "Seed for split, initialisation and shuffling", TANDEM_MEMBER(seed),
       .aliases = {"data.seed"}},
      {.table = "split", .key = "train_count", .flag = "--train-count", .kind = K::kInt,
       .help = "Training pairs of the seeded split", TANDEM_MEMBER(train_count), .lo = 1,
       .hi = int64_t{1} << 40, .aliases = {"data.train_count"}},
      {.table = "split", .key = "test_count", .flag = "--test-count", .kind = K::kInt,
       .help = "Test pairs of the seeded split", TANDEM_MEMBER(test_count), .lo = 0,
       .hi = int64_t{1} << 40, .aliases = {"data.test_count"}},
      {.table = "split", .key = "time_cut_fraction", .flag = "--time-cut-fraction",
       .kind = K::kDouble, .help = "time split: fraction of ratings, earliest first, that train",
       TANDEM_MEMBER(time_cut_fraction), .aliases = {"data.time_cut_fraction"}},
      {.table = "split", .key = "time_cut_timestamp", .flag = "--time-cut-timestamp",
       .kind = K::kInt,
       .help = "time split: ratings before this timestamp train, the rest test (instead of the "
               "fraction)",
       TANDEM_OPTIONAL(time_cut_timestamp, int64_t), .optional = true,
       .aliases = {"data.time_cut_timestamp"}},
      // [features]
      {.table = "features", .key = "ids", .flag = nullptr, .kind = K::kChoice,
       .help = "How raw ids become embedding rows: integer (the id is the row, Keras-RS) or "
               "vocabulary (a vocabulary with an OOV row, TFRS)",
       .get = [](const C& c) -> json { return to_string(c.id_mode); },
       .set = [](C& c, const json& v) {
         c.id_mode = v.get<std::string>() == "integer" ? IdMode::kInteger : IdMode::kVocabulary;
       },
       .choices = {"integer", "vocabulary"}, .aliases = {"data.id_mode"}},
      {.table = "features", .key = "label", .flag = nullptr, .kind = K::kChoice,
       .help = "What the ranking task learns from a rating r: unit-interval ((r-1)/4) or stars (r)",
       .get = [](const C& c) -> json {
         return c.label_transform == LabelTransform::kRaw ? "stars" : "unit-interval";
       },
       .set = [](C& c, const json& v) {
         c.label_transform =
             v.get<std::string>() == "stars" ? LabelTransform::kRaw : LabelTransform::kUnitInterval;
       },
       .choices = {"stars", "unit-interval"}, .aliases = {"data.label_transform"},
       .from_alias = [](const json& v) -> json {
         return v == "raw" ? json("stars") : v == "unit" ? json("unit-interval") : v;
       }},
      {.table = "features", .key = "user", .flag = "--user-features", .kind = K::kStringList,
       .help = "User side features for the user tower: age,gender,occupation,zip with MovieLens "
               "data; with --format csv, columns (names or indices) of --users-file, else of the "
               "ratings file",
       TANDEM_MEMBER(side_features.user), .aliases = {"side_features.user"}, .shown = features_on},
      {.table = "features", .key = "item", .flag = "--item-features", .kind = K::kStringList,
       .help = "Item side features for the item tower: genres,year with MovieLens data; with "
               "--format csv, columns of --items-file, else of the ratings file",
       TANDEM_MEMBER(side_features.item), .aliases = {"side_features.item"}, .shown = features_on},
      {.table = "features", .key = "timestamp_buckets", .flag = "--timestamp-buckets",
       .kind = K::kInt,
       .help = "Interaction timestamp as a user-tower feature, bucketised into this many quantiles "
               "of the training timestamps",
       TANDEM_MEMBER(side_features.timestamp_buckets), .lo = 0, .hi = 100000,
       .aliases = {"side_features.timestamp_buckets"}, .shown = features_on, .default_note = "off"},
      {.table = "features", .key = "feature_dim", .flag = "--feature-dim", .kind = K::kInt,
       .help = "Embedding width of each side feature", TANDEM_MEMBER(side_features.feature_dim),
       .lo = 1, .hi = 4096, .aliases = {"side_features.feature_dim"}, .shown = features_on},
      {.table = "features", .key = "tower_layers", .flag = "--tower-layers", .kind = K::kIntList,
       .help = "Tower MLP layer sizes after the concatenated embeddings, e.g. 64",
       TANDEM_MEMBER(side_features.tower_layers), .lo = 1, .hi = 65536,
       .aliases = {"side_features.tower_layers"}, .shown = features_on},
      {.table = "features", .key = "hash_buckets", .flag = "--hash-buckets", .kind = K::kInt,
       .help = "Hash a feature whose vocabulary has more values than this into this many rows",
       TANDEM_MEMBER(side_features.hash_buckets), .lo = 0, .hi = int64_t{1} << 30,
       .aliases = {"side_features.hash_buckets"}, .shown = features_on, .default_note = "never"},
      {.table = "features", .key = "zip_prefix", .flag = "--zip-prefix", .kind = K::kInt,
       .help = "Characters of the zip code kept", TANDEM_MEMBER(side_features.zip_prefix), .lo = 1,
       .hi = 10, .aliases = {"side_features.zip_prefix"}, .shown = features_on},
      {.table = "features", .key = "age_boundaries", .flag = "--age-boundaries",
       .kind = K::kIntList, .help = "Age bucket boundaries",
       TANDEM_MEMBER(side_features.age_boundaries), .lo = 0, .hi = 1000,
       .aliases = {"side_features.age_boundaries"}, .shown = features_on},
      // [model]
      {.table = "model", .key = "embedding_dim", .flag = "--embedding-dim", .kind = K::kInt,
       .help = "Embedding dimension", TANDEM_MEMBER(embedding_dim), .lo = 1, .hi = 4096},
      {.table = "model", .key = "layers", .flag = "--layers", .kind = K::kIntList,
       .help = "Rating-head hidden layer sizes, e.g. 256,128", TANDEM_MEMBER(layer_sizes), .lo = 1,
       .hi = 65536, .aliases = {"model.layer_sizes"}},
      {.table = "model", .key = "multitask", .flag = "--multitask", .kind = K::kChoice,
       .help = "How the tasks share the towers: shared-bottom (both read the embeddings), mmoe "
               "(shared experts, a gate per task) or ple (shared and task-specific experts)",
       TANDEM_ENUM(multitask.arch, parse_multitask_arch),
       .choices = {"shared-bottom", "mmoe", "ple"}, .shown = experts_shown},
      {.table = "model", .key = "experts", .flag = "--experts", .kind = K::kInt,
       .help = "Experts per tower with --multitask mmoe", TANDEM_MEMBER(multitask.experts),
       .lo = 1, .hi = 64, .shown = experts_shown},
      {.table = "model", .key = "shared_experts", .flag = "--shared-experts", .kind = K::kInt,
       .help = "Shared experts per tower with --multitask ple",
       TANDEM_MEMBER(multitask.shared_experts), .lo = 0, .hi = 64, .shown = experts_shown},
      {.table = "model", .key = "task_experts", .flag = "--task-experts", .kind = K::kInt,
       .help = "Experts of each task per tower with --multitask ple",
       TANDEM_MEMBER(multitask.task_experts), .lo = 0, .hi = 64, .shown = experts_shown},
      {.table = "model", .key = "expert_dim", .flag = "--expert-dim", .kind = K::kInt,
       .help = "Width of each expert and of the task vectors with mmoe/ple",
       TANDEM_MEMBER(multitask.expert_dim), .lo = 1, .hi = 4096, .shown = experts_shown},
      // [tasks]
      {.table = "tasks", .key = "ranking_weight", .flag = "--ranking-weight", .kind = K::kFloat,
       .help = "Weight of the ranking loss (MSE unless --ranking-loss)",
       TANDEM_MEMBER(weights.ranking), .aliases = {"model.ranking_weight"}},
      {.table = "tasks", .key = "retrieval_weight", .flag = "--retrieval-weight",
       .kind = K::kFloat, .help = "Weight of the retrieval (in-batch softmax) loss",
       TANDEM_MEMBER(weights.retrieval), .aliases = {"model.retrieval_weight"}},
      {.table = "tasks", .key = "task_weighting", .flag = "--task-weighting", .kind = K::kChoice,
       .help = "fixed (the task weights) or uncertainty (learned weights exp(-s_t), the fixed ones "
               "kept as multipliers)",
       TANDEM_ENUM(multitask.weighting, parse_task_weighting), .choices = {"fixed", "uncertainty"},
       .aliases = {"model.task_weighting"},
       .shown = [](const C& c) { return c.multitask.weighting != TaskWeighting::kFixed; }},
      // Tasks beyond retrieval and rating (config/task_config.h): the
      // config file's [[tasks.extra]] tables and the model file's
      // tasks.extra both reach set() as a JSON array.
      {.table = "tasks", .key = "extra", .flag = "--task", .kind = K::kTableArray,
       .help = "An extra task NAME:binary:WEIGHT[:THRESHOLD] (repeatable; replaces the config's), "
               "e.g. liked:binary:1 learns P(rating >= 4 stars)",
       .get = [](const C& c) -> json { return extra_tasks_to_json(c.extra_tasks); },
       .set = [](C& c, const json& v) { c.extra_tasks = extra_tasks_from_json(v); },
       .shown = [](const C& c) { return !c.extra_tasks.empty(); },
       .from_flag_values = [](C& c, const std::vector<std::string>& v) {
         c.extra_tasks = parse_extra_task_specs(v);
       },
       .to_toml = [](const C& c) { return extra_tasks_to_toml(c.extra_tasks); },
       .toml_type = "array of tables: name, kind, weight, positive_threshold",
       .details = "`kind = \"binary\"`: a BCE head on the label rating >= `positive_threshold` "
                  "(stars, default 4), weighted into the total loss; at most 8. Evaluation reports "
                  "its AUC, log loss, accuracy and positive rate under `tasks`, `/v1/recommend` "
                  "each item's probability. See `examples/three-tasks.toml`"},
      // [retrieval]
      {.table = "retrieval", .key = "temperature", .flag = "--temperature", .kind = K::kFloat,
       .help = "Retrieval softmax temperature: logits are scores / T",
       TANDEM_MEMBER(retrieval.temperature)},
      {.table = "retrieval", .key = "remove_accidental_hits", .flag = "--remove-accidental-hits",
       .kind = K::kBool,
       .help = "Mask other copies of an example's positive item out of its retrieval softmax",
       TANDEM_MEMBER(retrieval.remove_accidental_hits),
       .details = "zero probability, zero gradient"},
      {.table = "retrieval", .key = "logq_correction", .flag = "--logq-correction",
       .kind = K::kBool,
       .help = "Subtract log of each candidate's sampling probability (item frequency) from its "
               "retrieval logit, so popular items are not over-penalised as in-batch negatives",
       TANDEM_MEMBER(retrieval.logq_correction),
       .details = "the logit minus log of the candidate's expected count among the candidates (batch: n · item frequency in training; sampled: m / catalogue size)"},
      {.table = "retrieval", .key = "hard_negatives", .flag = "--hard-negatives", .kind = K::kInt,
       .help = "Keep only each example's k highest-scoring in-batch negatives",
       TANDEM_MEMBER(retrieval.hard_negatives), .lo = 0, .hi = int64_t{1} << 24,
       .default_note = "all",
       .details = "counted as TFRS's `HardNegativeMining` counts them: over the batch's columns, each copy of an item one column (a copy of the positive item is a negative unless hit removal masks it)"},
      {.table = "retrieval", .key = "mixed_negatives", .flag = "--mixed-negatives",
       .kind = K::kInt, .help = "Extra negatives sampled uniformly from the catalogue per batch",
       TANDEM_MEMBER(retrieval.mixed_negatives), .lo = 0, .hi = int64_t{1} << 24,
       .details = "seeded by the step, so resuming samples the same"},
      // [optimizer]
      {.table = "optimizer", .key = "name", .flag = "--optimizer", .kind = K::kChoice,
       .help = "adagrad (as both tutorials), adam (lazy on embedding rows) or sgd",
       TANDEM_ENUM(optimizer.kind, parse_optimizer_kind), .choices = optimizer_names(),
       .aliases = {"train.optimizer"}},
      {.table = "optimizer", .key = "learning_rate", .flag = "--learning-rate", .kind = K::kFloat,
       .help = "Learning rate of the optimizer", TANDEM_MEMBER(optimizer.learning_rate),
       .aliases = {"train.learning_rate"}},
      {.table = "optimizer", .key = "initial_accumulator", .flag = "--initial-accumulator",
       .kind = K::kFloat, .help = "Adagrad's initial accumulator",
       TANDEM_MEMBER(optimizer.initial_accumulator), .aliases = {"train.initial_accumulator"}},
      {.table = "optimizer", .key = "epsilon", .flag = "--epsilon", .kind = K::kFloat,
       .help = "Adagrad/Adam denominator epsilon", TANDEM_MEMBER(optimizer.epsilon),
       .aliases = {"train.epsilon"}},
      {.table = "optimizer", .key = "beta1", .flag = "--beta1", .kind = K::kFloat,
       .help = "Adam's beta1", TANDEM_MEMBER(optimizer.beta1), .aliases = {"train.beta1"}},
      {.table = "optimizer", .key = "beta2", .flag = "--beta2", .kind = K::kFloat,
       .help = "Adam's beta2", TANDEM_MEMBER(optimizer.beta2), .aliases = {"train.beta2"}},
      {.table = "optimizer", .key = "momentum", .flag = "--momentum", .kind = K::kFloat,
       .help = "SGD momentum", TANDEM_MEMBER(optimizer.momentum), .aliases = {"train.momentum"},
       .default_note = "plain SGD"},
      {.table = "optimizer", .key = "nesterov", .flag = "--nesterov", .kind = K::kBool,
       .help = "SGD with Nesterov momentum (needs --momentum > 0)",
       TANDEM_MEMBER(optimizer.nesterov), .aliases = {"train.nesterov"}},
      {.table = "optimizer", .key = "embedding_l2", .flag = "--embedding-l2", .kind = K::kFloat,
       .help = "L2 penalty on the embedding rows a batch touches: adds l2 * w to their gradient",
       TANDEM_MEMBER(optimizer.embedding_l2), .aliases = {"train.embedding_l2"}},
      {.table = "optimizer", .key = "dense_l2", .flag = "--dense-l2", .kind = K::kFloat,
       .help = "L2 penalty on the rating head's parameters", TANDEM_MEMBER(optimizer.dense_l2),
       .aliases = {"train.dense_l2"}},
      {.table = "optimizer", .key = "lr_schedule", .flag = "--lr-schedule", .kind = K::kChoice,
       .help = "Learning-rate schedule: constant, linear-warmup, cosine, exponential, step",
       TANDEM_ENUM(optimizer.schedule.kind, parse_lr_schedule), .choices = lr_schedule_names(),
       .aliases = {"train.lr_schedule"}},
      {.table = "optimizer", .key = "warmup_steps", .flag = "--warmup-steps", .kind = K::kInt,
       .help = "Steps of linear warmup (any schedule)", TANDEM_MEMBER(optimizer.schedule.warmup_steps),
       .lo = 0, .hi = int64_t{1} << 40, .aliases = {"train.warmup_steps"}},
      {.table = "optimizer", .key = "decay_steps", .flag = "--decay-steps", .kind = K::kInt,
       .help = "Exponential/step: steps per decay_rate factor; cosine: decay length",
       TANDEM_MEMBER(optimizer.schedule.decay_steps), .lo = 0, .hi = int64_t{1} << 40,
       .aliases = {"train.decay_steps"}, .default_note = "under cosine, to the end"},
      {.table = "optimizer", .key = "decay_rate", .flag = "--decay-rate", .kind = K::kFloat,
       .help = "Exponential/step decay factor in (0, 1]", TANDEM_MEMBER(optimizer.schedule.decay_rate),
       .aliases = {"train.decay_rate"}},
      {.table = "optimizer", .key = "min_lr_fraction", .flag = "--min-lr-fraction",
       .kind = K::kFloat,
       .help = "Floor of the decayed rate, as a fraction of the learning rate",
       TANDEM_MEMBER(optimizer.schedule.min_lr_fraction), .aliases = {"train.min_lr_fraction"}},
      // [training]
      {.table = "training", .key = "seed", .flag = "--init-seed", .kind = K::kUInt,
       .help = "Seed for initialisation, shuffling and sampling only, keeping --seed's split",
       TANDEM_OPTIONAL(init_seed, uint64_t), .optional = true,
       .aliases = {"train.init_seed"}, .default_note = "--seed"},
      {.table = "training", .key = "batch_size", .flag = "--batch-size", .kind = K::kInt,
       .help = "Training batch size", TANDEM_MEMBER(batch_size), .lo = 1, .hi = 1 << 20,
       .aliases = {"train.batch_size"}},
      {.table = "training", .key = "epochs", .flag = "--epochs", .kind = K::kInt,
       .help = "Training epochs", TANDEM_MEMBER(epochs), .lo = 1, .hi = 100000,
       .aliases = {"train.epochs"}, .fixed_on_resume = false},
      {.table = "training", .key = "shuffle", .flag = "--shuffle", .kind = K::kChoice,
       .help = "Training order: none (the examples' order every epoch), once (one shuffled order "
               "replayed every epoch) or every-epoch (a new order each epoch)",
       TANDEM_ENUM(shuffle, parse_shuffle_mode), .choices = {"none", "once", "every-epoch"},
       // Its older boolean spelling: true was a new order every epoch.
       .aliases = {"train.shuffle", "training.reshuffle_each_epoch", "train.reshuffle_each_epoch"},
       .toml_aliases = {"reshuffle_each_epoch"},
       .from_alias = [](const json& v) -> json {
         return v.is_boolean() ? json(v.get<bool>() ? "every-epoch" : "none") : v;
       },
       .details = "kerasrs: `take(80_000).batch(1000).cache()`; tfrs: `shuffle(100_000).batch(8192).cache()` "
                  "fills the cache on the first pass. The older spelling `reshuffle_each_epoch = true` / "
                  "`false` still reads as every-epoch / none"},
      {.table = "training", .key = "threads", .flag = "--threads", .kind = K::kInt,
       .help = "Threads", TANDEM_MEMBER(threads), .lo = 0, .hi = 1024,
       .aliases = {"train.threads"}, .default_note = "all cores"},
      {.table = "training", .key = "parallelism", .flag = "--parallelism", .kind = K::kChoice,
       .help = "How training uses the threads: batch (split each batch between threads) or blas "
               "(multi-threaded BLAS)",
       TANDEM_ENUM(parallelism, parse_parallelism), .choices = {"batch", "blas"},
       .aliases = {"train.parallelism"}},
      {.table = "training", .key = "pin_threads", .flag = "--no-pin-threads", .kind = K::kBool,
       .help = "Pin the training threads to their own cores when the process may use at least as "
               "many CPUs as threads (never changes results; the flag: leave them unpinned)",
       TANDEM_MEMBER(pin_threads), .in_model_file = false, .fixed_on_resume = false,
       .flag_value = false,
       .details = "worker w runs on the w-th CPU of the process's affinity mask (taskset, mpirun's "
                  "binding); the calling thread stays unpinned. Turn it off when several processes "
                  "share the cores"},
      {.table = "training", .key = "full_score_matrix", .flag = "--full-score-matrix",
       .kind = K::kBool,
       .help = "Retrieval loss over the full batch x batch score matrix instead of the batch's "
               "distinct users x distinct items (same loss, more FLOPs when ids repeat)",
       .get = [](const C& c) -> json { return !c.distinct_rows; },
       .set = [](C& c, const json& v) { c.distinct_rows = !v.get<bool>(); },
       .aliases = {"train.distinct_rows"},
       .from_alias = [](const json& v) -> json { return v.is_boolean() ? json(!v.get<bool>()) : v; }},
      {.table = "training", .key = "softmax_precision", .flag = "--softmax-precision",
       .kind = K::kChoice,
       .help = "Precision of the retrieval softmax's score GEMMs (the forward user . item scores "
               "and both gradient GEMMs): float32, or bfloat16 (operands rounded to bfloat16, "
               "float32 sums; needs an OpenBLAS built with BUILD_BFLOAT16=1)",
       TANDEM_ENUM(softmax_precision, blas::parse_gemm_precision), .choices = {"float32", "bfloat16"},
       .fixed_on_resume = false},
      {.table = "training", .key = "ranking_loss", .flag = "--ranking-loss", .kind = K::kChoice,
       .help = "Ranking task's loss: mse (predicts the rating), bce (on rating >= "
               "--ranking-positive-threshold; predicts its probability), pairwise-logistic, "
               "pairwise-hinge or softmax-listwise (over each user's examples in a batch; predict "
               "a score, no rating)",
       TANDEM_ENUM(ranking_loss, parse_ranking_loss), .choices = ranking_loss_names(),
       .aliases = {"train.ranking_loss"}},
      {.table = "training", .key = "ranking_margin", .flag = "--ranking-margin", .kind = K::kFloat,
       .help = "Margin of the pairwise-hinge loss", TANDEM_MEMBER(ranking_margin),
       .aliases = {"train.ranking_margin"}},
      {.table = "training", .key = "positive_threshold", .flag = "--ranking-positive-threshold",
       .kind = K::kFloat, .help = "bce: a rating at least this (in stars) is a positive",
       TANDEM_MEMBER(ranking_positive_threshold), .aliases = {"train.positive_threshold"}},
      {.table = "training", .key = "memory_budget", .flag = "--memory-budget",
       .kind = K::kByteSize,
       .help = "Most memory a run may plan to allocate, e.g. 4G or 512M; refused before training "
               "otherwise",
       TANDEM_MEMBER(memory_budget_bytes), .lo = 0,
       .shown = [](const C& c) { return c.memory_budget_bytes > 0; }, .in_model_file = false,
       .fixed_on_resume = false, .default_note = "80% of RAM"},
      {.table = "training", .key = "stream_block_rows", .flag = "--stream-block-rows", .kind = K::kInt,
       .help = "Training from a store (--prepared): consecutive examples per block of the streaming "
               "shuffle",
       TANDEM_MEMBER(stream_block_rows), .lo = 1, .hi = int64_t{1} << 24,
       .shown = [](const C& c) { return c.stream_block_rows != 65536; },
       .details = "see [store.md](store.md#the-streaming-order)"},
      {.table = "training", .key = "stream_window_blocks", .flag = "--stream-window-blocks",
       .kind = K::kInt,
       .help = "Training from a store (--prepared): blocks per shuffle window (the examples of a "
               "window are shuffled among themselves)",
       TANDEM_MEMBER(stream_window_blocks), .lo = 1, .hi = 4096,
       .shown = [](const C& c) { return c.stream_window_blocks != 4; },
       .details = "see [store.md](store.md#the-streaming-order)"},
      // [evaluation]
      {.table = "evaluation", .key = "k", .flag = "--k", .kind = K::kInt,
       .help = "K of the top-K accuracy", TANDEM_MEMBER(k), .lo = 1, .hi = int64_t{1} << 31,
       .aliases = {"evaluate.k"}, .fixed_on_resume = false},
      {.table = "evaluation", .key = "accuracy_at", .flag = nullptr, .kind = K::kIntList,
       .help = "Further K values whose top-K accuracy is reported beside k's",
       TANDEM_MEMBER(accuracy_at), .lo = 1, .hi = int64_t{1} << 31,
       .aliases = {"evaluate.accuracy_at"}, .fixed_on_resume = false},
      {.table = "evaluation", .key = "batch_size", .flag = "--eval-batch-size", .kind = K::kInt,
       .help = "Evaluation batch size", TANDEM_MEMBER(eval_batch_size), .lo = 1,
       .hi = int64_t{1} << 24, .aliases = {"evaluate.eval_batch_size"}, .fixed_on_resume = false},
      {.table = "evaluation", .key = "max_pairs", .flag = "--eval-max-pairs", .kind = K::kInt,
       .help = "Evaluate on the first N test pairs only (0: all); bounds evaluation on very large "
               "test splits",
       TANDEM_MEMBER(eval_max_pairs), .lo = 0, .hi = int64_t{1} << 40,
       .shown = [](const C& c) { return c.eval_max_pairs > 0; }, .fixed_on_resume = false,
       .default_note = "all"},
      {.table = "evaluation", .key = "min_rating", .flag = nullptr, .kind = K::kFloat,
       .help = "Only test pairs rated at least this count towards top-K accuracy",
       TANDEM_OPTIONAL(topk_min_rating, float), .optional = true,
       .aliases = {"evaluate.topk_min_rating"}, .fixed_on_resume = false},
      {.table = "evaluation", .key = "metrics_at", .flag = "--metrics-at", .kind = K::kIntList,
       .help = "K values of the per-user Recall/NDCG/MAP@K, e.g. 10,100", TANDEM_MEMBER(metrics_at),
       .lo = 1, .hi = int64_t{1} << 31, .aliases = {"evaluate.metrics_at"},
       .fixed_on_resume = false,
       .details = "see [results.md](results.md#ranking-metrics-and-auc)"},
      {.table = "evaluation", .key = "exclude_seen", .flag = "--exclude-seen", .kind = K::kBool,
       .help = "Evaluate without each user's training items among the candidates (top-K accuracy "
               "and ranking metrics; off: the tutorials' protocol, which keeps them)",
       TANDEM_MEMBER(exclude_seen), .aliases = {"evaluate.exclude_seen"}, .fixed_on_resume = false},
      {.table = "evaluation", .key = "positive_threshold", .flag = "--positive-threshold",
       .kind = K::kFloat,
       .help = "AUC label: a test pair is positive when its rating (stars) is at least this",
       TANDEM_MEMBER(positive_threshold), .aliases = {"evaluate.positive_threshold"},
       .fixed_on_resume = false},
      {.table = "evaluation", .key = "metrics", .flag = nullptr, .kind = K::kStringList,
       .help = "The metrics reported (both, always; accepted for compatibility)",
       .get = [](const C&) -> json { return {"topk_accuracy", "rmse"}; },
       .set = [](C&, const json&) {}, .choices = {"topk_accuracy", "rmse"}, .in_model_file = false,
       .fixed_on_resume = false},
  };
  return s;
}

#undef TANDEM_MEMBER
#undef TANDEM_ENUM
#undef TANDEM_OPTIONAL
#undef TANDEM_COLUMN

std::string joined(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string shortest(double v, bool as_float) {
  char buf[32];
  const auto res = as_float ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                            : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

json check_int(const Setting& s, const json& v, const char* what) {
  if (!v.is_number_integer()) TANDEM_THROW(what);
  int64_t x;
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(kI64Max))
      TANDEM_THROW("must be in " << s.lo << ".." << s.hi << ", got " << u);
    x = static_cast<int64_t>(u);
  } else {
    x = v.get<int64_t>();
  }
  if (x < s.lo || x > s.hi) TANDEM_THROW("must be in " << s.lo << ".." << s.hi << ", got " << x);
  return x;
}

json check_uint(const json& v, const char* what) {
  if (!v.is_number_integer()) TANDEM_THROW(what);
  if (!v.is_number_unsigned() && v.get<int64_t>() < 0)
    TANDEM_THROW("must be in 0.." << std::numeric_limits<uint64_t>::max() << ", got " << v.dump());
  return v.get<uint64_t>();
}

json check_number(const Setting& s, const json& v) {
  if (!v.is_number()) TANDEM_THROW("must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d)) TANDEM_THROW("must be finite");
  if (s.kind == SettingKind::kFloat && std::fabs(d) > std::numeric_limits<float>::max())
    TANDEM_THROW("must be within float range, got " << v.dump());
  return s.kind == SettingKind::kFloat ? json(static_cast<float>(d)) : json(d);
}

std::string check_choice(const Setting& s, const std::string& x) {
  for (const auto& c : s.choices)
    if (c == x) return x;
  TANDEM_THROW("must be one of " << joined(s.choices) << ", got '" << x << "'");
}

std::string text_of(const Setting& s, const json& v) {
  if (v.is_null()) return "none";
  if (v.is_string()) return v.get<std::string>().empty() ? "none" : v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) return shortest(v.get<double>(), s.kind == SettingKind::kFloat);
  if (v.is_array()) {
    if (v.empty()) return "none";
    std::string t;
    for (const auto& e : v) {
      if (!t.empty()) t += ',';
      t += text_of(s, e);
    }
    return t;
  }
  return v.dump();
}

const char* type_text(const Setting& s) {
  if (s.toml_type) return s.toml_type;
  switch (s.kind) {
    case SettingKind::kInt: return "integer";
    case SettingKind::kUInt: return "integer ≥ 0";
    case SettingKind::kFloat:
    case SettingKind::kDouble: return "number";
    case SettingKind::kBool: return "bool";
    case SettingKind::kString: return "string";
    case SettingKind::kPath: return "path";
    case SettingKind::kChoice: return "choice";
    case SettingKind::kIntList: return "array of integers";
    case SettingKind::kStringList: return "array of strings";
    case SettingKind::kColumn: return "name or index";
    case SettingKind::kByteSize: return "string (bytes: \"4G\", \"512M\")";
    case SettingKind::kTableArray: return "array of tables";
  }
  return "";
}

}  // namespace

std::string Setting::path() const { return *table ? std::string(table) + "." + key : key; }

std::string Setting::display_name() const {
  std::string where;
  if (*table) where.append("[").append(table).append("] ");
  where += key;
  if (!flag) return where;
  std::string name = flag;
  name.append(" (").append(where).append(")");
  return name;
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> s = make_settings();
  return s;
}

const Setting* find_setting(std::string_view path) {
  for (const auto& s : settings())
    if (s.path() == path) return &s;
  return nullptr;
}

json check_setting_value(const Setting& s, const json& v) {
  using K = SettingKind;
  if (v.is_null() && s.optional) return v;
  switch (s.kind) {
    case K::kInt: return check_int(s, v, "must be an integer");
    case K::kUInt: return check_uint(v, "must be an integer");
    case K::kFloat:
    case K::kDouble: return check_number(s, v);
    case K::kBool:
      if (!v.is_boolean()) TANDEM_THROW("must be true or false");
      return v;
    case K::kString:
    case K::kPath:
      if (!v.is_string()) TANDEM_THROW("must be a string");
      return v;
    case K::kChoice:
      if (!v.is_string()) TANDEM_THROW("must be a string");
      return check_choice(s, v.get<std::string>());
    case K::kIntList: {
      if (!v.is_array()) TANDEM_THROW("must be an array of integers");
      json out = json::array();
      for (const auto& e : v) {
        if (!e.is_number_integer()) TANDEM_THROW("must be an array of integers");
        try {
          out.push_back(check_int(s, e, "must be an array of integers"));
        } catch (const Error& err) {
          TANDEM_THROW("entries " << err.what());
        }
      }
      return out;
    }
    case K::kStringList: {
      if (!v.is_array()) TANDEM_THROW("must be an array of strings");
      for (const auto& e : v) {
        if (!e.is_string()) TANDEM_THROW("must be an array of strings");
        if (!s.choices.empty()) {
          const auto x = e.get<std::string>();
          bool known = false;
          for (const auto& c : s.choices) known = known || c == x;
          TANDEM_CHECK(known, "lists '" << x << "'; known: " << joined(s.choices));
        }
      }
      return v;
    }
    case K::kColumn:
      if (v.is_string()) {
        TANDEM_CHECK(!v.get<std::string>().empty(), "must not be empty");
        return v;
      }
      if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) return v;
      TANDEM_THROW("must be a column name (string) or a 0-based index (integer >= 0)");
    case K::kByteSize:
      if (v.is_string()) {
        const int64_t bytes = parse_byte_size(v.get<std::string>());
        return check_int(s, bytes, "must be a size");
      }
      return check_int(s, v, "must be a size (\"4G\", \"512M\") or a count of bytes");
    case K::kTableArray:
      if (!v.is_array()) TANDEM_THROW("must be an array of tables");
      return v;
  }
  return v;
}

json setting_value_from_text(const Setting& s, const std::vector<std::string>& texts) {
  using K = SettingKind;
  try {
    const std::string t = texts.empty() ? std::string() : texts.back();
    const auto integer = [](const std::string& x) -> json {
      int64_t v = 0;
      const auto r = std::from_chars(x.data(), x.data() + x.size(), v);
      if (r.ec != std::errc() || r.ptr != x.data() + x.size() || x.empty())
        TANDEM_THROW("must be an integer, got '" << x << "'");
      return v;
    };
    json v;
    switch (s.kind) {
      case K::kInt: v = integer(t); break;
      case K::kUInt: {
        uint64_t u = 0;
        const auto r = std::from_chars(t.data(), t.data() + t.size(), u);
        TANDEM_CHECK(r.ec == std::errc() && r.ptr == t.data() + t.size() && !t.empty(),
                     "must be an integer >= 0, got '" << t << "'");
        v = u;
        break;
      }
      case K::kFloat:
      case K::kDouble: {
        char* end = nullptr;
        const double d = std::strtod(t.c_str(), &end);
        TANDEM_CHECK(!t.empty() && end == t.c_str() + t.size(), "must be a number, got '" << t << "'");
        v = d;
        break;
      }
      case K::kBool: v = s.flag_value; break;
      case K::kPath:
        v = t.empty() ? t : std::filesystem::absolute(t).lexically_normal().string();
        break;
      case K::kIntList:
        v = json::array();
        for (const auto& x : texts) v.push_back(integer(x));
        break;
      case K::kStringList: v = texts; break;
      case K::kColumn: {
        const ColumnRef r = parse_column_ref(t);
        v = r.name.empty() ? json(r.index) : json(r.name);
        break;
      }
      case K::kTableArray: v = texts; break;
      default: v = t;
    }
    return s.kind == K::kTableArray ? v : check_setting_value(s, v);
  } catch (const Error& e) {
    TANDEM_THROW(s.flag << ": " << e.what());
  }
}

std::string setting_default_note(const Setting& s) {
  if (s.kind == SettingKind::kTableArray) return "";
  if (s.path() == "preset") return "(default kerasrs)";
  const json a = s.get(preset_config("kerasrs")), b = s.get(preset_config("tfrs"));
  if (s.kind == SettingKind::kBool && a == b && a == json(!s.flag_value)) return "";
  if (a != b) return "(kerasrs " + text_of(s, a) + ", tfrs " + text_of(s, b) + ")";
  const std::string note = s.default_note ? s.default_note : "";
  std::string v = text_of(s, a);
  if (!note.empty() && v == "none") return "(default " + note + ")";
  return "(default " + v + (note.empty() ? "" : ": " + note) + ")";
}

std::string setting_help(const Setting& s) {
  std::string help = s.help;
  if (s.kind == SettingKind::kColumn) help += kColumnHelp;
  const std::string note = setting_default_note(s);
  if (!note.empty()) help.append(" ").append(note);
  return help;
}

std::string setting_toml_value(const Setting& s, const json& v) {
  using K = SettingKind;
  if (v.is_string() || s.kind == K::kByteSize) {
    // As toml++ writes it (a literal 'string' where it can).
    const std::string x = v.is_string() ? v.get<std::string>() : std::to_string(v.get<int64_t>());
    std::ostringstream q;
    q << toml::value<std::string>(x);
    return q.str();
  }
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float() || s.kind == K::kFloat || s.kind == K::kDouble) {
    // The shortest text that reads back as the same value, kept a TOML float.
    std::string t = shortest(v.get<double>(), s.kind == K::kFloat);
    if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
    return t;
  }
  if (v.is_array()) {
    std::string t = "[";
    for (size_t i = 0; i < v.size(); ++i) t += (i ? ", " : "") + setting_toml_value(s, v[i]);
    return t + "]";
  }
  return v.dump();
}

std::string settings_docs_markdown() {
  std::ostringstream o;
  o << "| table | key | flag | type | default | meaning |\n|---|---|---|---|---|---|\n";
  std::string last_table = "-";
  for (const Setting& s : settings()) {
    const std::string table = *s.table ? "`[" + std::string(s.table) + "]`" : "(top)";
    std::string type = type_text(s);
    if (s.kind == SettingKind::kChoice) {
      type.clear();
      for (const auto& c : s.choices) {
        if (!type.empty()) type += " \\| ";
        type.append("`\"").append(c).append("\"`");
      }
    } else if ((s.kind == SettingKind::kInt || s.kind == SettingKind::kIntList) &&
               (s.lo != std::numeric_limits<int64_t>::min() || s.hi != kI64Max)) {
      type.append(" ").append(std::to_string(s.lo));
      if (s.hi == kI64Max) type += "+";
      else type.append("..").append(std::to_string(s.hi));
    }
    // The default without its parentheses and "default ".
    std::string note = setting_default_note(s);
    if (note.empty() && s.kind == SettingKind::kBool) note = text_of(s, s.get(ExperimentConfig{}));
    if (note.size() >= 2 && note.front() == '(') note = note.substr(1, note.size() - 2);
    if (note.rfind("default ", 0) == 0) note = note.substr(8);
    // A '|' in the help would end its cell.
    std::string help;
    std::string text = s.help;
    if (s.kind == SettingKind::kColumn) text += kColumnHelp;
    if (s.details) text.append(". ").append(s.details);
    for (const char ch : text) {
      if (ch == '|') help += '\\';
      help += ch;
    }
    o << "| " << (table == last_table ? "" : table) << " | `" << s.key << "` | ";
    if (s.flag) o << '`' << s.flag << '`';
    o << " | " << type << " | " << note << " | " << help << " |\n";
    last_table = table;
  }
  return o.str();
}

std::string with_settings_docs(const std::string& doc) {
  const size_t b = doc.find(kSettingsDocsBegin), e = doc.find(kSettingsDocsEnd);
  TANDEM_CHECK(b != std::string::npos && e != std::string::npos && b < e,
               "the docs lack the generated-settings markers " << kSettingsDocsBegin << " and "
                                                               << kSettingsDocsEnd);
  const size_t start = b + kSettingsDocsBegin.size();
  return doc.substr(0, start) + "\n" + settings_docs_markdown() + doc.substr(e);
}

}  // namespace tandem
