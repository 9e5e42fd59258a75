// Bounded HTTP(S) GET: one URL's body streamed to a sink, with redirects
// followed by hand (so each hop is checked and named in errors), a size cap
// enforced both on the announced length and on the bytes actually received,
// and connect, read and whole-transfer timeouts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace tandem {

struct FetchLimits {
  uint64_t max_bytes = uint64_t{1} << 30;  // refuse larger bodies (1 GiB)
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds read_timeout{std::chrono::seconds(60)};  // longest silence
  std::chrono::milliseconds total_timeout{std::chrono::hours(1)};    // whole transfer
  int max_redirects = 5;
};

struct FetchResult {
  std::string final_url;  // the URL that answered 200, after any redirects
  uint64_t bytes = 0;     // body bytes delivered to the sink
};

// Receives the body in order; throwing aborts the transfer.
using FetchSink = std::function<void(const char* data, size_t size)>;

// GETs `url` (http:// or https://; HTTPS certificates are verified against
// the system's store) and feeds the body of the final 200 response to `sink`.
// Throws tandem::Error naming the URL for: a malformed URL, a failed or timed
// out connection, any status other than 200 after redirects (with the status
// and reason), more than max_redirects redirects, a body announced or
// received larger than max_bytes, and a body shorter than its announced
// Content-Length (a dropped connection).
FetchResult fetch(const std::string& url, const FetchSink& sink, const FetchLimits& limits = {});

// fetch() into the file `path` (created or truncated; errors name it).
FetchResult fetch_to_file(const std::string& url, const std::string& path,
                          const FetchLimits& limits = {});

// fetch() into a string, for small documents such as a published checksum.
std::string fetch_to_string(const std::string& url, const FetchLimits& limits = {});

}  // namespace tandem
