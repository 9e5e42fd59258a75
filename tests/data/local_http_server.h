// A cpp-httplib server on an ephemeral loopback port, run for the length of
// a test, that counts the requests it receives: the download tests point
// --base-url at it (the sandbox has no network, and tests must not use it).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace tandem::testing {

class LocalHttpServer {
 public:
  LocalHttpServer() {
    svr_.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
      requests_.fetch_add(1);
      return httplib::Server::HandlerResponse::Unhandled;
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LocalHttpServer() {
    svr_.stop();
    thread_.join();
  }
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  // Register handlers before the first request.
  httplib::Server& server() { return svr_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

  // Serves `body` at `path` with status 200.
  void serve(const std::string& path, std::string body) {
    svr_.Get(path, [body = std::move(body)](const httplib::Request&, httplib::Response& res) {
      res.set_content(body, "application/zip");
    });
  }

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = -1;
  std::atomic<int> requests_{0};
};

}  // namespace tandem::testing
