// tandem._tandem: the C++ core for Python (pybind11). The public API is the
// package tandem (python/tandem/__init__.py), which converts pandas frames
// and keywords and draws progress bars; everything that computes is here,
// over the same library calls as the CLI, so the two agree bit for bit.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "json_python.h"
#include "ratings_arrays.h"
#include "tandem/artifact/model_arrays.h"
#include "tandem/artifact/model_export.h"
#include "tandem/artifact/reference_split.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/config/config_file.h"
#include "tandem/config/data_location.h"
#include "tandem/config/keyword_settings.h"
#include "tandem/config/settings.h"
#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/experiment/baseline.h"
#include "tandem/experiment/experiment.h"
#include "tandem/experiment/model_evaluation.h"
#include "tandem/serve/api_json.h"
#include "tandem/serve/recommender.h"

namespace py = pybind11;

namespace tandem::python {

namespace {

using json = nlohmann::json;

// A numpy array that owns `v` (no copy: the vector moves into a capsule).
template <typename T>
py::array_t<T> owning_array(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
  auto* held = new std::vector<T>(std::move(v));
  py::capsule owner(held, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, held->data(), owner);
}

// A read-only [rows, dim] float32 view of memory `owner` keeps alive.
py::array float_view(const float* data, int64_t rows, int64_t dim, py::handle owner) {
  py::array a(py::dtype::of<float>(), {static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(dim)},
              {static_cast<py::ssize_t>(dim * sizeof(float)), static_cast<py::ssize_t>(sizeof(float))}, data,
              owner);
  a.attr("setflags")(py::arg("write") = false);
  return a;
}

py::object ids_array(const RowIds& ids) {
  if (ids.has_names) {
    py::list names;
    for (const std::string& s : ids.names) names.append(py::str(s));
    return py::module_::import("numpy").attr("array")(names, py::arg("dtype") = "str");
  }
  std::vector<int64_t> copy = ids.ids;
  return owning_array(std::move(copy), {static_cast<py::ssize_t>(ids.ids.size())});
}

// Progress and Ctrl-C during training: the hooks run on the training
// thread with the GIL released; each takes the GIL, lets Python handle a
// pending signal (KeyboardInterrupt unwinds training as an exception) and
// calls the user's callback with a dict.
struct PythonProgress {
  py::object callback;  // None: no callback

  // Called with the GIL held.
  void notify(py::dict event) const {
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!callback.is_none()) callback(event);
  }
  ProgressHooks hooks() const {
    ProgressHooks h;
    h.on_step = [this](const std::string& model, const StepProgress& p) {
      py::gil_scoped_acquire gil;
      notify(py::dict(py::arg("event") = "step", py::arg("model") = model, py::arg("epoch") = p.epoch,
                      py::arg("epochs") = p.epochs, py::arg("step") = p.step, py::arg("steps") = p.steps,
                      py::arg("examples") = p.examples, py::arg("ranking_loss") = p.ranking_loss,
                      py::arg("retrieval_loss") = p.retrieval_loss, py::arg("seconds") = p.seconds));
    };
    h.on_eval = [this](const std::string& model, int64_t done, int64_t total) {
      py::gil_scoped_acquire gil;
      notify(py::dict(py::arg("event") = "eval", py::arg("model") = model, py::arg("done") = done,
                      py::arg("total") = total));
    };
    return h;
  }
  EpochCallback on_epoch(int epochs) const {
    return [this, epochs](const std::string& model, const EpochStats& e) {
      py::gil_scoped_acquire gil;
      notify(py::dict(py::arg("event") = "epoch", py::arg("model") = model, py::arg("epoch") = e.epoch,
                      py::arg("epochs") = epochs, py::arg("step") = e.steps, py::arg("steps") = e.steps,
                      py::arg("examples") = e.examples, py::arg("ranking_loss") = e.ranking_loss,
                      py::arg("retrieval_loss") = e.retrieval_loss, py::arg("total_loss") = e.total_loss,
                      py::arg("learning_rate") = e.learning_rate, py::arg("seconds") = e.seconds));
    };
  }
};

// What a Python call asks to train on, resolved as the CLI resolves flags:
// preset < config file < keywords, then the data located.
struct TrainRequest {
  std::string config, preset, data, train_file, test_file;
  std::string settings_json = "{}";
  py::object ratings = py::none(), items = py::none();
};

struct ResolvedRequest {
  ExperimentConfig config;
  std::optional<GivenRatings> given;
};

ResolvedRequest resolve(const TrainRequest& r) {
  ResolvedRequest out;
  ExperimentConfig& c = out.config;
  c = r.config.empty() ? preset_config(r.preset.empty() ? "kerasrs" : r.preset)
                       : load_config_file(r.config, r.preset);
  apply_keyword_settings(c, json::parse(r.settings_json));
  if (!r.ratings.is_none()) {
    TANDEM_CHECK(r.data.empty() && r.train_file.empty() && r.test_file.empty(),
                 "give the ratings either as a frame (ratings=) or as files (data=, train_file=), not both");
    out.given = ratings_from_columns(r.ratings.cast<py::dict>(), r.items);
    TANDEM_CHECK(!c.side_features.enabled(),
                 "side features (user/item features) are read from files: train on data= or a csv config "
                 "to use them, not on a ratings frame");
    TANDEM_CHECK(!out.given->ratings.user_names || c.id_mode == IdMode::kVocabulary,
                 "the ratings' ids are strings, which need ids=\"vocabulary\" (the "
                     << c.preset << " preset maps integer ids to rows directly)");
    c.data_format = "auto";
    c.data_dir.clear();
  } else {
    locate_data(c, r.data, r.train_file, r.test_file);
  }
  c.validate();
  return out;
}

PreparedData prepare(ResolvedRequest& r) {
  if (!r.given) return prepare_data(r.config);
  const std::string source = "ratings frame (" + std::to_string(r.given->ratings.size()) + " rows)";
  return prepare_data(r.config, split_given_ratings(r.config, std::move(r.given->ratings),
                                                    std::move(r.given->items), source));
}

// The test part of a run's data, kept with a model trained in this session
// so that Model.evaluate() needs no files.
std::shared_ptr<const PreparedData> test_part(PreparedData&& d) {
  auto t = std::make_shared<PreparedData>();
  t->test = std::move(d.test);
  t->test_ratings = std::move(d.test_ratings);
  t->coverage = d.coverage;
  t->source = d.source;
  return t;
}

class Model {
 public:
  Model(TrainedModel m, std::string path, std::shared_ptr<const PreparedData> test)
      : owned_(std::make_unique<TrainedModel>(std::move(m))), path_(std::move(path)), test_(std::move(test)) {}

