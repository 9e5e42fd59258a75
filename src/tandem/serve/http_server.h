// The HTTP face of a Recommender: JSON endpoints for recommend / score /
// similar, model info, health and Prometheus metrics, over the asynchronous
// connection layer of http_listener.h (deadlines and caps per connection).
// Every request is handled in its own try/catch: nothing a client sends can
// take the server down; bad input gets a 4xx naming the field.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "tandem/serve/http_listener.h"
#include "tandem/serve/recommender.h"

namespace tandem {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;     // 0: an ephemeral port, see HttpServer::port()
  // I/O threads; requests are computed on them. A connection holds a thread
  // only while its request is being computed, not while it waits for bytes.
  int threads = 16;
  HttpLimits limits;  // deadlines and caps per connection
};

class HttpServer {
 public:
  // `recommender` must outlive the server. Request limits (k, candidates,
  // score items) are the recommender's.
  HttpServer(const Recommender& recommender, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the socket and returns the bound port; tandem::Error if it cannot.
  int start();
  // Serves until stop(); call after start(), typically on its own thread.
  void listen();
  // Graceful shutdown: stops accepting, closes connections with no request
  // in hand, lets requests in hand finish within limits.shutdown_timeout_seconds,
  // then closes the rest; listen() returns. Safe from any thread, before or
  // during listen().
  void stop();
  int port() const;
  const HttpServerOptions& options() const;

  // The /metrics body (Prometheus text exposition format).
  std::string metrics_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
