// tandem serve: the HTTP service over one saved model.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <thread>

#include "commands.h"
#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "serve_options.h"
#include "tandem/serve/http_server.h"

namespace tandem::cli {

namespace {

int g_stop_pipe[2] = {-1, -1};
constexpr char kSignalled = 1, kListenReturned = 0;
std::atomic<int> g_signals{0};
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");

// The first SIGINT/SIGTERM starts a graceful shutdown; a second one means
// "now": the process exits at once with 128 + the signal's number, as a shell
// reports a process killed by it.
void on_stop_signal(int sig) {
  const int saved = errno;
  if (g_signals.fetch_add(1) > 0) {
    static const char kMsg[] = "tandem serve: second signal, exiting now\n";
    (void)!write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    _exit(128 + sig);
  }
  const char c = kSignalled;
  (void)!write(g_stop_pipe[1], &c, 1);
  errno = saved;
}

}  // namespace

Action add_serve(CLI::App& app) {
  struct Options {
    std::string model;
    std::string host = "127.0.0.1";
    int port = 8080;
    int threads = 16;
    HttpLimits http;
    RecommenderOptions rec;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--model,-m", o->model, "Model file")->required();
  app.add_option("--host", o->host, "Address to listen on")->capture_default_str();
  app.add_option("--port", o->port, "Port (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--threads", o->threads,
                 "I/O threads; requests are computed on them (a waiting connection holds none)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  HttpLimits& h = o->http;
  app.add_option("--max-connections", h.max_connections,
                 "Client connections open at once; beyond it a new one gets 503 and is closed")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
  app.add_option("--max-header-bytes", h.max_header_bytes,
                 "Request line and headers; above it: 431")
      ->capture_default_str()
      ->check(CLI::Range(size_t{256}, size_t{1} << 30));
  app.add_option("--max-body-bytes", h.max_body_bytes,
                 "Request body, decided from Content-Length before reading; above it: 413")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  // The four connection deadlines: a millisecond to a day each.
  const auto add_deadline = [&app](const char* flag, double& seconds, const char* help) {
    app.add_option(flag, seconds, help)->capture_default_str()->check(CLI::Range(0.001, 86400.0));
  };
  add_deadline("--header-timeout", h.header_timeout_seconds,
               "Seconds from a request's first byte to the end of its headers; then closed");
  add_deadline("--body-timeout", h.body_timeout_seconds, "Seconds to receive a request body");
  add_deadline("--idle-timeout", h.idle_timeout_seconds, "Seconds an idle keep-alive connection is kept");
  add_deadline("--write-timeout", h.write_timeout_seconds, "Seconds to send one reply");
  app.add_option("--shutdown-timeout", h.shutdown_timeout_seconds,
                 "On SIGTERM/SIGINT: seconds requests in hand may take to finish before the "
                 "remaining connections are closed (a second signal exits at once)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--max-requests-per-connection", h.max_requests_per_connection,
                 "Then the reply says Connection: close")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  app.add_option("--max-k", o->rec.limits.max_k, "Largest k a request may ask for")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--max-candidates", o->rec.limits.max_candidates,
                 "Largest candidates a request may ask for")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  add_recommender_options(app, o->rec);
  return [o] {
    // Requests are small and run concurrently on the server's threads: a
    // multi-threaded BLAS would only add hand-offs and spinning threads.
    blas::set_threads(1);
    const Recommender rec(load_model(o->model), o->rec);
    HttpServerOptions http;
    http.host = o->host;
    http.port = o->port;
    http.threads = o->threads;
    http.limits = o->http;
    HttpServer server(rec, http);
    const int port = server.start();

    // Self-pipe: the handler only write()s a byte (async-signal-safe); a
    // watcher thread reads it and stops the server. A blocked mask with
    // sigwait would not do: OpenBLAS starts its threads before this runs, and
    // a signal delivered to one of those would kill the process.
    TANDEM_CHECK(pipe(g_stop_pipe) == 0, "cannot create the signal pipe");
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    struct sigaction old_int {}, old_term {};
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    std::thread watcher([&server] {
      char c = 0;
      ssize_t n;
      do {
        n = read(g_stop_pipe[0], &c, 1);
      } while (n < 0 && errno == EINTR);
      if (n == 1 && c == kSignalled) {
        std::fprintf(stderr, "tandem serve: stopping (requests in hand finish within %g s; a "
                             "second signal exits at once)\n",
                     server.options().limits.shutdown_timeout_seconds);
        server.stop();
      }
    });
    const std::string made = rec.index_loaded() ? "loaded from " + o->rec.index_file : "built";
    std::fprintf(stderr,
                 "tandem serve: listening on http://%s:%d (model %s, %lld catalogue items, "
                 "%s index %s in %.3f s, %d threads, at most %lld connections)\n",
                 o->host.c_str(), port, o->model.c_str(),
                 static_cast<long long>(rec.catalogue_size()), rec.index().name().c_str(),
                 made.c_str(), rec.index_seconds(), o->threads,
                 static_cast<long long>(o->http.max_connections));
    server.listen();
    // Stopped by a signal (the watcher is done) or because the accept loop
    // failed: wake the watcher either way so it can be joined.
    const char done = kListenReturned;
    (void)!write(g_stop_pipe[1], &done, 1);
    watcher.join();
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    close(g_stop_pipe[0]);
    close(g_stop_pipe[1]);
    std::fprintf(stderr, "tandem serve: stopped\n");
    return 0;
  };
}

}  // namespace tandem::cli