  const TrainedModel& model() const { return rec_ ? rec_->model() : *owned_; }
  TrainedModel& mutable_model() { return rec_ ? const_cast<TrainedModel&>(rec_->model()) : *owned_; }
  const std::string& path() const { return path_; }

  // The serving path, built on first use (with the GIL held): it takes the
  // model over, whose tables stay where they are, so views stay valid.
  // How recommend() retrieves: "exact" (default) or "hnsw", built or
  // loaded from a saved graph (tandem index build). Takes effect when the
  // serving path is built; afterwards it is refused.
  void set_index(const std::string& kind, const std::string& file, int ef_search) {
    TANDEM_CHECK(!rec_, "the retrieval index is chosen before the first recommend() or predict(): "
                        "pass index= to tandem.load");
    TANDEM_CHECK(kind == "exact" || kind == "hnsw", "index must be exact or hnsw, got " << kind);
    TANDEM_CHECK(file.empty() || kind == "hnsw", "index_file needs index=\"hnsw\"");
    TANDEM_CHECK(ef_search >= 1, "ef_search must be at least 1, got " << ef_search);
    options_.index = kind;
    options_.index_file = file;
    options_.hnsw.ef_search = ef_search;
  }
  const RecommenderOptions& options() const { return options_; }

  const Recommender& recommender() {
    if (!rec_) {
      const blas::ScopedThreads one(1);
      rec_ = std::make_unique<Recommender>(std::move(*owned_), options_);
      owned_.reset();
    }
    return *rec_;
  }

  void save(const std::string& path) {
    {
      py::gil_scoped_release nogil;
      save_model(path, model());
    }
    path_ = path;
  }

  py::object evaluate(const std::string& data, const std::string& test, const std::string& settings_json) {
    TrainedModel& m = mutable_model();
    const json keywords = json::parse(settings_json);
    // Only evaluation settings (and threads) may change, for this call.
    for (const auto& [name, v] : keywords.items()) {
      (void)v;
      const std::string n = name;
      TANDEM_CHECK(n == "k" || n == "threads" || n.rfind("evaluation", 0) == 0 || find_setting("evaluation." + n) ||
                       n.rfind("training.threads", 0) == 0,
                   "evaluate() takes evaluation settings only (k, exclude_seen, ...), not " << n);
    }
    ExperimentConfig saved = m.config;
    json out;
    try {
      apply_keyword_settings(m.config, keywords);
      m.config.validate();
      py::gil_scoped_release nogil;
      apply_threads(m.config);
      std::shared_ptr<const PreparedData> d = test_;
      if (!data.empty() || !test.empty() || !d) d = std::make_shared<PreparedData>(model_test_set(m, data, test));
      const EvalResult r = evaluate_trained_model(m, *d);
      out = evaluation_json(m, r, *d);
    } catch (...) {
      m.config = saved;
      throw;
    }
    m.config = saved;
    out["model"] = path_.empty() ? json(nullptr) : json(path_);
    return to_python(out);
  }

