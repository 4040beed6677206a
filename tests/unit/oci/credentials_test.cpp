#include "oci/credentials.hpp"
#include "oci/image_builder.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

TEST(Credentials, Base64RoundTrip) {
    EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
    EXPECT_EQ(*base64_decode("dXNlcjpwYXNz"), "user:pass");
    EXPECT_EQ(*base64_decode("YQ=="), "a");
    EXPECT_FALSE(base64_decode("abc"));
}

TEST(Credentials, PrecedenceCliEnvDockerConfig) {
    test::TempDir tmp;
    test::write_text(tmp.path() / "config.json", R"({"auths":{"https://127.0.0.1:5000":{"auth":")" +
                                                     base64_encode("dock:er") + R"("},
                         "other.io":{"username":"u","password":"p"}}})");
    ::setenv("DOCKER_CONFIG", tmp.path().c_str(), 1);
    ::unsetenv("BPFLEET_REGISTRY_CREDS");
    ::unsetenv("REGISTRY_AUTH_FILE");
    CredentialOptions opts;
    auto c = find_credentials("127.0.0.1:5000", opts);
    ASSERT_TRUE(c && *c);
    EXPECT_EQ((*c)->username, "dock");
    EXPECT_EQ((*c)->password, "er");
    auto o = find_credentials("other.io", opts);
    ASSERT_TRUE(o && *o);
    EXPECT_EQ((*o)->username, "u");
    auto none = find_credentials("nowhere.io", opts);
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    ::setenv("BPFLEET_REGISTRY_CREDS", "env:secret", 1);
    auto e = find_credentials("127.0.0.1:5000", opts);
    ASSERT_TRUE(e && *e);
    EXPECT_EQ((*e)->origin, "BPFLEET_REGISTRY_CREDS");
    opts.creds = "cli:pw";
    auto cli = find_credentials("127.0.0.1:5000", opts);
    ASSERT_TRUE(cli && *cli);
    EXPECT_EQ((*cli)->username, "cli");
    ::unsetenv("BPFLEET_REGISTRY_CREDS");
    ::unsetenv("DOCKER_CONFIG");
}

TEST(Credentials, ErrorsNeverContainTheSecret) {
    auto bad = parse_user_pass("nocolon-secret", "--creds");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().describe().find("nocolon-secret"), std::string::npos);
}

} // namespace
} // namespace bpfleet::oci
