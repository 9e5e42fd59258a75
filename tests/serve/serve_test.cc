// The serving path on a tiny model trained here: Recommender (retrieve, then
// rank; cold start; exclude seen; score; similar) and the HTTP server over it
// (every endpoint, bad input, body limit, metrics, shutdown), on loopback.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/tiny_movielens.h"
#include "tandem/experiment/experiment.h"
#include "tandem/core/random.h"
#include "tandem/io/model_file.h"
#include "tandem/serve/http_server.h"
#include "tandem/serve/candidate_ranker.h"
#include "tandem/serve/recommender.h"
#include "tandem/artifact/trained_model.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Trains one small model per preset for the whole suite (seconds, not per test).
TrainedModel train_tiny(const std::string& preset) {
  const fs::path dir =
      fs::temp_directory_path() / ("tandem_serve_" + preset + "_" + std::to_string(::getpid()));
  // Items 41 and 42 are in the catalogue but never rated.
  testing::write_tiny_movielens(dir);
  const ExperimentConfig c = testing::tiny_config(preset, dir);
  const PreparedData data = prepare_data(c);
  auto [model, result] = train_and_evaluate(c, data, "joint");
  fs::remove_all(dir);
  return std::move(model);
}

ServeLimits small_limits() { return {50, 40, 30}; }
RecommenderOptions small_options(const std::string& index = "exact") {
  RecommenderOptions o;
  o.limits = small_limits();
  o.index = index;
  return o;
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    kerasrs_ = new Recommender(train_tiny("kerasrs"), small_options());
    tfrs_ = new Recommender(train_tiny("tfrs"), small_options());
  }
  static void TearDownTestSuite() {
    delete kerasrs_;
    delete tfrs_;
  }
  static const Recommender& rec() { return *kerasrs_; }

  // Raw item ids the user rated in training, from the model's CSR.
  static std::set<int64_t> seen_ids(const Recommender& r, int64_t user) {
    const TrainedModel& m = r.model();
    const auto row = static_cast<size_t>(*m.users.find(user));
    std::set<int64_t> out;
    for (int64_t i = m.seen_offsets[row]; i < m.seen_offsets[row + 1]; ++i)
      out.insert(m.items.raw_id(m.seen_items[static_cast<size_t>(i)]));
    return out;
  }

  // Catalogue item ids by descending user . item, computed here by plain loops.
  static std::vector<int64_t> brute_force_retrieval(const Recommender& r, int64_t user) {
    const TrainedModel& m = r.model();
    const auto& ut = m.model->user_table();
    const auto& it = m.model->item_table();
    const float* q = ut.row(*m.users.find(user));
    std::vector<std::pair<float, int64_t>> s;
    for (size_t c = 0; c < m.catalogue.size(); ++c) {
      const float* v = it.row(m.catalogue.rows[c]);
      float d = 0;
      for (int64_t j = 0; j < it.dim; ++j) d += q[j] * v[j];
      s.emplace_back(d, m.catalogue.items.item_ids[c]);
    }
    std::stable_sort(s.begin(), s.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::vector<int64_t> ids;
    for (auto& p : s) ids.push_back(p.second);
    return ids;
  }

  static Recommender* kerasrs_;
  static Recommender* tfrs_;
};
Recommender* ServeTest::kerasrs_ = nullptr;
Recommender* ServeTest::tfrs_ = nullptr;

TEST_F(ServeTest, RetrievesThenRanksByPredictedRating) {
  const auto r = rec().recommend("3", 5, 20, false);
  EXPECT_FALSE(r.cold_start);
  EXPECT_EQ(r.index, "exact");
  ASSERT_EQ(r.items.size(), 5u);
  // The 20 candidates are the exact top 20 by retrieval score...
  const auto all = rec().recommend("3", 20, 20, false);
  ASSERT_EQ(all.items.size(), 20u);
  const auto expected = brute_force_retrieval(rec(), 3);
  std::set<int64_t> got_ids, want_ids(expected.begin(), expected.begin() + 20);
  for (const auto& it : all.items) got_ids.insert(it.item_id);
  EXPECT_EQ(got_ids, want_ids);
  // ... ordered by predicted rating, and the top 5 are its first 5.
  std::vector<int64_t> ids;
  for (const auto& it : r.items) ids.push_back(it.item_id);
  const auto pred = rec().score("3", ids);
  for (size_t i = 0; i < r.items.size(); ++i) {
    ASSERT_TRUE(r.items[i].predicted_rating.has_value());
    EXPECT_FLOAT_EQ(*r.items[i].predicted_rating, pred[i]);
    EXPECT_EQ(r.items[i].item_id, all.items[i].item_id);
    EXPECT_FALSE(r.items[i].title.empty());
  }
  for (size_t i = 1; i < all.items.size(); ++i)
    EXPECT_GE(*all.items[i - 1].predicted_rating, *all.items[i].predicted_rating);
  // k above candidates returns the candidates only.
  EXPECT_EQ(rec().recommend("3", 30, 7, false).items.size(), 7u);
}

