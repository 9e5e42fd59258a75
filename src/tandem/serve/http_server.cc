#include "tandem/serve/http_server.h"

#include <httplib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <limits>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tandem/io/model_file.h"
#include "tandem/serve/api_json.h"

namespace tandem {

namespace {

using json = nlohmann::json;

// Label values are fixed sets so that no client can grow the metrics without
// bound: unknown paths count as "other", unusual statuses as "other".
enum Endpoint { kRecommend, kScore, kSimilar, kHealthz, kModel, kMetrics, kOther, kEndpoints };
constexpr std::array<const char*, kEndpoints> kEndpointNames = {
    "recommend", "score", "similar", "healthz", "model", "metrics", "other"};
constexpr std::array<int, 8> kStatuses = {200, 400, 404, 405, 413, 422, 500, 503};
constexpr size_t kStatusSlots = kStatuses.size() + 1;  // + "other"

enum ErrorKind { kInvalidJson, kInvalidRequest, kUnknownId, kPayloadTooLarge, kNotFound, kInternal,
                 kErrorKinds };
constexpr std::array<const char*, kErrorKinds> kErrorKindNames = {
    "invalid_json", "invalid_request", "unknown_id", "payload_too_large", "not_found", "internal"};

constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,   0.025,   0.05,   0.1,   0.5,    2.5};

Endpoint endpoint_of(const std::string& path) {
  if (path == "/v1/recommend") return kRecommend;
  if (path == "/v1/score") return kScore;
  if (path == "/v1/similar") return kSimilar;
  if (path == "/healthz") return kHealthz;
  if (path == "/v1/model") return kModel;
  if (path == "/metrics") return kMetrics;
  return kOther;
}

size_t status_slot(int status) {
  for (size_t i = 0; i < kStatuses.size(); ++i)
    if (kStatuses[i] == status) return i;
  return kStatuses.size();
}

// A client error with the HTTP status it maps to.
struct HttpError {
  int status;
  ErrorKind kind;
  std::string code, field, message;
};

HttpError from_request_error(const RequestError& e) {
  if (e.code() == "invalid_json") return {400, kInvalidJson, e.code(), e.field(), e.what()};
  const bool unknown = e.code() == "unknown_item" || e.code() == "unknown_user";
  return {unknown ? 404 : 400, unknown ? kUnknownId : kInvalidRequest, e.code(), e.field(),
          e.what()};
}

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // Replace invalid UTF-8 (titles, echoed input) rather than throw mid-reply.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

int64_t int_param(const httplib::Request& req, const char* name, std::optional<int64_t> fallback) {
  if (!req.has_param(name)) {
    if (fallback) return *fallback;
    throw RequestError("missing_field", name, std::string("field '") + name + "' is required");
  }
  return decode_int_param(name, req.get_param_value(name));
}

}  // namespace

struct HttpServer::Impl {
  const Recommender& rec;
  HttpServerOptions opts;
  httplib::Server svr;
  int bound_port = -1;
  std::atomic<bool> stop_requested{false}, in_listen{false};

  std::array<std::array<std::atomic<uint64_t>, kStatusSlots>, kEndpoints> requests{};
  std::array<std::atomic<uint64_t>, kErrorKinds> errors{};
  // Per endpoint: cumulative bucket counts are derived at export time from
  // these per-bucket counts (+Inf last); the sum is kept in nanoseconds.
  std::array<std::array<std::atomic<uint64_t>, kBuckets.size() + 1>, kEndpoints> hist{};
  std::array<std::atomic<uint64_t>, kEndpoints> hist_sum_ns{};

  Impl(const Recommender& r, HttpServerOptions o) : rec(r), opts(std::move(o)) {}

