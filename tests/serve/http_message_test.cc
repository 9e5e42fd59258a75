#include "tandem/serve/http_message.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(HttpMessage, TargetSplitsIntoPathAndDecodedQuery) {
  const HttpRequest r = parse_request_target("GET", "/v1/similar?item_id=m%2042&k=3&flag&k=9", "");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/v1/similar");
  EXPECT_EQ(r.target, "/v1/similar?item_id=m%2042&k=3&flag&k=9");
  ASSERT_EQ(r.query.size(), 4u);
  EXPECT_EQ(r.param("item_id"), "m 42");
  EXPECT_EQ(r.param("k"), "3");  // the first of repeated keys
  EXPECT_TRUE(r.has_param("flag"));
  EXPECT_EQ(r.param("flag"), "");
  EXPECT_FALSE(r.has_param("absent"));
  EXPECT_EQ(r.param("absent"), "");
}

TEST(HttpMessage, PathWithoutQueryAndEmptyParts) {
  EXPECT_EQ(parse_request_target("GET", "/healthz", "").path, "/healthz");
  EXPECT_TRUE(parse_request_target("GET", "/healthz", "").query.empty());
  const HttpRequest r = parse_request_target("GET", "/x?&&a=1&", "body");
  EXPECT_EQ(r.path, "/x");
  ASSERT_EQ(r.query.size(), 1u);
  EXPECT_EQ(r.param("a"), "1");
  EXPECT_EQ(r.body, "body");
}

TEST(HttpMessage, PercentDecodingByHand) {
  EXPECT_EQ(decode_query_component("a+b"), "a b");
  EXPECT_EQ(decode_query_component("%41%62%2b"), "Ab+");
  EXPECT_EQ(decode_query_component("%e2%82%AC"), "\xe2\x82\xac");
  // Not an escape: kept as sent.
  EXPECT_EQ(decode_query_component("100%"), "100%");
  EXPECT_EQ(decode_query_component("%4"), "%4");
  EXPECT_EQ(decode_query_component("%zz1"), "%zz1");
  EXPECT_EQ(decode_query_component("%00x"), std::string("\0x", 2));
}

}  // namespace
}  // namespace tandem