TEST_F(ServeTest, ExcludeSeenRemovesTheUsersTrainingItems) {
  for (const Recommender* r : {kerasrs_, tfrs_}) {
    const auto seen = seen_ids(*r, 4);
    ASSERT_FALSE(seen.empty());
    // Every catalogue item as a candidate: without exclusion, seen items show up.
    const auto with = r->recommend("4", 40, 40, false);
    const auto without = r->recommend("4", 40, 40, true);
    size_t seen_in_with = 0;
    for (const auto& it : with.items) seen_in_with += seen.count(it.item_id);
    EXPECT_GT(seen_in_with, 0u);
    for (const auto& it : without.items) EXPECT_EQ(seen.count(it.item_id), 0u) << it.item_id;
    EXPECT_EQ(without.items.size(), std::min<size_t>(40, 42 - seen.size()));
  }
}

TEST_F(ServeTest, UnknownUsersGetThePopularItems) {
  for (const Recommender* r : {kerasrs_, tfrs_}) {
    const TrainedModel& m = r->model();
    // Popularity recomputed here: training counts per catalogue item.
    std::vector<std::pair<int64_t, size_t>> pop;
    for (size_t c = 0; c < m.catalogue.size(); ++c)
      pop.emplace_back(m.item_train_counts[static_cast<size_t>(m.catalogue.rows[c])], c);
    std::stable_sort(pop.begin(), pop.end(), [](auto& a, auto& b) { return a.first > b.first; });
    const auto res = r->recommend("999999", 6, 6, true);
    EXPECT_TRUE(res.cold_start);
    ASSERT_EQ(res.items.size(), 6u);
    for (size_t i = 0; i < 6; ++i) {
      EXPECT_EQ(res.items[i].item_id, m.catalogue.items.item_ids[pop[i].second]);
      EXPECT_FLOAT_EQ(res.items[i].score, static_cast<float>(pop[i].first));
      EXPECT_FALSE(res.items[i].predicted_rating.has_value());
    }
    EXPECT_GT(pop[0].first, pop[41].first);
  }
}

