#include "tandem/data/http_fetch.h"

#include <httplib.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>

#include "tandem/core/error.h"

namespace tandem {

namespace {

using Clock = std::chrono::steady_clock;

struct Url {
  std::string scheme, authority, target;  // target: path and query, never empty
  std::string origin() const { return scheme + "://" + authority; }
  std::string str() const { return origin() + target; }
};

Url parse_url(const std::string& url) {
  const size_t sep = url.find("://");
  TANDEM_CHECK(sep != std::string::npos,
               "malformed URL '" << url << "': expected http://HOST[:PORT]/PATH or https://...");
  Url u;
  for (size_t i = 0; i < sep; ++i)
    u.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(url[i]))));
  TANDEM_CHECK(u.scheme == "http" || u.scheme == "https",
               "unsupported scheme '" << u.scheme << "' in URL '" << url << "': use http or https");
  const size_t start = sep + 3;
  const size_t path_at = url.find_first_of("/?#", start);
  u.authority =
      url.substr(start, path_at == std::string::npos ? std::string::npos : path_at - start);
  // Credentials in a URL would be sent in clear to every redirect target;
  // nothing Tandem downloads needs them.
  TANDEM_CHECK(!u.authority.empty() && u.authority.find('@') == std::string::npos,
               "malformed URL '" << url << "': expected a host (without user:password@)");
  u.target = path_at == std::string::npos ? "/" : url.substr(path_at);
  if (const size_t hash = u.target.find('#'); hash != std::string::npos) u.target.resize(hash);
  if (u.target.empty() || u.target[0] != '/') u.target = "/" + u.target;
  return u;
}

// A Location header resolved against the URL that sent it (RFC 9110 allows
// absolute, scheme-relative, absolute-path and relative references).
std::string resolve_location(const Url& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (location.rfind("//", 0) == 0) return base.scheme + ":" + location;
  if (location.rfind('/', 0) == 0) return base.origin() + location;
  std::string dir = base.target.substr(0, base.target.find('?'));
  dir.resize(dir.rfind('/') + 1);
  return base.origin() + dir + location;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  std::ostringstream out;
  out << static_cast<double>(ms.count()) / 1000.0 << " s";
  return out.str();
}

// What one request saw, filled in by the response and body callbacks.
struct Exchange {
  int status = 0;
  std::string reason, location;
  std::optional<uint64_t> announced;  // Content-Length
  uint64_t received = 0;
  std::string failure;  // why a callback stopped the transfer
  std::exception_ptr sink_error;
};

std::string describe(httplib::Error error, const Exchange& x, const FetchLimits& limits) {
  std::ostringstream out;
  switch (error) {
    case httplib::Error::Connection:
      out << "cannot connect (refused, unreachable or unknown host)";
      break;
    case httplib::Error::ConnectionTimeout:
      out << "connecting timed out after " << seconds_text(limits.connect_timeout);
      break;
    case httplib::Error::Read:
      if (x.status == 200 && x.announced) {
        out << "the connection dropped after " << x.received << " of " << *x.announced
            << " bytes (or no data came for " << seconds_text(limits.read_timeout) << ")";
      } else if (x.status == 200) {
        out << "the connection dropped after " << x.received << " bytes (or no data came for "
            << seconds_text(limits.read_timeout) << ")";
      } else {
        out << "no response: the connection dropped, or no data came for "
            << seconds_text(limits.read_timeout);
      }
      break;
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      out << "TLS failed (" << httplib::to_string(error)
          << "); is the ca-certificates package installed?";
      break;
    default:
      out << "request failed (" << httplib::to_string(error) << ")";
  }
  return out.str();
}

}  // namespace

