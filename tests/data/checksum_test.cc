#include "tandem/data/checksum.h"

#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace tandem {
namespace {

using testing::error_of;
using testing::TempDir;

// FIPS 180-2 and RFC 1321 test vectors.
TEST(Checksum, KnownVectors) {
  EXPECT_EQ(digest_hex(DigestKind::kSha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(digest_hex(DigestKind::kSha256, ""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(digest_hex(DigestKind::kMd5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(digest_hex(DigestKind::kMd5, ""), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(Checksum, StreamingEqualsOneShotAndFile) {
  std::string text;
  for (int i = 0; i < 300000; ++i) text += static_cast<char>('a' + i % 26);
  Digest d(DigestKind::kSha256);
  for (size_t i = 0; i < text.size(); i += 7777)
    d.update(text.data() + i, std::min<size_t>(7777, text.size() - i));
  const std::string streamed = d.hex();
  EXPECT_EQ(streamed, digest_hex(DigestKind::kSha256, text));
  TempDir dir;
  EXPECT_EQ(file_digest_hex(DigestKind::kSha256, dir.write("f.bin", text)), streamed);
  EXPECT_CONTAINS(
      error_of([&] { file_digest_hex(DigestKind::kMd5, (dir.path() / "missing").string()); }),
      "missing: cannot open");
}

TEST(Checksum, HexDigestShape) {
  EXPECT_TRUE(is_hex_digest(DigestKind::kMd5, "0E33842e24a9c977be4e0107933c0723"));
  EXPECT_FALSE(is_hex_digest(DigestKind::kMd5, "0e33842e24a9c977be4e0107933c072"));
  EXPECT_FALSE(is_hex_digest(DigestKind::kMd5, "0e33842e24a9c977be4e0107933c072g"));
  EXPECT_FALSE(is_hex_digest(DigestKind::kSha256, "0e33842e24a9c977be4e0107933c0723"));
}

TEST(Checksum, ParsesPublishedMd5Listings) {
  const std::string md5 = "0e33842e24a9c977be4e0107933c0723";
  EXPECT_EQ(parse_md5_listing("MD5 (ml-100k.zip) = " + md5 + "\n", "x"), md5);
  EXPECT_EQ(parse_md5_listing("0E33842E24A9C977BE4E0107933C0723  ml-100k.zip\n", "x"), md5);
  EXPECT_CONTAINS(error_of([] { parse_md5_listing("<html>Not Found</html>", "http://h/x.md5"); }),
                  "http://h/x.md5: no MD5 checksum found in \"<html>Not Found</html>\"");
}

}  // namespace
}  // namespace tandem
