#include "tandem/serve/http_server.h"

#include <httplib.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <limits>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tandem/io/model_file.h"

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
  const bool unknown = e.code() == "unknown_item" || e.code() == "unknown_user";
  return {unknown ? 404 : 400, unknown ? kUnknownId : kInvalidRequest, e.code(), e.field(),
          e.what()};
}

json error_body(const std::string& code, const std::string& field, const std::string& message) {
  return {{"error", {{"code", code}, {"field", field}, {"message", message}}}};
}

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // Replace invalid UTF-8 (titles, echoed input) rather than throw mid-reply.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

HttpError missing(const std::string& field) {
  return {400, kInvalidRequest, "missing_field", field, "field '" + field + "' is required"};
}
HttpError wrong_type(const std::string& field, const std::string& want) {
  return {400, kInvalidRequest, "invalid_type", field, "field '" + field + "' must be " + want};
}

json parse_object(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw HttpError{400, kInvalidJson, "invalid_json", "body", "request body is not valid JSON"};
  if (!j.is_object())
    throw HttpError{400, kInvalidJson, "invalid_json", "body", "request body must be a JSON object"};
  return j;
}

// An integer field; floats, strings, booleans and values beyond int64 are
// refused (no silent truncation).
int64_t int_field(const json& j, const char* field, std::optional<int64_t> fallback) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (fallback) return *fallback;
    throw missing(field);
  }
  if (it->is_number_unsigned()) {
    const auto v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw HttpError{400, kInvalidRequest, "out_of_range", field,
                      std::string("field '") + field + "' is too large"};
    return static_cast<int64_t>(v);
  }
  if (it->is_number_integer()) return it->get<int64_t>();
  throw wrong_type(field, "an integer");
}

// user_id: a string holding an integer, or a JSON integer.
std::string user_field(const json& j) {
  const auto it = j.find("user_id");
  if (it == j.end() || it->is_null()) throw missing("user_id");
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer() || it->is_number_unsigned()) return std::to_string(int_field(j, "user_id", {}));
  throw wrong_type("user_id", "a string or an integer");
}

int64_t int_param(const httplib::Request& req, const char* name, std::optional<int64_t> fallback) {
  if (!req.has_param(name)) {
    if (fallback) return *fallback;
    throw missing(name);
  }
  const std::string s = req.get_param_value(name);
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) throw wrong_type(name, "an integer");
  return v;
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
        reply(res, err.status, error_body(err.code, err.field, err.message));
      }
      observe(e, std::chrono::steady_clock::now() - t0);
    };
  }

  void routes() {
    using Clock = std::chrono::steady_clock;
    svr.Post("/v1/recommend", handler(kRecommend, [this](const httplib::Request& req,
                                                         httplib::Response& res, Clock::time_point t0) {
      const json j = parse_object(req.body);
      const std::string user = user_field(j);
      const int64_t k = int_field(j, "k", 10);
      const int64_t candidates = int_field(j, "candidates", k);
      bool exclude_seen = false;
      if (const auto it = j.find("exclude_seen"); it != j.end() && !it->is_null()) {
        if (!it->is_boolean()) throw wrong_type("exclude_seen", "a boolean");
        exclude_seen = it->get<bool>();
      }
      const RecommendResult r = rec.recommend(user, k, candidates, exclude_seen);
      json items = json::array();
      for (const auto& it : r.items) {
        items.push_back({{"item_id", it.item_id},
                         {"title", it.title},
                         {"score", it.score},
                         {"predicted_rating",
                          it.predicted_rating ? json(*it.predicted_rating) : json(nullptr)}});
      }
      const double total = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      reply(res, 200,
            {{"user_id", user},
             {"items", std::move(items)},
             {"cold_start", r.cold_start},
             {"index", r.index},
             {"timing_ms", {{"retrieve", r.retrieve_ms}, {"rank", r.rank_ms}, {"total", total}}}});
    }));

    svr.Post("/v1/score", handler(kScore, [this](const httplib::Request& req, httplib::Response& res,
                                                 Clock::time_point) {
      const json j = parse_object(req.body);
      const std::string user = user_field(j);
      const auto it = j.find("item_ids");
      if (it == j.end() || it->is_null()) throw missing("item_ids");
      if (!it->is_array()) throw wrong_type("item_ids", "an array of integers");
      if (static_cast<int64_t>(it->size()) > rec.limits().max_score_items)
        throw HttpError{400, kInvalidRequest, "too_many_items", "item_ids",
                        "item_ids holds " + std::to_string(it->size()) + " ids, at most " +
                            std::to_string(rec.limits().max_score_items) + " allowed"};
      std::vector<int64_t> ids;
      ids.reserve(it->size());
      for (const auto& v : *it) {
        if (!v.is_number_integer() || (v.is_number_unsigned() &&
                                       v.get<uint64_t>() > static_cast<uint64_t>(
                                                               std::numeric_limits<int64_t>::max())))
          throw wrong_type("item_ids", "an array of integers");
        ids.push_back(v.get<int64_t>());
      }
      const std::vector<float> pred = rec.score(user, ids);
      json out = json::array();
      for (size_t i = 0; i < ids.size(); ++i)
        out.push_back({{"item_id", ids[i]}, {"predicted_rating", pred[i]}});
      reply(res, 200, {{"user_id", user}, {"predictions", std::move(out)}});
    }));

    svr.Get("/v1/similar", handler(kSimilar, [this](const httplib::Request& req,
                                                    httplib::Response& res, Clock::time_point) {
      const int64_t item = int_param(req, "item_id", {});
      const int64_t k = int_param(req, "k", 10);
      json items = json::array();
      for (const auto& s : rec.similar(item, k))
        items.push_back({{"item_id", s.item_id}, {"title", s.title}, {"score", s.score}});
      reply(res, 200, {{"item_id", item}, {"items", std::move(items)}});
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
               {"dim", m.model->shape().dim}}},
             {"metrics", m.metrics},
             {"format_version", kModelFormatVersion},
             {"index", "exact"},
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
    svr.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request&,
                                                                      httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      HttpError e{res.status, kInvalidRequest, "bad_request", "", "bad request"};
      if (res.status == 404) e = {404, kNotFound, "not_found", "path", "no such endpoint"};
      if (res.status == 413)
        e = {413, kPayloadTooLarge, "payload_too_large", "body",
             "request body above " + std::to_string(opts.max_body_bytes) + " bytes"};
      errors[e.kind].fetch_add(1, std::memory_order_relaxed);
      reply(res, e.status, error_body(e.code, e.field, e.message));
      return httplib::Server::HandlerResponse::Handled;
    }));
    svr.set_exception_handler([this](const httplib::Request&, httplib::Response& res,
                                     std::exception_ptr) {
      errors[kInternal].fetch_add(1, std::memory_order_relaxed);
      reply(res, 500, error_body("internal", "", "internal error"));
    });
    // Every reply, ours or httplib's, is counted here once.
    svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      requests[endpoint_of(req.path)][status_slot(res.status)].fetch_add(1, std::memory_order_relaxed);
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