FetchResult fetch(const std::string& url, const FetchSink& sink, const FetchLimits& limits) {
  const auto deadline = Clock::now() + limits.total_timeout;
  std::string current = url;
  for (int redirects = 0;; ++redirects) {
    const Url u = parse_url(current);
    httplib::Client client(u.origin());
    TANDEM_CHECK(client.is_valid(),
                 "GET " << current << ": cannot make a client for " << u.origin());
    client.set_connection_timeout(limits.connect_timeout);
    client.set_read_timeout(limits.read_timeout);
    client.set_follow_location(false);  // followed below, each hop parsed and bounded
    client.set_keep_alive(false);
    // The byte cap and the checksum are about the archive itself, so ask for
    // it without transfer compression.
    const httplib::Headers headers = {{"User-Agent", "tandem"}, {"Accept-Encoding", "identity"}};

    Exchange x;
    const auto on_response = [&](const httplib::Response& r) {
      x.status = r.status;
      x.reason = r.reason;
      if (r.status >= 300 && r.status < 400 && r.has_header("Location")) {
        x.location = r.get_header_value("Location");
        return false;
      }
      if (r.status != 200) return false;
      if (r.has_header("Content-Length")) {
        const std::string v = r.get_header_value("Content-Length");
        uint64_t n = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || end != v.data() + v.size()) {
          x.failure = "malformed Content-Length '" + v + "'";
          return false;
        }
        x.announced = n;
        if (n > limits.max_bytes) {
          x.failure = "the response announces " + std::to_string(n) +
                      " bytes, more than the limit of " + std::to_string(limits.max_bytes);
          return false;
        }
      }
      return true;
    };
    const auto on_data = [&](const char* data, size_t n) {
      if (n > limits.max_bytes - x.received) {
        x.failure = "the response is larger than the limit of " + std::to_string(limits.max_bytes) +
                    " bytes (stopped after " + std::to_string(x.received) + ")";
        return false;
      }
      if (Clock::now() > deadline) {
        x.failure = "the transfer took longer than " + seconds_text(limits.total_timeout) +
                    " (stopped after " + std::to_string(x.received) + " bytes)";
        return false;
      }
      try {
        sink(data, n);
      } catch (...) {
        x.sink_error = std::current_exception();
        return false;
      }
      x.received += n;
      return true;
    };
    const httplib::Result res = client.Get(u.target, headers, on_response, on_data);

    if (x.sink_error) std::rethrow_exception(x.sink_error);
    TANDEM_CHECK(x.failure.empty(), "GET " << current << ": " << x.failure);
    if (!x.location.empty()) {
      const std::string next = resolve_location(u, x.location);
      TANDEM_CHECK(redirects < limits.max_redirects,
                   "GET " << url << ": more than " << limits.max_redirects
                          << " redirects (the last from " << current << " to " << next << ")");
      current = next;
      continue;
    }
    if (x.status != 0 && x.status != 200)
      TANDEM_THROW("GET " << current << ": HTTP " << x.status
                          << (x.reason.empty() ? "" : " " + x.reason));
    TANDEM_CHECK(res, "GET " << current << ": " << describe(res.error(), x, limits));
    // httplib reports a short body as a read error; this guards the rest.
    TANDEM_CHECK(!x.announced || *x.announced == x.received,
                 "GET " << current << ": received " << x.received << " bytes, but " << *x.announced
                        << " were announced");
    return {current, x.received};
  }
}

FetchResult fetch_to_file(const std::string& url, const std::string& path,
                          const FetchLimits& limits) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    const int err = errno;
    TANDEM_THROW(path << ": cannot create the download file: " << std::strerror(err));
  }
  const FetchResult r = fetch(
      url,
      [&](const char* data, size_t n) {
        out.write(data, static_cast<std::streamsize>(n));
        if (!out) {
          const int err = errno;
          TANDEM_THROW(path << ": cannot write the download of " << url << ": "
                            << std::strerror(err));
        }
      },
      limits);
  out.close();
  TANDEM_CHECK(out, path << ": cannot finish writing the download of " << url);
  return r;
}

std::string fetch_to_string(const std::string& url, const FetchLimits& limits) {
  std::string body;
  fetch(
      url, [&](const char* data, size_t n) { body.append(data, n); }, limits);
  return body;
}

}  // namespace tandem