TEST_F(ServeTest, BadArgumentsAreErrorsNamingTheField) {
  auto field_of = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const RequestError& e) {
      return e.field();
    }
    return "no error";
  };
  EXPECT_EQ(field_of([] { rec().recommend("3", 0, 10, false); }), "k");
  EXPECT_EQ(field_of([] { rec().recommend("3", 51, 10, false); }), "k");
  // Within the limit but above the 42-item catalogue: named, not truncated.
  EXPECT_EQ(field_of([] { rec().recommend("3", 45, 10, false); }), "k");
  EXPECT_EQ(field_of([] { rec().recommend("424242", 45, 45, false); }), "k");  // cold start too
  try {
    rec().recommend("3", 45, 10, false);
  } catch (const RequestError& e) {
    EXPECT_NE(std::string(e.what()).find("catalogue size (42 items)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(field_of([] { rec().recommend("3", 5, 41, false); }), "candidates");
  EXPECT_EQ(field_of([] { rec().recommend("3", 5, -1, false); }), "candidates");
  for (const char* bad : {"abc", "", "3x", " 3", "1e3", "99999999999999999999"})
    EXPECT_EQ(field_of([bad] { rec().recommend(bad, 5, 5, false); }), "user_id") << bad;
  EXPECT_EQ(field_of([] { rec().score("3", {1, 4242}); }), "item_ids");
  EXPECT_EQ(field_of([] { rec().score("999999", {1}); }), "user_id");
  EXPECT_EQ(field_of([] { rec().score("3", std::vector<int64_t>(31, 1)); }), "item_ids");
  EXPECT_EQ(field_of([] { rec().similar(4242, 5); }), "item_id");
  EXPECT_EQ(field_of([] { rec().similar(1, 0); }), "k");
}

TEST_F(ServeTest, SimilarItemsByEmbeddingDotProduct) {
  const auto s = rec().similar(7, 10);
  ASSERT_EQ(s.size(), 10u);
  const TrainedModel& m = rec().model();
  const auto& it = m.model->item_table();
  const float* q = it.row(*m.items.find(7));
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_NE(s[i].item_id, 7);
    const float* v = it.row(*m.items.find(s[i].item_id));
    float d = 0;
    for (int64_t j = 0; j < it.dim; ++j) d += q[j] * v[j];
    EXPECT_NEAR(s[i].score, d, 1e-5);
    if (i > 0) {
      EXPECT_GE(s[i - 1].score, s[i].score);
    }
  }
  EXPECT_EQ(rec().similar(7, 42).size(), 41u);  // the whole catalogue but itself
  EXPECT_THROW(rec().similar(7, 50), RequestError);  // more than the catalogue holds
}

TEST_F(ServeTest, ConcurrentCallsAgree) {
  const auto ref = rec().recommend("5", 10, 30, true);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const auto r = rec().recommend("5", 10, 30, true);
        for (size_t j = 0; j < r.items.size(); ++j)
          if (r.items[j].item_id != ref.items[j].item_id ||
              r.items[j].predicted_rating != ref.items[j].predicted_rating)
            ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// The ranking fast path (user half once, item half precomputed or per call)
// against the model's own batch prediction, for every user and item.
TEST_F(ServeTest, CandidateRankerEqualsPredictRatings) {
  for (const Recommender* r : {kerasrs_, tfrs_}) {
    const MultiTaskModel& m = *r->model().model;
    const CandidateRanker pre(m, int64_t{1} << 30), lazy(m, 0);
    EXPECT_TRUE(pre.precomputed());
    // The item half of the first layer: item rows x first-layer width floats.
    ASSERT_FALSE(m.shape().hidden.empty());
    EXPECT_EQ(pre.precomputed_bytes(),
              m.item_table().rows * m.shape().hidden.front() * static_cast<int64_t>(sizeof(float)));
    EXPECT_FALSE(lazy.precomputed());
    const auto n_items = m.item_table().rows;
    std::vector<int32_t> items(static_cast<size_t>(n_items));
    std::iota(items.begin(), items.end(), 0);
    CandidateRanker::Scratch scratch;
    double worst = 0.0;
    for (int32_t u = 0; u < m.user_table().rows; ++u) {
      std::vector<int32_t> users(items.size(), u);
      std::vector<float> want(items.size()), a(items.size()), b(items.size()), tmp;
      m.predict_ratings(users.data(), items.data(), n_items, want.data(), tmp);
      pre.predict(u, items.data(), n_items, a.data(), scratch);
      lazy.predict(u, items.data(), n_items, b.data(), scratch);
      for (size_t i = 0; i < items.size(); ++i) {
        worst = std::max<double>(worst, std::abs(a[i] - want[i]));
        worst = std::max<double>(worst, std::abs(b[i] - want[i]));
      }
    }
    EXPECT_LT(worst, 1e-5);
    // A head whose outputs differ must be seen: one item scored alone
    // equals its entry in the batch (the rows do not mix).
    std::vector<float> one(1);
    pre.predict(0, items.data() + 3, 1, one.data(), scratch);
    std::vector<float> all(items.size());
    pre.predict(0, items.data(), n_items, all.data(), scratch);
    EXPECT_FLOAT_EQ(one[0], all[3]);
  }
}

// On a catalogue smaller than the search depth HNSW explores every item, so
// the approximate path must give the exact path's answers, exclusions too.
TEST_F(ServeTest, HnswIndexServesTheSameListsOnASmallCatalogue) {
  const fs::path file = fs::temp_directory_path() / ("tandem_serve_hnsw_" + std::to_string(::getpid()));
  save_model(file.string(), rec().model());
  const Recommender hnsw(load_model(file.string()), small_options("hnsw"));
  fs::remove(file);
  EXPECT_EQ(hnsw.index().name(), "hnsw");
  EXPECT_EQ(hnsw.index().size(), rec().catalogue_size());
  for (const auto& [uid, urow] : std::vector<std::pair<int64_t, int>>{{1, 0}, {3, 0}, {5, 0}, {7, 0}}) {
    (void)urow;
    for (bool exclude : {false, true}) {
      const auto a = rec().recommend(std::to_string(uid), 10, 30, exclude);
      const auto b = hnsw.recommend(std::to_string(uid), 10, 30, exclude);
      EXPECT_EQ(b.index, "hnsw");
      ASSERT_EQ(a.items.size(), b.items.size()) << uid;
      for (size_t i = 0; i < a.items.size(); ++i) {
        EXPECT_EQ(a.items[i].item_id, b.items[i].item_id) << uid << " " << i;
        EXPECT_EQ(a.items[i].predicted_rating, b.items[i].predicted_rating);
      }
    }
  }
  const auto s1 = rec().similar(1, 5), s2 = hnsw.similar(1, 5);
  ASSERT_EQ(s1.size(), s2.size());
  for (size_t i = 0; i < s1.size(); ++i) EXPECT_EQ(s1[i].item_id, s2[i].item_id);
  // Cold start consults no index and says so.
  EXPECT_EQ(hnsw.recommend("424242", 3, 3, false).index, "popularity");
}

// --- HTTP -------------------------------------------------------------------

class HttpTest : public ServeTest {
 protected:
  void SetUp() override {
    HttpServerOptions o;
    o.port = 0;
    o.threads = 4;
    o.limits.max_body_bytes = 4096;
    server_ = std::make_unique<HttpServer>(rec(), o);
    port_ = server_->start();
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen(); });
  }
  void TearDown() override {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    return c;
  }
  json post(const std::string& path, const std::string& body, int* status) const {
    auto res = client().Post(path.c_str(), body, "application/json");
    if (!res) {
      *status = -1;
      return {};
    }
    *status = res->status;
    return json::parse(res->body, nullptr, false);
  }
  json get(const std::string& path, int* status) const {
    auto res = client().Get(path.c_str());
    if (!res) {
      *status = -1;
      return {};
    }
    *status = res->status;
    return json::parse(res->body, nullptr, false);
  }
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(HttpTest, RecommendMatchesTheLibraryPath) {
  int status = 0;
  const json r = post("/v1/recommend",
                      R"({"user_id": "5", "k": 4, "candidates": 25, "exclude_seen": true})", &status);
  ASSERT_EQ(status, 200) << r.dump();
  EXPECT_EQ(r["user_id"], "5");
  EXPECT_EQ(r["cold_start"], false);
  EXPECT_EQ(r["index"], "exact");
  for (const char* f : {"retrieve", "rank", "total"}) EXPECT_GE(r["timing_ms"][f].get<double>(), 0.0) << f;
  const auto lib = rec().recommend("5", 4, 25, true);
  ASSERT_EQ(r["items"].size(), lib.items.size());
  ASSERT_EQ(lib.items.size(), 4u);
  const auto seen = seen_ids(rec(), 5);
  for (size_t i = 0; i < lib.items.size(); ++i) {
    const json& it = r["items"][i];
    EXPECT_EQ(it["item_id"].get<int64_t>(), lib.items[i].item_id);
    EXPECT_EQ(it["title"].get<std::string>(), lib.items[i].title);
    EXPECT_FLOAT_EQ(it["predicted_rating"].get<float>(), *lib.items[i].predicted_rating);
    EXPECT_FLOAT_EQ(it["score"].get<float>(), lib.items[i].score);
    EXPECT_EQ(seen.count(it["item_id"].get<int64_t>()), 0u);
    if (i > 0) {
      EXPECT_GE(r["items"][i - 1]["predicted_rating"].get<float>(), it["predicted_rating"].get<float>());
    }
  }
  // An integer user id is the same request.
  const json r2 = post("/v1/recommend",
                       R"({"user_id": 5, "k": 4, "candidates": 25, "exclude_seen": true})", &status);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(r2["items"], r["items"]);
}

TEST_F(HttpTest, ColdStartIsNotAnError) {
  int status = 0;
  const json r = post("/v1/recommend", R"({"user_id": "123456", "k": 3})", &status);
  ASSERT_EQ(status, 200) << r.dump();
  EXPECT_EQ(r["cold_start"], true);
  ASSERT_EQ(r["items"].size(), 3u);
  const auto lib = rec().recommend("123456", 3, 3, false);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r["items"][i]["item_id"].get<int64_t>(), lib.items[i].item_id);
    EXPECT_TRUE(r["items"][i]["predicted_rating"].is_null());
  }
}

