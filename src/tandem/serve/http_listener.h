// The connection layer of tandem serve: an asynchronous HTTP/1.1 server on
// Boost.Asio/Beast (Debian's libboost-dev). A connection holds no thread while
// it waits for bytes, so slow or idle clients cannot starve the others, and
// every phase of a connection has a deadline and every buffer a cap:
//
//   accept ── over max_connections? ── 503, closed at once
//     │
//   idle: wait for the first byte of a request ........ idle_timeout
//   headers: request line and header fields ............ header_timeout, max_header_bytes (431)
//   body: Content-Length checked before reading (413) ... body_timeout, max_body_bytes
//   handler: the endpoint runs on an I/O thread
//   write the reply ..................................... write_timeout
//   └─ keep-alive: back to idle; pipelined requests already buffered are
//      answered next, in order
//
// A refused request (400, 413, 431) is answered with `Connection: close`;
// the server then stops sending and reads and discards what the client still
// sends for a short while (a lingering close), so the client reads its reply
// instead of a reset. Shutdown (stop()) closes the listening socket and every
// connection that has no request in hand, lets the requests in hand finish
// until shutdown_timeout, then closes the rest.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tandem/serve/http_message.h"

namespace tandem {

struct HttpLimits {
  size_t max_header_bytes = 16 * 1024;   // request line + header fields; above: 431
  size_t max_body_bytes = 64 * 1024;     // from Content-Length, before reading; above: 413
  double header_timeout_seconds = 10;    // from a request's first byte to its last header byte
  double body_timeout_seconds = 10;      // for the whole body
  double idle_timeout_seconds = 5;       // keep-alive: from a reply (or accept) to the next request's first byte
  double write_timeout_seconds = 10;     // for the whole reply
  double shutdown_timeout_seconds = 5;   // stop(): how long requests in hand may take to finish
  int64_t max_connections = 1024;        // open at once; beyond: 503 and closed
  int64_t max_requests_per_connection = 100000;  // then the reply says Connection: close

  // tandem::Error naming the limit (as its flag) when a value is out of range.
  void validate() const;
};

// Why the connection layer answered a request itself.
enum class HttpRefusal { kBadRequest, kHeadersTooLarge, kBodyTooLarge, kOverloaded };

// Connection-level counters, for /metrics.
struct HttpConnectionStats {
  uint64_t accepted = 0;
  uint64_t refused_over_limit = 0;  // answered 503 at accept (max_connections)
  uint64_t open = 0;
  uint64_t idle_timeouts = 0, header_timeouts = 0, body_timeouts = 0, write_timeouts = 0;
  uint64_t requests = 0;            // complete requests handed to the handler
};

class HttpListener {
 public:
  // Answers one complete request. Must not throw (exceptions become 500).
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Builds the reply to a request the connection layer refuses; `path` is the
  // request's path when its header was read, else empty.
  using RefusalReply = std::function<HttpResponse(HttpRefusal, const std::string& path)>;

  HttpListener(HttpLimits limits, int threads, Handler handler, RefusalReply refusal);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Opens, binds and listens; returns the port (an ephemeral one for 0).
  // tandem::Error if it cannot, or if max_connections needs more file
  // descriptors than the process may open (after raising its soft limit).
  int bind(const std::string& host, int port);
  // Serves on `threads` threads (the caller's among them) until stop() has
  // drained the connections.
  void run();
  // Graceful shutdown, see the file comment. Any thread, any time; repeated
  // calls are one.
  void stop();

  const HttpLimits& limits() const;
  HttpConnectionStats stats() const;

  struct Impl;  // defined in http_listener.cc, where its connections use it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
