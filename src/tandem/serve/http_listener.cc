#include "tandem/serve/http_listener.h"

#include <sys/resource.h>

#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "tandem/core/error.h"

namespace tandem {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// A refused request's client is read and discarded for at most this long
// after its reply, so it sees the reply rather than a reset (see the header).
constexpr auto kLingerTime = std::chrono::seconds(3);
// File descriptors kept for everything but client connections (listening
// socket, model and log files, the signal pipe, BLAS and MPI internals).
constexpr uint64_t kReservedDescriptors = 64;

std::chrono::steady_clock::duration seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(s));
}

// A parse error of Beast's HTTP parser, as opposed to the client closing
// (end_of_stream, partial_message) or a socket error.
bool is_malformed(const error_code& ec) {
  static const auto& http_category = make_error_code(http::error::end_of_stream).category();
  return ec && ec.category() == http_category && ec != http::error::end_of_stream &&
         ec != http::error::partial_message;
}

const char* status_reason(int status) {
  return http::obsolete_reason(static_cast<http::status>(status)).data();
}

// The serialized reply of a refusal made at accept, before any session.
std::string serialize_close_reply(const HttpResponse& r) {
  std::string s = "HTTP/1.1 " + std::to_string(r.status) + " " + status_reason(r.status) + "\r\n";
  s += "Content-Type: " + r.content_type + "\r\n";
  s += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n";
  for (const auto& [k, v] : r.headers) s += k + ": " + v + "\r\n";
  return s + "\r\n" + r.body;
}

}  // namespace

void HttpLimits::validate() const {
  auto positive = [](double v, const char* flag) {
    TANDEM_CHECK(v > 0 && v <= 86400, flag << " must be in (0, 86400] seconds, got " << v);
  };
  positive(header_timeout_seconds, "--header-timeout");
  positive(body_timeout_seconds, "--body-timeout");
  positive(idle_timeout_seconds, "--idle-timeout");
  positive(write_timeout_seconds, "--write-timeout");
  TANDEM_CHECK(shutdown_timeout_seconds >= 0 && shutdown_timeout_seconds <= 86400,
               "--shutdown-timeout must be in [0, 86400] seconds, got " << shutdown_timeout_seconds);
  TANDEM_CHECK(max_header_bytes >= 256 && max_header_bytes <= (size_t{1} << 30),
               "--max-header-bytes must be in [256, 1G], got " << max_header_bytes);
  TANDEM_CHECK(max_body_bytes >= 1 && max_body_bytes <= (size_t{1} << 30),
               "--max-body-bytes must be in [1, 1G], got " << max_body_bytes);
  TANDEM_CHECK(max_connections >= 1 && max_connections <= 10'000'000,
               "--max-connections must be in [1, 10000000], got " << max_connections);
  TANDEM_CHECK(max_requests_per_connection >= 1,
               "--max-requests-per-connection must be positive, got " << max_requests_per_connection);
}

namespace {

// One client connection. Every completion handler runs on the connection's
// strand, so its state needs no lock; the listener reaches it only by posting
// to that strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpListener::Impl& listener, tcp::socket&& socket);
  ~Session();
  void start();
  // Posted by the listener at shutdown: drop the connection unless a request
  // is in hand. `force`: drop it whatever it is doing.
  void on_shutdown(bool force);

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kLingering, kClosed };

  void wait_for_request();
  void read_header();
  void on_header(error_code ec);
  void read_body();
  void on_body(error_code ec);
  void handle();
  void refuse(HttpRefusal why);
  void write(HttpResponse reply, bool keep_alive);
  void linger();
  void close();
  void count_timeout(State s);
  std::string header_path() const;

  HttpListener::Impl& L_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> reply_;
  http::response<http::empty_body> continue_;
  std::unique_ptr<std::array<char, 16384>> discard_;
  State state_ = State::kIdle;
  int64_t served_ = 0;
};

}  // namespace

struct HttpListener::Impl {
  HttpLimits limits;
  Handler handler;
  RefusalReply refusal;
  std::string overloaded_reply;  // serialized once: it is sent at accept, before any session

  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> accepted{0}, refused{0}, open{0}, requests{0};
  std::atomic<uint64_t> idle_timeouts{0}, header_timeouts{0}, body_timeouts{0}, write_timeouts{0};

  std::mutex sessions_mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

  // One io_context per thread, each connection on one of them (round robin):
  // a shared context's reactor and queue were contended by 16 threads on 2
  // cores, doubling the tail latency under load. Declared after what sessions
  // touch in their destructors: destroying a context destroys the sessions
  // its pending handlers still hold.
  using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<WorkGuard> keep_running;  // until shutdown has drained
  size_t next_context = 0;              // used on the acceptor's strand only
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry{acceptor.get_executor()};
  asio::steady_timer drain{acceptor.get_executor()};
  std::chrono::steady_clock::time_point drain_deadline;
  bool bound = false;

