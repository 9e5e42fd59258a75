#include "tandem/serve/http_message.h"

namespace tandem {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool HttpRequest::has_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return true;
  return false;
}

const std::string& HttpRequest::param(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return kEmpty;
}

std::string decode_query_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

HttpRequest parse_request_target(std::string method, std::string target, std::string body) {
  HttpRequest r;
  r.method = std::move(method);
  r.body = std::move(body);
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(target).substr(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      const std::string_view part = rest.substr(0, amp);
      if (!part.empty()) {
        const size_t eq = part.find('=');
        r.query.emplace_back(decode_query_component(part.substr(0, eq)),
                             eq == std::string_view::npos ? std::string()
                                                          : decode_query_component(part.substr(eq + 1)));
      }
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }
  r.target = std::move(target);
  return r;
}

}  // namespace tandem
