// Checksums of downloaded files through OpenSSL's EVP digests: SHA-256 for
// the archives whose checksum Tandem pins, MD5 for the .md5 files GroupLens
// publishes beside its archives.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace tandem {

enum class DigestKind { kSha256, kMd5 };

// "sha256" or "md5": the prefix of a checksum written as "sha256:<hex>".
const char* digest_name(DigestKind kind);

// Incremental digest: update() any number of times, then hex() once.
class Digest {
 public:
  explicit Digest(DigestKind kind);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  void update(const void* data, size_t size);
  // Lower-case hexadecimal digest; the Digest cannot be updated afterwards.
  std::string hex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string digest_hex(DigestKind kind, std::string_view data);

// Digest of a whole file, read in blocks; errors name the path.
std::string file_digest_hex(DigestKind kind, const std::string& path);

// True for exactly `kind`'s digest length of hexadecimal digits (any case).
bool is_hex_digest(DigestKind kind, std::string_view text);

// The MD5 in a published checksum file: BSD style, as GroupLens writes them
// ("MD5 (ml-100k.zip) = <hex>"), or md5sum style ("<hex>  ml-100k.zip").
// Returns it in lower case; a text holding no MD5 is an error naming `source`.
std::string parse_md5_listing(std::string_view text, const std::string& source);

}  // namespace tandem