  Impl(HttpLimits l, int t, Handler h, RefusalReply r)
      : limits(l), handler(std::move(h)), refusal(std::move(r)),
        contexts(make_contexts(t)), acceptor(asio::make_strand(*contexts[0])) {
    for (auto& c : contexts) keep_running.push_back(asio::make_work_guard(*c));
  }

  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> v;
    for (int i = 0; i < n; ++i) v.push_back(std::make_unique<asio::io_context>(1));
    return v;
  }

  void stop_contexts() {
    for (auto& c : contexts) c->stop();
  }

  std::vector<std::shared_ptr<Session>> live_sessions() {
    std::vector<std::shared_ptr<Session>> out;
    std::lock_guard<std::mutex> lock(sessions_mu);
    for (auto& [p, w] : sessions)
      if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
  }

  void accept() {
    asio::io_context& home = *contexts[next_context++ % contexts.size()];
    acceptor.async_accept(asio::make_strand(home), [this](error_code ec, tcp::socket socket) {
      if (stopping) return;
      if (ec) {
        // Out of descriptors (or another transient failure): back off
        // instead of spinning, and keep accepting.
        if (ec == asio::error::operation_aborted) return;
        accept_retry.expires_after(std::chrono::milliseconds(50));
        accept_retry.async_wait([this](error_code e) {
          if (!e && !stopping) accept();
        });
        return;
      }
      accepted.fetch_add(1, std::memory_order_relaxed);
      if (open.load() >= static_cast<uint64_t>(limits.max_connections)) {
        refuse_at_accept(std::move(socket));
      } else {
        open.fetch_add(1);
        auto s = std::make_shared<Session>(*this, std::move(socket));
        {
          std::lock_guard<std::mutex> lock(sessions_mu);
          sessions.emplace(s.get(), s);
        }
        s->start();
      }
      accept();
    });
  }

  // Over the connection cap: one non-blocking write of a 503 and close; no
  // thread, buffer or timer is spent on this client.
  void refuse_at_accept(tcp::socket socket) {
    refused.fetch_add(1, std::memory_order_relaxed);
    error_code ec;
    socket.non_blocking(true, ec);
    // Whatever the client already sent is read first: closing a socket with
    // unread bytes resets it and may discard the reply at the client.
    std::array<char, 4096> scratch;
    socket.read_some(asio::buffer(scratch), ec);
    socket.write_some(asio::buffer(overloaded_reply), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
  }

  void begin_shutdown() {
    if (stopping.exchange(true)) return;
    asio::dispatch(acceptor.get_executor(), [this] {
      error_code ec;
      acceptor.close(ec);
      accept_retry.cancel();
      drain_deadline = std::chrono::steady_clock::now() + seconds(limits.shutdown_timeout_seconds);
      for (auto& s : live_sessions()) s->on_shutdown(false);
      poll_drain();
    });
  }

  // Until every connection is gone or the deadline passes; then whatever is
  // left is closed. Polling (every 10 ms) keeps sessions from having to
  // signal the listener from their destructors.
  void poll_drain() {
    if (open.load() == 0) {
      keep_running.clear();  // each thread returns once its context is empty
      return;
    }
    if (std::chrono::steady_clock::now() >= drain_deadline) {
      for (auto& s : live_sessions()) s->on_shutdown(true);
      // A handler still computing cannot be interrupted; its reply is
      // dropped when it ends. run() returns once the threads are free.
      stop_contexts();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(10));
    drain.async_wait([this](error_code ec) {
      if (!ec) poll_drain();
    });
  }
};

namespace {

Session::Session(HttpListener::Impl& listener, tcp::socket&& socket)
    : L_(listener),
      stream_(std::move(socket)),
      // Room for one request's header and body plus a read's worth of the
      // next pipelined one: a client can make the server hold no more.
      buffer_(listener.limits.max_header_bytes + listener.limits.max_body_bytes + 16384) {
  error_code ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);
}

Session::~Session() {
  {
    std::lock_guard<std::mutex> lock(L_.sessions_mu);
    L_.sessions.erase(this);
  }
  L_.open.fetch_sub(1);
}

void Session::start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
}

void Session::on_shutdown(bool force) {
  asio::post(stream_.get_executor(), [self = shared_from_this(), force] {
    if (self->state_ == State::kClosed) return;
    if (force || self->state_ == State::kIdle || self->state_ == State::kReading ||
        self->state_ == State::kLingering)
      self->close();
  });
}

