#include "tandem/serve/http_server.h"

#include <array>
#include <atomic>
#include <chrono>
#include <limits>
#include <sstream>
#include <functional>
#include <vector>

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
constexpr std::array<int, 9> kStatuses = {200, 400, 404, 405, 413, 422, 431, 500, 503};
constexpr size_t kStatusSlots = kStatuses.size() + 1;  // + "other"

enum ErrorKind { kInvalidJson, kInvalidRequest, kUnknownId, kPayloadTooLarge, kNotFound, kInternal,
                 kMethodNotAllowed, kHeadersTooLarge, kOverloaded, kErrorKinds };
constexpr std::array<const char*, kErrorKinds> kErrorKindNames = {
    "invalid_json", "invalid_request", "unknown_id", "payload_too_large", "not_found", "internal",
    "method_not_allowed", "headers_too_large", "overloaded"};

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

void reply(HttpResponse& res, int status, const json& body) {
  res.status = status;
  // Replace invalid UTF-8 (titles, echoed input) rather than throw mid-reply.
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res.content_type = "application/json";
}

int64_t int_param(const HttpRequest& req, const char* name, std::optional<int64_t> fallback) {
  if (!req.has_param(name)) {
    if (fallback) return *fallback;
    throw RequestError("missing_field", name, std::string("field '") + name + "' is required");
  }
  return decode_int_param(name, req.param(name));
}

std::string byte_size(size_t n) {
  if (n % (1024 * 1024) == 0) return std::to_string(n / (1024 * 1024)) + " MiB";
  if (n % 1024 == 0) return std::to_string(n / 1024) + " KiB";
  return std::to_string(n) + " bytes";
}

}  // namespace

struct HttpServer::Impl {
  using Clock = std::chrono::steady_clock;
  using Route = std::function<void(const HttpRequest&, HttpResponse&, Clock::time_point)>;
  struct RouteEntry {
    const char* method;
    const char* path;
    Endpoint endpoint;
    Route run;
  };

  const Recommender& rec;
  HttpServerOptions opts;
  std::vector<RouteEntry> table;
  std::unique_ptr<HttpListener> listener;
  int bound_port = -1;

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

  // Every reply is counted before it is sent (in dispatch, or in the refusal
  // reply for requests the connection layer refuses), so a client that has
  // its answer always finds it in /metrics.
  void count(Endpoint e, int status) {
    requests[e][status_slot(status)].fetch_add(1, std::memory_order_relaxed);
  }

