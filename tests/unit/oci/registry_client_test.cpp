// Unit tests of the parts of the registry client that need no server; the
// client against real servers is in tests/integration/oci/.
#include "oci/registry_client.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

TEST(WwwAuthenticate, Bearer) {
    auto ch = parse_www_authenticate(
        R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
    ASSERT_TRUE(ch);
    EXPECT_EQ(ch->scheme, "bearer");
    EXPECT_EQ(ch->params["realm"], "https://auth.example/token");
    EXPECT_EQ(ch->params["service"], "registry.example");
    EXPECT_EQ(ch->params["scope"], "repository:a/b:pull,push");
}

TEST(WwwAuthenticate, BasicAndOddInput) {
    auto basic = parse_www_authenticate(R"(Basic realm="x")");
    ASSERT_TRUE(basic);
    EXPECT_EQ(basic->scheme, "basic");
    EXPECT_FALSE(parse_www_authenticate(""));
    auto weird = parse_www_authenticate(R"(Bearer realm="unterminated)");
    ASSERT_TRUE(weird);
    EXPECT_EQ(weird->params["realm"], "unterminated");
    auto tokens = parse_www_authenticate("Bearer realm=plain, service = svc");
    ASSERT_TRUE(tokens);
    EXPECT_EQ(tokens->params["realm"], "plain");
    EXPECT_EQ(tokens->params["service"], "svc");
}

TEST(RegistryClient, UnreachableRegistryIsANetworkError) {
    RegistryOptions o;
    o.plain_http = true;
    o.max_retries = 1;
    o.initial_backoff_ms = 1;
    o.connect_timeout_ms = 2000;
    auto c = RegistryClient::make("127.0.0.1:1", true, o);
    ASSERT_TRUE(c);
    auto m = c->get_manifest("a/b", "latest", 1024);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, "NETWORK");
    EXPECT_NE(m.error().context.find("127.0.0.1:1"), std::string::npos);
    EXPECT_EQ(c->stats().retries, 1u);
}

} // namespace
} // namespace bpfleet::oci