TEST_F(HttpTest, ScoreSimilarModelHealth) {
  int status = 0;
  const json s = post("/v1/score", R"({"user_id": "5", "item_ids": [1, 2, 42]})", &status);
  ASSERT_EQ(status, 200) << s.dump();
  const auto lib = rec().score("5", {1, 2, 42});
  ASSERT_EQ(s["predictions"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(s["predictions"][i]["item_id"], (std::vector<int64_t>{1, 2, 42})[i]);
    EXPECT_FLOAT_EQ(s["predictions"][i]["predicted_rating"].get<float>(), lib[i]);
  }
  const json sim = get("/v1/similar?item_id=7&k=3", &status);
  ASSERT_EQ(status, 200) << sim.dump();
  const auto lsim = rec().similar(7, 3);
  ASSERT_EQ(sim["items"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(sim["items"][i]["item_id"].get<int64_t>(), lsim[i].item_id);
  EXPECT_EQ(get("/healthz", &status), json({{"status", "ok"}}));
  EXPECT_EQ(status, 200);
  const json m = get("/v1/model", &status);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(m["config"], rec().model().config.to_json());
  EXPECT_EQ(m["sizes"]["catalogue"], 42);
  EXPECT_EQ(m["sizes"]["users"], 31);
  EXPECT_EQ(m["sizes"]["items"], 43);
  EXPECT_EQ(m["sizes"]["dim"], 8);
  EXPECT_EQ(m["format_version"], kModelFormatVersion);
  EXPECT_TRUE(m.contains("metrics"));
}

TEST_F(HttpTest, BadInputIs4xxNamingTheField) {
  struct Case {
    const char* path;
    const char* body;
    int status;
    const char* field;
  };
  const Case cases[] = {
      {"/v1/recommend", "{not json", 400, "body"},
      {"/v1/recommend", "[1, 2]", 400, "body"},
      {"/v1/recommend", R"({"k": 5})", 400, "user_id"},
      {"/v1/recommend", R"({"user_id": true})", 400, "user_id"},
      {"/v1/recommend", R"({"user_id": "five"})", 400, "user_id"},
      {"/v1/recommend", R"({"user_id": 1.5})", 400, "user_id"},
      {"/v1/recommend", R"({"user_id": "5", "k": 0})", 400, "k"},
      {"/v1/recommend", R"({"user_id": "5", "k": -3})", 400, "k"},
      {"/v1/recommend", R"({"user_id": "5", "k": 51})", 400, "k"},
      {"/v1/recommend", R"({"user_id": "5", "k": "10"})", 400, "k"},
      {"/v1/recommend", R"({"user_id": "5", "k": 2.5})", 400, "k"},
      {"/v1/recommend", R"({"user_id": "5", "k": 18446744073709551615})", 400, "k"},
      {"/v1/recommend", R"({"user_id": "5", "k": 5, "candidates": 41})", 400, "candidates"},
      {"/v1/recommend", R"({"user_id": "5", "exclude_seen": "yes"})", 400, "exclude_seen"},
      {"/v1/score", R"({"user_id": "5"})", 400, "item_ids"},
      {"/v1/score", R"({"user_id": "5", "item_ids": 3})", 400, "item_ids"},
      {"/v1/score", R"({"user_id": "5", "item_ids": [1, "x"]})", 400, "item_ids"},
      {"/v1/score", R"({"user_id": "5", "item_ids": [1, 4242]})", 404, "item_ids"},
      {"/v1/score", R"({"user_id": "777777", "item_ids": [1]})", 404, "user_id"},
      {"/v1/score", R"({"item_ids": [1]})", 400, "user_id"},
  };
  for (const auto& c : cases) {
    int status = 0;
    const json r = post(c.path, c.body, &status);
    EXPECT_EQ(status, c.status) << c.path << " " << c.body << " -> " << r.dump();
    ASSERT_TRUE(r.contains("error")) << c.body;
    EXPECT_EQ(r["error"]["field"], c.field) << c.body;
    EXPECT_FALSE(r["error"]["code"].get<std::string>().empty()) << c.body;
    EXPECT_FALSE(r["error"]["message"].get<std::string>().empty()) << c.body;
  }
  std::string many = R"({"user_id": "5", "item_ids": [1)";
  for (int i = 0; i < 30; ++i) many += ", 1";
  many += "]}";
  int status = 0;
  json r = post("/v1/score", many, &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(r["error"]["field"], "item_ids");
  for (const char* q : {"/v1/similar?k=3", "/v1/similar?item_id=x", "/v1/similar?item_id=4242",
                        "/v1/similar?item_id=7&k=0"}) {
    r = get(q, &status);
    EXPECT_GE(status, 400) << q;
    EXPECT_LT(status, 500) << q;
    EXPECT_TRUE(r.contains("error")) << q;
  }
  r = get("/v1/similar?item_id=7&k=0", &status);
  EXPECT_EQ(r["error"]["field"], "k");
  r = get("/no/such/path", &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(r["error"]["code"], "not_found");
  // The server is still up after all of that.
  EXPECT_EQ(get("/healthz", &status)["status"], "ok");
}

TEST_F(HttpTest, BodyAboveTheLimitIsRefused) {
  std::string body = R"({"user_id": "5", "pad": ")" + std::string(8000, 'x') + "\"}";
  int status = 0;
  const json r = post("/v1/recommend", body, &status);
  EXPECT_EQ(status, 413);
  EXPECT_EQ(r["error"]["code"], "payload_too_large");
  EXPECT_EQ(r["error"]["field"], "body");
  EXPECT_EQ(get("/healthz", &status)["status"], "ok");
}

TEST_F(HttpTest, KnownPathWithAnotherMethodIs405NamingTheAllowedOne) {
  auto res = client().Get("/v1/recommend");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "POST");
  const json r = json::parse(res->body);
  EXPECT_EQ(r["error"]["code"], "method_not_allowed");
  EXPECT_EQ(r["error"]["field"], "method");
  res = client().Post("/healthz", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET");
}

TEST(HttpLimitsTest, OutOfRangeValuesNameTheirFlag) {
  auto message = [](auto edit) {
    HttpLimits l;
    edit(l);
    try {
      l.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message([](HttpLimits&) {}), "");
  EXPECT_NE(message([](HttpLimits& l) { l.header_timeout_seconds = 0; }).find("--header-timeout"), std::string::npos);
  EXPECT_NE(message([](HttpLimits& l) { l.idle_timeout_seconds = -1; }).find("--idle-timeout"), std::string::npos);
  EXPECT_NE(message([](HttpLimits& l) { l.max_connections = 0; }).find("--max-connections"), std::string::npos);
  EXPECT_NE(message([](HttpLimits& l) { l.max_header_bytes = 10; }).find("--max-header-bytes"), std::string::npos);
  EXPECT_NE(message([](HttpLimits& l) { l.max_body_bytes = 0; }).find("--max-body-bytes"), std::string::npos);
  EXPECT_NE(message([](HttpLimits& l) { l.shutdown_timeout_seconds = -0.5; }).find("--shutdown-timeout"),
            std::string::npos);
}

TEST_F(HttpTest, MetricsCountRequestsAndErrors) {
  int status = 0;
  post("/v1/recommend", R"({"user_id": "5", "k": 3})", &status);
  post("/v1/recommend", R"({"user_id": "5", "k": 3})", &status);
  post("/v1/recommend", "{bad", &status);
  get("/nope", &status);
  get("/nope2", &status);
  auto res = client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const std::string& t = res->body;
  EXPECT_NE(t.find("tandem_requests_total{endpoint=\"recommend\",status=\"200\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_requests_total{endpoint=\"recommend\",status=\"400\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_requests_total{endpoint=\"other\",status=\"404\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_request_errors_total{kind=\"invalid_json\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_request_errors_total{kind=\"not_found\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_request_duration_seconds_count{endpoint=\"recommend\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tandem_request_duration_seconds_bucket{endpoint=\"recommend\",le=\"+Inf\"} 3\n"),
            std::string::npos) << t;
  EXPECT_NE(t.find("# TYPE tandem_request_duration_seconds histogram"), std::string::npos);
  EXPECT_EQ(t.find("nope"), std::string::npos);  // no label per unknown path
}

TEST_F(HttpTest, StopReturnsPromptly) {
  int status = 0;
  get("/healthz", &status);
  ASSERT_EQ(status, 200);
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  thread_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(get("/healthz", &status), json());
  EXPECT_EQ(status, -1);  // nothing listens any more
}

TEST_F(ServeTest, StopBeforeListenIsNotLost) {
  HttpServer s(rec(), {"127.0.0.1", 0, 1, {}});
  ASSERT_GT(s.start(), 0);
  s.stop();
  std::thread t([&] { s.listen(); });
  t.join();  // would hang if the early stop were lost
}

}  // namespace
}  // namespace tandem