  py::object recommend(const std::string& user, int64_t k, std::optional<int64_t> candidates, bool exclude_seen,
                       const std::optional<RawUserFeatures>& features, bool full) {
    const Recommender& rec = recommender();
    json j;
    {
      py::gil_scoped_release nogil;
      const blas::ScopedThreads one(1);  // as tandem recommend and serve
      const RecommendResult res =
          rec.recommend(user, k, candidates.value_or(k), exclude_seen, features ? &*features : nullptr);
      j = encode_recommend_result(user, res, rec.model().names.items.get());
    }
    return full ? to_python(j) : to_python(j["items"]);
  }

  py::dict predict(const std::vector<std::string>& users, const std::vector<std::string>& item_texts) {
    const Recommender& rec = recommender();
    std::vector<TaskScores> scores;
    {
      py::gil_scoped_release nogil;
      // Item ids as text: a string-id model's names, else integers.
      std::vector<int64_t> items(item_texts.size());
      for (size_t i = 0; i < items.size(); ++i) {
        const auto id = rec.model().item_id_of(item_texts[i]);
        if (!id) {
          throw RequestError("unknown_item", "item_ids",
                             "item " + item_texts[i].substr(0, 64) + " (pair " + std::to_string(i) + ") is not " +
                                 (rec.model().names.items ? "in the model" : "an integer id"));
        }
        items[i] = *id;
      }
      const blas::ScopedThreads one(1);
      scores = rec.predict_pairs(users, items);
    }
    py::dict out;
    for (auto& t : scores) {
      const auto n = static_cast<py::ssize_t>(t.values.size());
      out[py::str(t.name)] = owning_array(std::move(t.values), {n});
    }
    return out;
  }

  py::object export_to(const std::string& path, const std::string& format) {
    const ExportFormat f = export_format_from(format);
    json summary;
    {
      py::gil_scoped_release nogil;
      summary = export_model(model(), f, path).to_json();
    }
    return to_python(summary);
  }

  std::shared_ptr<const PreparedData> test() const { return test_; }

 private:
  std::unique_ptr<TrainedModel> owned_;
  std::unique_ptr<Recommender> rec_;
  RecommenderOptions options_ = [] {
    RecommenderOptions o;
    o.limits = {100000, 100000, 100000};  // the CLI's limits, not the server's
    return o;
  }();
  std::string path_;
  std::shared_ptr<const PreparedData> test_;
};

Model train(const TrainRequest& request, const py::object& callback) {
  ResolvedRequest r = resolve(request);
  const PythonProgress progress{callback};
  const ProgressHooks hooks = progress.hooks();
  std::optional<std::pair<TrainedModel, RunResult>> trained;
  std::shared_ptr<const PreparedData> test;
  {
    py::gil_scoped_release nogil;
    PreparedData data = prepare(r);
    trained.emplace(train_and_evaluate(r.config, data, "custom", progress.on_epoch(r.config.epochs), nullptr, &hooks));
    test = test_part(std::move(data));
  }
  return Model(std::move(trained->first), "", std::move(test));
}

py::list compare(const TrainRequest& request, const py::object& callback) {
  ResolvedRequest r = resolve(request);
  const PythonProgress progress{callback};
  const ProgressHooks hooks = progress.hooks();
  std::vector<json> rows;
  {
    py::gil_scoped_release nogil;
    const PreparedData data = prepare(r);
    rows.push_back(evaluate_popularity(r.config, data).to_json());
    for (const auto& v : tutorial_variants()) {
      ExperimentConfig c = r.config;
      c.weights = v.weights;
      auto [model, result] = train_and_evaluate(c, data, v.name, progress.on_epoch(c.epochs), nullptr, &hooks);
      rows.push_back(result.to_json());
    }
  }
  py::list out;
  for (const json& j : rows) out.append(to_python(j));
  return out;
}

}  // namespace

}  // namespace tandem::python

using namespace tandem;
using namespace tandem::python;