  void observe(Endpoint e, std::chrono::steady_clock::duration d) {
    const double s = std::chrono::duration<double>(d).count();
    size_t b = 0;
    while (b < kBuckets.size() && s > kBuckets[b]) ++b;
    hist[e][b].fetch_add(1, std::memory_order_relaxed);
    hist_sum_ns[e].fetch_add(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()),
        std::memory_order_relaxed);
  }

  // Every reply is counted before it is sent (in the handler wrapper, or in
  // the error handler for replies httplib makes itself), so a client that has
  // its answer always finds it in /metrics: httplib's logger runs only after
  // the reply is on the wire.
  void count(Endpoint e, int status) {
    requests[e][status_slot(status)].fetch_add(1, std::memory_order_relaxed);
  }

  // Wraps a handler: times it and turns every exception into a JSON reply.
  template <class F>
  httplib::Server::Handler handler(Endpoint e, F f) {
    return [this, e, f](const httplib::Request& req, httplib::Response& res) {
      const auto t0 = std::chrono::steady_clock::now();
      HttpError err{0, kInternal, "", "", ""};
      try {
        f(req, res, t0);
      } catch (const HttpError& x) {
        err = x;
      } catch (const RequestError& x) {
        err = from_request_error(x);
      } catch (const Error& x) {
        err = {400, kInvalidRequest, "invalid_request", "", x.what()};
      } catch (const std::exception& x) {
        err = {500, kInternal, "internal", "", x.what()};
      } catch (...) {
        err = {500, kInternal, "internal", "", "unknown error"};
      }
      if (err.status != 0) {
        errors[err.kind].fetch_add(1, std::memory_order_relaxed);
        reply(res, err.status, encode_error(err.code, err.field, err.message));
      }
      observe(e, std::chrono::steady_clock::now() - t0);
      count(e, res.status);
    };
  }

  nlohmann::json index_json() const {
    const auto& o = rec.options();
    json j = {{"kind", rec.index().name()}, {"items", rec.index().size()}};
    // Where the index came from: built at start, or loaded from a saved graph.
    if (rec.index_loaded()) {
      j["source"] = "file";
      j["file"] = o.index_file;
      j["load_seconds"] = rec.index_seconds();
    } else {
      j["source"] = "built";
      j["build_seconds"] = rec.index_seconds();
    }
    if (rec.index().name() == "hnsw")
      j["hnsw"] = {{"M", o.hnsw.M}, {"ef_construction", o.hnsw.ef_construction},
                   {"ef_search", o.hnsw.ef_search}, {"seed", o.hnsw.seed}};
    return j;
  }

  void routes() {
    using Clock = std::chrono::steady_clock;
    svr.Post("/v1/recommend", handler(kRecommend, [this](const httplib::Request& req,
                                                         httplib::Response& res, Clock::time_point t0) {
      const RecommendRequest q = decode_recommend_request(req.body);
      const RecommendResult r = rec.recommend(q.user_id, q.k, q.candidates, q.exclude_seen,
                                              q.features ? &*q.features : nullptr);
      json body = encode_recommend_result(q.user_id, r, rec.model().names.items.get());
      body["timing_ms"]["total"] =
          std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      reply(res, 200, body);
    }));

    svr.Post("/v1/score", handler(kScore, [this](const httplib::Request& req, httplib::Response& res,
                                                 Clock::time_point) {
      const ScoreRequest q = decode_score_request(req.body, rec.limits().max_score_items);
      const std::vector<int64_t> ids =
          q.item_names.empty() ? q.item_ids : resolve_item_names(q.item_names, rec, "item_ids");
      reply(res, 200, encode_scores(q.user_id, ids, rec.score(q.user_id, ids), rec.ranking_output(),
                                    rec.model().names.items.get(), rec.task_scores(q.user_id, ids)));
    }));

    svr.Get("/v1/similar", handler(kSimilar, [this](const httplib::Request& req,
                                                    httplib::Response& res, Clock::time_point) {
      // A model trained on string item ids is asked by name.
      const auto* names = rec.model().names.items.get();
      const int64_t item =
          names && req.has_param("item_id")
              ? resolve_item_names({req.get_param_value("item_id")}, rec, "item_id").front()
                : int_param(req, "item_id", {});
      const int64_t k = int_param(req, "k", 10);
      reply(res, 200, encode_similar_items(item, rec.similar(item, k), names));
    }));

    svr.Get("/healthz", handler(kHealthz, [](const httplib::Request&, httplib::Response& res,
                                             Clock::time_point) {
      reply(res, 200, {{"status", "ok"}});
    }));

    svr.Get("/v1/model", handler(kModel, [this](const httplib::Request&, httplib::Response& res,
                                                Clock::time_point) {
      const TrainedModel& m = rec.model();
      const auto& l = rec.limits();
      reply(res, 200,
            {{"config", m.config.to_json()},
             {"sizes",
              {{"users", m.users.rows()},
               {"items", m.items.rows()},
               {"catalogue", rec.catalogue_size()},
               {"dim", output_dim(m.model->shape())}}},
             {"metrics", m.metrics},
             {"format_version", kModelFormatVersion},
             {"index", index_json()},
             {"ranking", {{"precomputed_item_activations", rec.ranker().precomputed()},
                          {"precomputed_bytes", rec.ranker().precomputed_bytes()}}},
             {"limits",
              {{"max_k", l.max_k},
               {"max_candidates", l.max_candidates},
               {"max_score_items", l.max_score_items}}}});
    }));

    svr.Get("/metrics", handler(kMetrics, [this](const httplib::Request&, httplib::Response& res,
                                                 Clock::time_point) {
      res.status = 200;
      res.set_content(metrics_text(), "text/plain; version=0.0.4");
    }));

    // Errors httplib produces itself (unknown path, body too large, bad
    // request line) get the same JSON shape; replies our handlers already
    // wrote are left alone.
    svr.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                      httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      HttpError e{res.status, kInvalidRequest, "bad_request", "", "bad request"};
      if (res.status == 404) e = {404, kNotFound, "not_found", "path", "no such endpoint"};
      if (res.status == 413)
        e = {413, kPayloadTooLarge, "payload_too_large", "body",
             "request body above " + std::to_string(opts.max_body_bytes) + " bytes"};
      errors[e.kind].fetch_add(1, std::memory_order_relaxed);
      reply(res, e.status, encode_error(e.code, e.field, e.message));
      count(endpoint_of(req.path), e.status);
      return httplib::Server::HandlerResponse::Handled;
    }));
    svr.set_exception_handler([this](const httplib::Request& req, httplib::Response& res,
                                     std::exception_ptr) {
      errors[kInternal].fetch_add(1, std::memory_order_relaxed);
      reply(res, 500, encode_error("internal", "", "internal error"));
      count(endpoint_of(req.path), 500);
    });
  }

  std::string metrics_text() const {
    std::ostringstream o;
    o << "# HELP tandem_requests_total HTTP requests by endpoint and status.\n"
      << "# TYPE tandem_requests_total counter\n";
    for (size_t e = 0; e < kEndpoints; ++e) {
      for (size_t s = 0; s < kStatusSlots; ++s) {
        const uint64_t v = requests[e][s].load(std::memory_order_relaxed);
        if (v == 0) continue;
        o << "tandem_requests_total{endpoint=\"" << kEndpointNames[e] << "\",status=\""
          << (s < kStatuses.size() ? std::to_string(kStatuses[s]) : std::string("other")) << "\"} "
          << v << '\n';
      }
    }
    o << "# HELP tandem_request_errors_total Failed requests by kind.\n"
      << "# TYPE tandem_request_errors_total counter\n";
    for (size_t k = 0; k < kErrorKinds; ++k)
      o << "tandem_request_errors_total{kind=\"" << kErrorKindNames[k] << "\"} "
        << errors[k].load(std::memory_order_relaxed) << '\n';
    o << "# HELP tandem_request_duration_seconds Time spent in the endpoint handler.\n"
      << "# TYPE tandem_request_duration_seconds histogram\n";
    for (size_t e = 0; e < kOther; ++e) {
      uint64_t cum = 0;
      for (size_t b = 0; b <= kBuckets.size(); ++b) {
        cum += hist[e][b].load(std::memory_order_relaxed);
        o << "tandem_request_duration_seconds_bucket{endpoint=\"" << kEndpointNames[e]
          << "\",le=\"";
        if (b < kBuckets.size()) o << kBuckets[b]; else o << "+Inf";
        o << "\"} " << cum << '\n';
      }
      o << "tandem_request_duration_seconds_sum{endpoint=\"" << kEndpointNames[e] << "\"} "
        << static_cast<double>(hist_sum_ns[e].load(std::memory_order_relaxed)) * 1e-9 << '\n'
        << "tandem_request_duration_seconds_count{endpoint=\"" << kEndpointNames[e] << "\"} "
        << cum << '\n';
    }
    return o.str();
  }
};