  // Routes one request: times the endpoint and turns every exception into a
  // JSON reply. A known path asked with another method is a 405 with Allow.
  HttpResponse dispatch(const HttpRequest& req) {
    HttpResponse res;
    const RouteEntry* route = nullptr;
    std::string allow;
    for (const RouteEntry& r : table) {
      if (req.path != r.path) continue;
      if (req.method == r.method) route = &r;
      allow += (allow.empty() ? "" : ", ") + std::string(r.method);
    }
    if (!route) {
      HttpError e = allow.empty()
                        ? HttpError{404, kNotFound, "not_found", "path", "no such endpoint"}
                        : HttpError{405, kMethodNotAllowed, "method_not_allowed", "method",
                                    req.path + " takes " + allow + ", not " + req.method};
      errors[e.kind].fetch_add(1, std::memory_order_relaxed);
      reply(res, e.status, encode_error(e.code, e.field, e.message));
      if (!allow.empty()) res.headers.emplace_back("Allow", allow);
      count(endpoint_of(req.path), e.status);
      return res;
    }
    const Endpoint e = route->endpoint;
    {
      const auto t0 = Clock::now();
      HttpError err{0, kInternal, "", "", ""};
      try {
        route->run(req, res, t0);
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
      observe(e, Clock::now() - t0);
      count(e, res.status);
    }
    return res;
  }

  // The reply to a request the connection layer refused, in the same JSON
  // shape as every other error.
  HttpResponse refusal_reply(HttpRefusal why, const std::string& path) {
    const HttpLimits& l = opts.limits;
    HttpError e{};
    switch (why) {
      case HttpRefusal::kHeadersTooLarge:
        e = {431, kHeadersTooLarge, "headers_too_large", "headers",
             "request line and headers above " + byte_size(l.max_header_bytes)};
        break;
      case HttpRefusal::kBodyTooLarge:
        e = {413, kPayloadTooLarge, "payload_too_large", "body",
             "request body above " + byte_size(l.max_body_bytes)};
        break;
      case HttpRefusal::kOverloaded:
        e = {503, kOverloaded, "overloaded", "",
             "the server has " + std::to_string(l.max_connections) +
                 " connections open (--max-connections); retry later"};
        break;
      case HttpRefusal::kBadRequest:
      default:
        e = {400, kInvalidRequest, "bad_request", "", "malformed HTTP request"};
        break;
    }
    // The 503 is built once at start and sent without a request: it is
    // counted from HttpConnectionStats::refused_over_limit in /metrics.
    if (why != HttpRefusal::kOverloaded) {
      errors[e.kind].fetch_add(1, std::memory_order_relaxed);
      count(endpoint_of(path), e.status);
    }
    HttpResponse res;
    reply(res, e.status, encode_error(e.code, e.field, e.message));
    if (why == HttpRefusal::kOverloaded) res.headers.emplace_back("Retry-After", "1");
    return res;
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
    table.push_back({"POST", "/v1/recommend", kRecommend, [this](const HttpRequest& req,
                                                         HttpResponse& res, Clock::time_point t0) {
      const RecommendRequest q = decode_recommend_request(req.body);
      const RecommendResult r = rec.recommend(q.user_id, q.k, q.candidates, q.exclude_seen,
                                              q.features ? &*q.features : nullptr);
      json body = encode_recommend_result(q.user_id, r, rec.model().names.items.get());
      body["timing_ms"]["total"] =
          std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      reply(res, 200, body);
    }});

    table.push_back({"POST", "/v1/score", kScore, [this](const HttpRequest& req, HttpResponse& res,
                                                 Clock::time_point) {
      const ScoreRequest q = decode_score_request(req.body, rec.limits().max_score_items);
      const std::vector<int64_t> ids =
          q.item_names.empty() ? q.item_ids : resolve_item_names(q.item_names, rec, "item_ids");
      reply(res, 200, encode_scores(q.user_id, ids, rec.score(q.user_id, ids), rec.ranking_output(),
                                    rec.model().names.items.get(), rec.task_scores(q.user_id, ids)));
    }});

    table.push_back({"GET", "/v1/similar", kSimilar, [this](const HttpRequest& req,
                                                    HttpResponse& res, Clock::time_point) {
      // A model trained on string item ids is asked by name.
      const auto* names = rec.model().names.items.get();
      const int64_t item =
          names && req.has_param("item_id")
              ? resolve_item_names({req.param("item_id")}, rec, "item_id").front()
                : int_param(req, "item_id", {});
      const int64_t k = int_param(req, "k", 10);
      reply(res, 200, encode_similar_items(item, rec.similar(item, k), names));
    }});

    table.push_back({"GET", "/healthz", kHealthz, [](const HttpRequest&, HttpResponse& res,
                                             Clock::time_point) {
      reply(res, 200, {{"status", "ok"}});
    }});

    table.push_back({"GET", "/v1/model", kModel, [this](const HttpRequest&, HttpResponse& res,
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
               {"max_score_items", l.max_score_items},
               {"http", http_json()}}}});
    }});

    table.push_back({"GET", "/metrics", kMetrics, [this](const HttpRequest&, HttpResponse& res,
                                                 Clock::time_point) {
      res.status = 200;
      res.body = metrics_text();
      res.content_type = "text/plain; version=0.0.4";
    }});
  }

  // The connection layer's settings, as GET /v1/model reports them.
  json http_json() const {
    const HttpLimits& h = opts.limits;
    return {{"threads", opts.threads},
            {"max_connections", h.max_connections},
            {"max_header_bytes", h.max_header_bytes},
            {"max_body_bytes", h.max_body_bytes},
            {"header_timeout_seconds", h.header_timeout_seconds},
            {"body_timeout_seconds", h.body_timeout_seconds},
            {"idle_timeout_seconds", h.idle_timeout_seconds},
            {"write_timeout_seconds", h.write_timeout_seconds},
            {"shutdown_timeout_seconds", h.shutdown_timeout_seconds},
            {"max_requests_per_connection", h.max_requests_per_connection}};

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
    const HttpConnectionStats c = listener->stats();
    for (size_t k = 0; k < kErrorKinds; ++k)
      o << "tandem_request_errors_total{kind=\"" << kErrorKindNames[k] << "\"} "
        << errors[k].load(std::memory_order_relaxed) + (k == kOverloaded ? c.refused_over_limit : 0)
        << '\n';
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
    o << "# HELP tandem_open_connections Client connections open now.\n"
      << "# TYPE tandem_open_connections gauge\n"
      << "tandem_open_connections " << c.open << '\n'
      << "# HELP tandem_connections_total Client connections accepted, and refused at accept "
         "(--max-connections).\n"
      << "# TYPE tandem_connections_total counter\n"
      << "tandem_connections_total{outcome=\"accepted\"} " << c.accepted - c.refused_over_limit << '\n'
      << "tandem_connections_total{outcome=\"refused_over_limit\"} " << c.refused_over_limit << '\n'
      << "# HELP tandem_connection_timeouts_total Connections closed by a deadline, by phase.\n"
      << "# TYPE tandem_connection_timeouts_total counter\n"
      << "tandem_connection_timeouts_total{phase=\"idle\"} " << c.idle_timeouts << '\n'
      << "tandem_connection_timeouts_total{phase=\"header\"} " << c.header_timeouts << '\n'
      << "tandem_connection_timeouts_total{phase=\"body\"} " << c.body_timeouts << '\n'
      << "tandem_connection_timeouts_total{phase=\"write\"} " << c.write_timeouts << '\n';
    return o.str();
  }
};

HttpServer::HttpServer(const Recommender& recommender, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(recommender, std::move(options))) {
  Impl& s = *impl_;
  TANDEM_CHECK(s.opts.port >= 0 && s.opts.port <= 65535, "--port must be in [0, 65535], got " << s.opts.port);
  s.routes();
  s.listener = std::make_unique<HttpListener>(
      s.opts.limits, s.opts.threads, [&s](const HttpRequest& req) { return s.dispatch(req); },
      [&s](HttpRefusal why, const std::string& path) { return s.refusal_reply(why, path); });
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::start() {
  Impl& s = *impl_;
  s.bound_port = s.listener->bind(s.opts.host, s.opts.port);
  return s.bound_port;
}

void HttpServer::listen() { impl_->listener->run(); }

void HttpServer::stop() { impl_->listener->stop(); }

int HttpServer::port() const { return impl_->bound_port; }

const HttpServerOptions& HttpServer::options() const { return impl_->opts; }

std::string HttpServer::metrics_text() const { return impl_->metrics_text(); }

}  // namespace tandem