PYBIND11_MODULE(_tandem, m) {
  m.doc() = "Tandem's C++ core; use the tandem package, not this module.";
  // Bad input (what the CLI reports as "tandem: error: ...") raises
  // tandem.Error, a ValueError, with the CLI's message.
  py::register_exception<Error>(m, "Error", PyExc_ValueError);

  py::class_<TrainRequest>(m, "TrainRequest")
      .def(py::init<>())
      .def_readwrite("config", &TrainRequest::config)
      .def_readwrite("preset", &TrainRequest::preset)
      .def_readwrite("data", &TrainRequest::data)
      .def_readwrite("train_file", &TrainRequest::train_file)
      .def_readwrite("test_file", &TrainRequest::test_file)
      .def_readwrite("settings_json", &TrainRequest::settings_json)
      .def_readwrite("ratings", &TrainRequest::ratings)
      .def_readwrite("items", &TrainRequest::items);

  m.def("train", &train, py::arg("request"), py::arg("callback") = py::none());
  m.def("compare", &compare, py::arg("request"), py::arg("callback") = py::none());
  m.def("load", [](const std::string& path, const std::string& index, const std::string& index_file, int ef_search) {
    std::optional<Model> out;
    {
      py::gil_scoped_release nogil;
      out.emplace(load_model(path), path, nullptr);
      out->set_index(index, index_file, ef_search);
      if (!index_file.empty()) out->recommender();  // a graph of another model is refused now
    }
    return std::move(*out);
  }, py::arg("path"), py::arg("index") = "exact", py::arg("index_file") = "", py::arg("ef_search") = HnswParams{}.ef_search);
  m.def("setting_keywords", &setting_keywords);
  m.def("preset_names", &preset_names);
  m.def("settings", [] {
    py::list out;
    for (const Setting& s : settings()) {
      out.append(py::dict(py::arg("path") = s.path(), py::arg("key") = std::string(s.key),
                          py::arg("flag") = s.flag ? py::object(py::str(s.flag)) : py::object(py::none()),
                          py::arg("help") = setting_help(s)));
    }
    return out;
  });
  m.def("config_toml", [](const std::string& preset, const std::string& config, const std::string& settings_json) {
    ExperimentConfig c = config.empty() ? preset_config(preset.empty() ? "kerasrs" : preset)
                                        : load_config_file(config, preset);
    apply_keyword_settings(c, json::parse(settings_json));
    return config_to_toml(c);
  });

  py::class_<Model>(m, "Model")
      .def_property_readonly("path", [](const Model& self) { return self.path(); })
      .def("save", &Model::save, py::arg("path"))
      .def("evaluate", &Model::evaluate, py::arg("data") = "", py::arg("test") = "", py::arg("settings_json") = "{}")
      .def("recommend", &Model::recommend, py::arg("user_id"), py::arg("k"), py::arg("candidates"),
           py::arg("exclude_seen"), py::arg("features"), py::arg("full"))
      .def("export", &Model::export_to, py::arg("path"), py::arg("format"))
      .def("predict", &Model::predict, py::arg("user_ids"), py::arg("item_ids"))
      .def_property_readonly("user_ids", [](const Model& self) { return ids_array(user_row_ids(self.model())); })
      .def_property_readonly("item_ids",
                             [](const Model& self) { return ids_array(catalogue_item_ids(self.model())); })
      .def_property_readonly("item_titles", [](const Model& self) { return catalogue_titles(self.model()); })
      .def("user_embeddings",
           [](py::object self) -> py::array {
             const TrainedModel& tm = self.cast<const Model&>().model();
             const int64_t rows = tm.users.rows(), d = tm.model->task_dim();
             if (user_vectors_are_table(tm)) return float_view(tm.model->user_table().row(0), rows, d, self);
             return owning_array(user_query_vectors(tm), {rows, d});
           })
      .def("item_embeddings",
           [](py::object self) -> py::array {
             const TrainedModel& tm = self.cast<const Model&>().model();
             const auto& rows = tm.catalogue.rows;
             const int64_t n = static_cast<int64_t>(rows.size()), d = tm.model->task_dim();
             // The catalogue's rows are often consecutive table rows (ids
             // 1..n): then the vectors are a slice of the table itself.
             bool consecutive = tm.model->embeddings_are_task_vectors() && n > 0;
             for (int64_t i = 1; consecutive && i < n; ++i) consecutive = rows[i] == rows[0] + i;
             if (consecutive) return float_view(tm.model->item_table().row(rows[0]), n, d, self);
             return owning_array(tm.catalogue_embeddings(), {n, d});
           })
      .def_property_readonly("config", [](const Model& self) { return to_python(self.model().config.to_json()); })
      .def_property_readonly("metrics", [](const Model& self) { return to_python(self.model().metrics); })
      .def_property_readonly("dim", [](const Model& self) { return self.model().model->task_dim(); })
      .def_property_readonly("index", [](const Model& self) { return self.options().index; })
      .def_property_readonly("has_test_set", [](const Model& self) { return self.test() != nullptr; });
}