void Session::count_timeout(State s) {
  switch (s) {
    case State::kIdle: L_.idle_timeouts.fetch_add(1, std::memory_order_relaxed); break;
    case State::kReading:
      (parser_ && parser_->is_header_done() ? L_.body_timeouts : L_.header_timeouts)
          .fetch_add(1, std::memory_order_relaxed);
      break;
    case State::kWriting: L_.write_timeouts.fetch_add(1, std::memory_order_relaxed); break;
    default: break;
  }
}

// Between requests: nothing is read until the first byte arrives, on the
// idle timer. Bytes of a pipelined request already buffered go straight on.
void Session::wait_for_request() {
  if (L_.stopping) return close();
  if (buffer_.size() > 0) return read_header();
  state_ = State::kIdle;
  stream_.expires_after(seconds(L_.limits.idle_timeout_seconds));
  stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, size_t n) {
    self->buffer_.commit(n);
    if (ec) {
      if (ec == beast::error::timeout) self->count_timeout(State::kIdle);
      return self->close();
    }
    self->read_header();
  });
}

void Session::read_header() {
  state_ = State::kReading;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(L_.limits.max_header_bytes));
  parser_->body_limit(L_.limits.max_body_bytes);
  stream_.expires_after(seconds(L_.limits.header_timeout_seconds));
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](error_code ec, size_t) { self->on_header(ec); });
}

void Session::on_header(error_code ec) {
  if (state_ == State::kClosed) return;
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
    return refuse(HttpRefusal::kHeadersTooLarge);
  if (ec == http::error::body_limit) return refuse(HttpRefusal::kBodyTooLarge);
  if (ec == beast::error::timeout) {
    count_timeout(State::kReading);
    return close();
  }
  if (is_malformed(ec))
    return refuse(HttpRefusal::kBadRequest);  // a malformed request line or header field
  if (ec) return close();                     // the client went away
  auto& req = parser_->get();
  // Decided from Content-Length before a byte of the body is read.
  if (const auto length = parser_->content_length(); length && *length > L_.limits.max_body_bytes)
    return refuse(HttpRefusal::kBodyTooLarge);
  if (parser_->is_done()) return handle();
  if (beast::iequals(req[http::field::expect], "100-continue")) {
    continue_ = {http::status::continue_, req.version()};
    stream_.expires_after(seconds(L_.limits.write_timeout_seconds));
    http::async_write(stream_, continue_, [self = shared_from_this()](error_code e, size_t) {
      if (e) return self->close();
      self->read_body();
    });
    return;
  }
  read_body();
}

void Session::read_body() {
  state_ = State::kReading;
  stream_.expires_after(seconds(L_.limits.body_timeout_seconds));
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, size_t) { self->on_body(ec); });
}

void Session::on_body(error_code ec) {
  if (state_ == State::kClosed) return;
  if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
    return refuse(HttpRefusal::kBodyTooLarge);
  if (ec == beast::error::timeout) {
    count_timeout(State::kReading);
    return close();
  }
  if (is_malformed(ec))
    return refuse(HttpRefusal::kBadRequest);  // e.g. a malformed chunk
  if (ec) return close();
  handle();
}

void Session::handle() {
  state_ = State::kHandling;
  L_.requests.fetch_add(1, std::memory_order_relaxed);
  auto msg = parser_->release();
  parser_.reset();
  HttpRequest request = parse_request_target(std::string(msg.method_string()),
                                             std::string(msg.target()), std::move(msg.body()));
  HttpResponse reply;
  try {
    reply = L_.handler(request);
  } catch (...) {
    reply = HttpResponse{500, "application/json",
                         R"({"error": {"code": "internal", "field": "", "message": "internal error"}})",
                         {}};
  }
  ++served_;
  const bool keep = msg.keep_alive() && !L_.stopping && served_ < L_.limits.max_requests_per_connection;
  reply_.version(msg.version());
  write(std::move(reply), keep);
}

std::string Session::header_path() const {
  if (!parser_ || !parser_->is_header_done()) return {};
  const auto target = parser_->get().target();
  return std::string(target.substr(0, target.find('?')));
}

void Session::refuse(HttpRefusal why) {
  HttpResponse reply = L_.refusal(why, header_path());
  parser_.reset();
  reply_.version(11);
  write(std::move(reply), false);
}

