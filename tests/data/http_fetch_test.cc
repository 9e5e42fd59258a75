#include "tandem/data/http_fetch.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "local_http_server.h"
#include "self_signed_cert.h"
#include "test_util.h"

namespace tandem {
namespace {

using testing::error_of;
using testing::LocalHttpServer;
using testing::TempDir;

std::string body_of(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 23);
  return s;
}

TEST(HttpFetch, GetsTheBody) {
  LocalHttpServer server;
  server.serve("/x.zip", body_of(100000));
  const std::string body = fetch_to_string(server.url() + "/x.zip");
  EXPECT_EQ(body, body_of(100000));
  EXPECT_EQ(server.requests(), 1);
}

TEST(HttpFetch, HttpErrorsNameStatusAndUrl) {
  LocalHttpServer server;
  server.server().Get("/broken.zip", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("oops", "text/plain");
  });
  const std::string missing = error_of([&] { fetch_to_string(server.url() + "/missing.zip"); });
  EXPECT_CONTAINS(missing, "GET " + server.url() + "/missing.zip: HTTP 404 Not Found");
  const std::string broken = error_of([&] { fetch_to_string(server.url() + "/broken.zip"); });
  EXPECT_CONTAINS(broken, "GET " + server.url() + "/broken.zip: HTTP 500 Internal Server Error");
}

TEST(HttpFetch, FollowsRedirects) {
  LocalHttpServer server;
  server.serve("/files/final.zip", "payload");
  server.server().Get("/start.zip", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect(server.url() + "/moved/once.zip", 301);  // absolute
  });
  server.server().Get("/moved/once.zip", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/files/twice.zip", 302);  // absolute path
  });
  server.server().Get("/files/twice.zip", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("final.zip", 307);  // relative
  });
  std::string body;
  const FetchResult r =
      fetch(server.url() + "/start.zip", [&](const char* d, size_t n) { body.append(d, n); });
  EXPECT_EQ(body, "payload");
  EXPECT_EQ(r.final_url, server.url() + "/files/final.zip");
  EXPECT_EQ(server.requests(), 4);
}

TEST(HttpFetch, BoundsRedirects) {
  LocalHttpServer server;
  server.server().Get("/loop.zip", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/loop.zip");
  });
  FetchLimits limits;
  limits.max_redirects = 3;
  EXPECT_CONTAINS(error_of([&] { fetch_to_string(server.url() + "/loop.zip", limits); }),
                  "more than 3 redirects");
  EXPECT_EQ(server.requests(), 4);
}

TEST(HttpFetch, RefusesAnAnnouncedOversizeBody) {
  LocalHttpServer server;
  server.serve("/big.zip", body_of(5000));
  FetchLimits limits;
  limits.max_bytes = 4096;
  size_t delivered = 0;
  const std::string msg = error_of([&] {
    fetch(
        server.url() + "/big.zip", [&](const char*, size_t n) { delivered += n; }, limits);
  });
  EXPECT_CONTAINS(msg, "announces 5000 bytes, more than the limit of 4096");
  EXPECT_EQ(delivered, 0u) << "refused on the headers, before any of the body";
}

TEST(HttpFetch, StopsAnUnannouncedOversizeBody) {
  LocalHttpServer server;
  // Chunked: no Content-Length, so only counting the bytes can stop it.
  server.server().Get("/endless.zip", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/zip", [](size_t offset, httplib::DataSink& sink) {
      if (offset >= (size_t{64} << 20)) return false;  // a bound for the test, never reached
      const std::string block(16384, 'z');
      return sink.write(block.data(), block.size());
    });
  });
  FetchLimits limits;
  limits.max_bytes = 100000;
  size_t delivered = 0;
  const std::string msg = error_of([&] {
    fetch(
        server.url() + "/endless.zip", [&](const char*, size_t n) { delivered += n; }, limits);
  });
  EXPECT_CONTAINS(msg, "larger than the limit of 100000 bytes");
  EXPECT_LE(delivered, 100000u);
}

TEST(HttpFetch, ReportsATruncatedBody) {
  LocalHttpServer server;
  // Announces 10000 bytes, sends 4000, then drops the connection.
  server.server().Get("/short.zip", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(10000, "application/zip",
                             [](size_t offset, size_t, httplib::DataSink& sink) {
                               if (offset >= 4000) return false;
                               const std::string part(4000, 'p');
                               return sink.write(part.data(), part.size());
                             });
  });
  EXPECT_CONTAINS(error_of([&] { fetch_to_string(server.url() + "/short.zip"); }),
                  "the connection dropped after 4000 of 10000 bytes");
}

TEST(HttpFetch, ReportsADroppedChunkedBody) {
  LocalHttpServer server;
  server.server().Get("/drop.zip", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/zip", [](size_t offset, httplib::DataSink& sink) {
      if (offset >= 3000) return false;  // no terminating chunk
      const std::string part(3000, 'q');
      return sink.write(part.data(), part.size());
    });
  });
  EXPECT_CONTAINS(error_of([&] { fetch_to_string(server.url() + "/drop.zip"); }),
                  "the connection dropped after 3000 bytes");
}

TEST(HttpFetch, TimesOutASilentServer) {
  LocalHttpServer server;
  server.server().Get("/slow.zip", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    res.set_content("late", "application/zip");
  });
  FetchLimits limits;
  limits.read_timeout = std::chrono::milliseconds(300);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_CONTAINS(error_of([&] { fetch_to_string(server.url() + "/slow.zip", limits); }),
                  "no data came for 0.3 s");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1400));
}

TEST(HttpFetch, ReportsRefusedConnectionsAndBadUrls) {
  int port = 0;
  {
    LocalHttpServer closed;  // a port that was just free: nothing listens once it is gone
    port = std::stoi(closed.url().substr(closed.url().rfind(':') + 1));
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/x.zip";
  EXPECT_CONTAINS(error_of([&] { fetch_to_string(url); }), "GET " + url + ": cannot connect");
  EXPECT_CONTAINS(error_of([] { fetch_to_string("files.grouplens.org/x.zip"); }), "malformed URL");
  EXPECT_CONTAINS(error_of([] { fetch_to_string("ftp://files.grouplens.org/x.zip"); }),
                  "unsupported scheme 'ftp'");
}

TEST(HttpFetch, HttpsVerifiesTheServerCertificate) {
  TempDir dir;
  const std::string cert = (dir.path() / "cert.pem").string();
  const std::string key = (dir.path() / "key.pem").string();
  testing::write_self_signed_cert(cert, key);
  httplib::SSLServer server(cert.c_str(), key.c_str());
  ASSERT_TRUE(server.is_valid());
  bool served = false;
  server.Get("/x.zip", [&](const httplib::Request&, httplib::Response& res) {
    served = true;
    res.set_content("untrusted", "application/zip");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/x.zip";
  EXPECT_CONTAINS(error_of([&] { fetch_to_string(url); }),
                  "GET " + url + ": TLS failed (SSLServerVerification)");
  server.stop();
  thread.join();
  EXPECT_FALSE(served) << "no request may be sent to an unverified server";
}

TEST(HttpFetch, FileSinkNamesAnUnwritablePath) {
  LocalHttpServer server;
  server.serve("/x.zip", "abc");
  EXPECT_CONTAINS(
      error_of([&] { fetch_to_file(server.url() + "/x.zip", "/nonexistent-dir/x.zip"); }),
      "/nonexistent-dir/x.zip: cannot create the download file");
  EXPECT_EQ(server.requests(), 0) << "the file is opened before the request";
}

}  // namespace
}  // namespace tandem
