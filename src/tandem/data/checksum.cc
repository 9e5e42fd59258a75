#include "tandem/data/checksum.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "tandem/core/error.h"

namespace tandem {

const char* digest_name(DigestKind kind) { return kind == DigestKind::kSha256 ? "sha256" : "md5"; }

namespace {

const EVP_MD* evp_of(DigestKind kind) {
  return kind == DigestKind::kSha256 ? EVP_sha256() : EVP_md5();
}

size_t hex_length(DigestKind kind) { return kind == DigestKind::kSha256 ? 64 : 32; }

}  // namespace

struct Digest::Impl {
  EVP_MD_CTX* ctx = nullptr;
  DigestKind kind;
  bool finished = false;
};

Digest::Digest(DigestKind kind) : impl_(std::make_unique<Impl>()) {
  impl_->kind = kind;
  impl_->ctx = EVP_MD_CTX_new();
  TANDEM_CHECK(impl_->ctx != nullptr,
               "OpenSSL: cannot allocate a " << digest_name(kind) << " context");
  if (EVP_DigestInit_ex(impl_->ctx, evp_of(kind), nullptr) != 1) {
    EVP_MD_CTX_free(impl_->ctx);
    TANDEM_THROW("OpenSSL: cannot initialise "
                 << digest_name(kind) << " (is it disabled in this OpenSSL's configuration?)");
  }
}

Digest::~Digest() { EVP_MD_CTX_free(impl_->ctx); }

void Digest::update(const void* data, size_t size) {
  TANDEM_CHECK(!impl_->finished, digest_name(impl_->kind) << " digest updated after hex()");
  TANDEM_CHECK(EVP_DigestUpdate(impl_->ctx, data, size) == 1,
               "OpenSSL: " << digest_name(impl_->kind) << " update failed");
}

std::string Digest::hex() {
  TANDEM_CHECK(!impl_->finished, digest_name(impl_->kind) << " digest finished twice");
  impl_->finished = true;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  TANDEM_CHECK(EVP_DigestFinal_ex(impl_->ctx, md, &len) == 1,
               "OpenSSL: " << digest_name(impl_->kind) << " final failed");
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kDigits[md[i] >> 4]);
    out.push_back(kDigits[md[i] & 0xF]);
  }
  return out;
}

std::string digest_hex(DigestKind kind, std::string_view data) {
  Digest d(kind);
  d.update(data.data(), data.size());
  return d.hex();
}

std::string file_digest_hex(DigestKind kind, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    TANDEM_THROW(path << ": cannot open to compute its " << digest_name(kind) << ": "
                      << std::strerror(err));
  }
  Digest d(kind);
  std::vector<char> block(1 << 20);
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    d.update(block.data(), static_cast<size_t>(in.gcount()));
  }
  TANDEM_CHECK(in.eof(), path << ": read error while computing its " << digest_name(kind));
  return d.hex();
}

bool is_hex_digest(DigestKind kind, std::string_view text) {
  if (text.size() != hex_length(kind)) return false;
  for (const char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string parse_md5_listing(std::string_view text, const std::string& source) {
  // The digest is the one whitespace-, '(' or '='-delimited word of 32 hex
  // digits; file names in these listings are never that.
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find_first_of(" \t\r\n()=", start);
    const std::string_view word =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (is_hex_digest(DigestKind::kMd5, word)) {
      std::string out(word);
      for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return out;
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  TANDEM_THROW(source << ": no MD5 checksum found in \""
                      << text.substr(0, std::min<size_t>(text.size(), 80)) << "\"");
}

}  // namespace tandem