void Session::write(HttpResponse reply, bool keep_alive) {
  state_ = State::kWriting;
  const unsigned version = reply_.version();
  reply_ = {};
  reply_.version(version);
  reply_.result(static_cast<unsigned>(reply.status));
  reply_.set(http::field::content_type, reply.content_type);
  for (const auto& [k, v] : reply.headers) reply_.set(k, v);
  reply_.body() = std::move(reply.body);
  reply_.keep_alive(keep_alive);
  reply_.prepare_payload();
  stream_.expires_after(seconds(L_.limits.write_timeout_seconds));
  http::async_write(stream_, reply_, [self = shared_from_this(), keep_alive](error_code ec, size_t) {
    if (ec) {
      if (ec == beast::error::timeout) self->count_timeout(State::kWriting);
      return self->close();
    }
    if (keep_alive) return self->wait_for_request();
    // Closing with unread bytes (a pipelined request, the rest of a refused
    // one) would reset the connection and could destroy the reply at the
    // client: close the way a refusal does.
    self->linger();
  });
}

// After a reply with Connection: close: stop sending (FIN), then read and drop
// what the client is still sending until it closes or kLingerTime passes. A fixed 16 KiB scratch
// buffer, so a 1 GiB header costs reading time, not memory.
void Session::linger() {
  if (L_.stopping) return close();
  state_ = State::kLingering;
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (!discard_) discard_ = std::make_unique<std::array<char, 16384>>();
  buffer_.clear();
  stream_.expires_after(kLingerTime);
  struct Loop {
    std::shared_ptr<Session> self;
    void operator()(error_code e, size_t) {
      if (e || self->state_ == State::kClosed) return self->close();
      self->stream_.async_read_some(asio::buffer(*self->discard_), std::move(*this));
    }
  };
  stream_.async_read_some(asio::buffer(*discard_), Loop{shared_from_this()});
}

void Session::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  error_code ec;
  stream_.socket().close(ec);
}

}  // namespace

HttpListener::HttpListener(HttpLimits limits, int threads, Handler handler, RefusalReply refusal) {
  limits.validate();
  TANDEM_CHECK(threads >= 1 && threads <= 1024, "--threads must be in [1, 1024], got " << threads);
  impl_ = std::make_unique<Impl>(limits, threads, std::move(handler), std::move(refusal));
  impl_->overloaded_reply = serialize_close_reply(impl_->refusal(HttpRefusal::kOverloaded, ""));
}

HttpListener::~HttpListener() {
  stop();
  impl_->stop_contexts();
}

int HttpListener::bind(const std::string& host, int port) {
  Impl& s = *impl_;
  TANDEM_CHECK(!s.bound, "HttpListener::bind() called twice");
  TANDEM_CHECK(port >= 0 && port <= 65535, "--port must be in [0, 65535], got " << port);
  // Every connection is a file descriptor: raise the soft limit to the hard
  // one, and refuse to start if the cap still cannot be honoured.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    const uint64_t need = static_cast<uint64_t>(s.limits.max_connections) + kReservedDescriptors;
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
      rlimit raised = lim;
      raised.rlim_cur = (lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= need) ? need : lim.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
    }
    TANDEM_CHECK(lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= need,
                 "--max-connections " << s.limits.max_connections << " needs about " << need
                                      << " file descriptors, but this process may open only "
                                      << lim.rlim_cur << " (ulimit -n; hard limit " << lim.rlim_max
                                      << "): lower --max-connections or raise the limit");
  }
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  TANDEM_CHECK(!ec, "--host '" << host << "' is not an IP address (" << ec.message() << ")");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  TANDEM_CHECK(!ec, "cannot listen on " << host << ":" << port << ": " << ec.message());
  s.bound = true;
  s.accept();
  return s.acceptor.local_endpoint().port();
}

void HttpListener::run() {
  Impl& s = *impl_;
  TANDEM_CHECK(s.bound, "HttpListener::run() before bind()");
  std::vector<std::thread> pool;
  for (size_t i = 1; i < s.contexts.size(); ++i) pool.emplace_back([&s, i] { s.contexts[i]->run(); });
  s.contexts[0]->run();
  for (auto& t : pool) t.join();
}

void HttpListener::stop() { impl_->begin_shutdown(); }

const HttpLimits& HttpListener::limits() const { return impl_->limits; }

HttpConnectionStats HttpListener::stats() const {
  const Impl& s = *impl_;
  HttpConnectionStats st;
  st.accepted = s.accepted.load(std::memory_order_relaxed);
  st.refused_over_limit = s.refused.load(std::memory_order_relaxed);
  st.open = s.open.load(std::memory_order_relaxed);
  st.idle_timeouts = s.idle_timeouts.load(std::memory_order_relaxed);
  st.header_timeouts = s.header_timeouts.load(std::memory_order_relaxed);
  st.body_timeouts = s.body_timeouts.load(std::memory_order_relaxed);
  st.write_timeouts = s.write_timeouts.load(std::memory_order_relaxed);
  st.requests = s.requests.load(std::memory_order_relaxed);
  return st;
}

}  // namespace tandem