HttpServer::HttpServer(const Recommender& recommender, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(recommender, std::move(options))) {
  TANDEM_CHECK(impl_->opts.threads > 0, "--threads must be positive, got " << impl_->opts.threads);
  TANDEM_CHECK(impl_->opts.port >= 0 && impl_->opts.port <= 65535,
               "--port must be in [0, 65535], got " << impl_->opts.port);
  const size_t threads = static_cast<size_t>(impl_->opts.threads);
  impl_->svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl_->svr.set_payload_max_length(impl_->opts.max_body_bytes);
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle
  // and delayed ACKs add ~40 ms to every keep-alive response.
  impl_->svr.set_tcp_nodelay(true);
  // httplib closes a keep-alive connection after 5 requests by default; the
  // reconnects that forces on every client show up as tail latency.
  impl_->svr.set_keep_alive_max_count(impl_->opts.keep_alive_max_requests);
  impl_->routes();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::start() {
  Impl& s = *impl_;
  if (s.opts.port == 0) {
    s.bound_port = s.svr.bind_to_any_port(s.opts.host);
  } else {
    s.bound_port = s.svr.bind_to_port(s.opts.host, s.opts.port) ? s.opts.port : -1;
  }
  TANDEM_CHECK(s.bound_port > 0, "cannot listen on " << s.opts.host << ":" << s.opts.port);
  return s.bound_port;
}

void HttpServer::listen() {
  Impl& s = *impl_;
  TANDEM_CHECK(s.bound_port > 0, "HttpServer::listen() before start()");
  s.in_listen = true;
  if (!s.stop_requested) s.svr.listen_after_bind();
  s.in_listen = false;
}

void HttpServer::stop() {
  Impl& s = *impl_;
  s.stop_requested = true;
  // httplib's stop() does nothing until its accept loop runs; if listen() is
  // just entering it, wait for that so the stop is not lost.
  while (s.in_listen && !s.svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  s.svr.stop();
}

int HttpServer::port() const { return impl_->bound_port; }

std::string HttpServer::metrics_text() const { return impl_->metrics_text(); }

}  // namespace tandem
