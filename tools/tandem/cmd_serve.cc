// tandem serve: the HTTP service over one saved model.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

void on_stop_signal(int) {
  const int saved = errno;
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
    RecommenderOptions rec;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--model,-m", o->model, "Model file")->required();
  app.add_option("--host", o->host, "Address to listen on")->capture_default_str();
  app.add_option("--port", o->port, "Port (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--threads", o->threads,
                 "Worker threads; a keep-alive connection holds one, so give at least the "
                 "number of concurrent clients")->capture_default_str()->check(CLI::Range(1, 1024));
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
      if (n == 1 && c == kSignalled) server.stop();
    });
    const std::string made = rec.index_loaded() ? "loaded from " + o->rec.index_file : "built";
    std::fprintf(stderr,
                 "tandem serve: listening on http://%s:%d (model %s, %lld catalogue items, "
                 "%s index %s in %.3f s, %d threads)\n",
                 o->host.c_str(), port, o->model.c_str(),
                 static_cast<long long>(rec.catalogue_size()), rec.index().name().c_str(),
                 made.c_str(), rec.index_seconds(), o->threads);
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
