// The request and reply an HTTP endpoint sees: plain values, independent of
// the connection layer that parsed them (http_listener.h), so the endpoints
// can be written and tested without sockets.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem {

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // the request target as sent: path and query
  std::string path;    // target up to '?', not decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::string body;

  bool has_param(std::string_view name) const;
  // The first value of `name`; "" when absent.
  const std::string& param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones, e.g. Allow
};

// Splits a request target into path and decoded query parameters
// ("/v1/similar?item_id=m%2042&k=3"). '+' in the query is a space; a '%' not
// followed by two hex digits is kept as it is.
HttpRequest parse_request_target(std::string method, std::string target, std::string body);

// Percent-decoding of one query component (see parse_request_target).
std::string decode_query_component(std::string_view text);

}  // namespace tandem
