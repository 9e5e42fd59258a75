// The HTTP face of a Recommender (cpp-httplib): JSON endpoints for
// recommend / score / similar, model info, health and Prometheus metrics.
// Every request is handled in its own try/catch: nothing a client sends can
// take the server down; bad input gets a 4xx naming the field.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "tandem/serve/recommender.h"

namespace tandem {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;     // 0: an ephemeral port, see HttpServer::port()
  // Worker threads. httplib keeps a keep-alive connection on one thread
  // until it closes, so more concurrent clients than threads wait for one.
  int threads = 16;
  size_t keep_alive_max_requests = 100000;  // per connection, then it is closed
  size_t max_body_bytes = 64 * 1024;
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
  // Stops accepting; requests in flight finish before listen() returns. Safe
  // from any thread, before or during listen().
  void stop();
  int port() const;

  // The /metrics body (Prometheus text exposition format).
  std::string metrics_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
