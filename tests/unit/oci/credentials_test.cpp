#include "oci/credentials.hpp"
#include "oci/image_builder.hpp"
#include "support/credential_helper.hpp"
#include "support/scoped_env.hpp"

#include <filesystem>
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
    test::ScopedEnv env;
    env.set("HOME", (tmp.path() / "home").string());
    env.set("DOCKER_CONFIG", tmp.path().string());
    env.unset("BPFLEET_REGISTRY_CREDS");
    env.unset("REGISTRY_AUTH_FILE");
    env.unset("XDG_RUNTIME_DIR");
    env.unset("XDG_CONFIG_HOME");
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
    env.set("BPFLEET_REGISTRY_CREDS", "env:secret");
    auto e = find_credentials("127.0.0.1:5000", opts);
    ASSERT_TRUE(e && *e);
    EXPECT_EQ((*e)->origin, "BPFLEET_REGISTRY_CREDS");
    opts.creds = "cli:pw";
    auto cli = find_credentials("127.0.0.1:5000", opts);
    ASSERT_TRUE(cli && *cli);
    EXPECT_EQ((*cli)->username, "cli");
}

// A home of its own with a `docker-credential-NAME` helper script in PATH.
// The helper speaks the docker credential-helper protocol: it logs each
// request's argument and stdin, knows one server, and says "credentials not
// found" for any other.
class CredentialFiles : public ::testing::Test {
protected:
    void SetUp() override {
        m_env.set("HOME", (m_dir.path() / "home").string());
        m_env.unset("BPFLEET_REGISTRY_CREDS");
        m_env.unset("REGISTRY_AUTH_FILE");
        m_env.unset("DOCKER_CONFIG");
        m_env.set("XDG_RUNTIME_DIR", (m_dir.path() / "run").string());
        m_env.unset("XDG_CONFIG_HOME");
        const char* path = std::getenv("PATH");
        m_env.set("PATH", (m_dir.path() / "bin").string() + ":" + (path ? path : "/usr/bin:/bin"));
    }
    void helper(const std::string& name, const std::string& body) {
        auto file = m_dir.path() / "bin" / ("docker-credential-" + name);
        test::write_text(file, "#!/bin/sh\n" + body);
        std::filesystem::permissions(file, std::filesystem::perms::owner_all);
    }
    // A helper that knows `server` as alice / `secret`.
    void knowing_helper(const std::string& name, const std::string& server,
                        const std::string& secret) {
        auto file = m_dir.path() / "bin" / ("docker-credential-" + name);
        test::write_text(file, test::credential_helper_script(server, secret, log().string()));
        std::filesystem::permissions(file, std::filesystem::perms::owner_all);
    }
    std::filesystem::path log() const { return m_dir.path() / "helper.log"; }
    std::string read_log() const {
        auto bytes = test::read_bytes(log());
        return {bytes.begin(), bytes.end()};
    }
    std::string docker_config() const { return (m_dir.path() / "home/.docker/config.json"); }

    test::TempDir m_dir;
    test::ScopedEnv m_env;
};

TEST_F(CredentialFiles, TheSearchOrderIsPodmansThenDockers) {
    auto files = auth_files();
    ASSERT_EQ(files.size(), 3u);
    EXPECT_EQ(files[0], m_dir.path() / "run/containers/auth.json");
    EXPECT_EQ(files[1], m_dir.path() / "home/.config/containers/auth.json");
    EXPECT_EQ(files[2], m_dir.path() / "home/.docker/config.json");
    m_env.set("XDG_CONFIG_HOME", (m_dir.path() / "cfg").string());
    m_env.set("DOCKER_CONFIG", (m_dir.path() / "dockercfg").string());
    files = auth_files();
    ASSERT_EQ(files.size(), 3u);
    EXPECT_EQ(files[1], m_dir.path() / "cfg/containers/auth.json");
    EXPECT_EQ(files[2], m_dir.path() / "dockercfg/config.json");
    // REGISTRY_AUTH_FILE is the only file when it is set, as in podman.
    m_env.set("REGISTRY_AUTH_FILE", (m_dir.path() / "only.json").string());
    files = auth_files();
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0], m_dir.path() / "only.json");
    EXPECT_NE(describe_credential_sources({}).find((m_dir.path() / "only.json").string()),
              std::string::npos);
}

TEST_F(CredentialFiles, ContainersAuthJsonComesBeforeDockerConfig) {
    test::write_text(m_dir.path() / "run/containers/auth.json",
                     R"({"auths":{"reg.example:5000":{"auth":")" + base64_encode("podman:pw1") +
                         R"("}}})");
    test::write_text(docker_config(), R"({"auths":{"reg.example:5000":{"auth":")" +
                                          base64_encode("docker:pw2") + R"("}}})");
    auto c = find_credentials("reg.example:5000", {});
    ASSERT_TRUE(c && *c) << (c ? "none" : c.error().describe());
    EXPECT_EQ((*c)->username, "podman");
    EXPECT_EQ((*c)->origin, (m_dir.path() / "run/containers/auth.json").string());
    // REGISTRY_AUTH_FILE alone: an entry elsewhere is not used.
    test::write_text(m_dir.path() / "only.json", R"({"auths":{}})");
    m_env.set("REGISTRY_AUTH_FILE", (m_dir.path() / "only.json").string());
    auto none = find_credentials("reg.example:5000", {});
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}

TEST_F(CredentialFiles, CredHelpersNameTheRegistrysOwnHelper) {
    knowing_helper("labstore", "reg.example:5000", "from-helper");
    test::write_text(docker_config(),
                     R"({"credHelpers":{"reg.example:5000":"labstore"},
                         "auths":{"reg.example:5000":{"auth":")" +
                         base64_encode("stale:entry") + R"("}}})");
    auto c = find_credentials("reg.example:5000", {});
    ASSERT_TRUE(c && *c) << (c ? "none" : c.error().describe());
    EXPECT_EQ((*c)->username, "alice");
    EXPECT_EQ((*c)->password, "from-helper");
    EXPECT_NE((*c)->origin.find("docker-credential-labstore"), std::string::npos) << (*c)->origin;
    EXPECT_EQ(read_log(), "get reg.example:5000\n");
    // Another registry is not this helper's: the auths entry would be used.
    auto other = find_credentials("other.example", {});
    ASSERT_TRUE(other);
    EXPECT_FALSE(*other);
}

TEST_F(CredentialFiles, CredsStoreFirstThenAuthsWhenItHasNothing) {
    knowing_helper("desk", "https://index.docker.io/v1/", "hub-secret");
    test::write_text(docker_config(), R"({"credsStore":"desk",
        "auths":{"reg.example":{"username":"u","password":"p"},"https://index.docker.io/v1/":{}}})");
    // Docker Hub is asked for by its v1 URL, as docker stores it.
    auto hub = find_credentials("registry-1.docker.io", {});
    ASSERT_TRUE(hub && *hub) << (hub ? "none" : hub.error().describe());
    EXPECT_EQ((*hub)->password, "hub-secret");
    auto reg = find_credentials("reg.example", {});
    ASSERT_TRUE(reg && *reg) << (reg ? "none" : reg.error().describe());
    EXPECT_EQ((*reg)->username, "u");
    EXPECT_EQ(read_log(), "get https://index.docker.io/v1/\nget reg.example\n");
}

TEST_F(CredentialFiles, AHelperThatCannotRunIsNamedWithTheFileThatChoseIt) {
    test::write_text(docker_config(), R"({"credsStore":"not-installed"})");
    auto c = find_credentials("reg.example", {});
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, "CREDENTIAL_HELPER");
    EXPECT_NE(c.error().message.find("docker-credential-not-installed"), std::string::npos)
        << c.error().describe();
    EXPECT_EQ(c.error().context, docker_config() + ": credsStore");
}

TEST_F(CredentialFiles, AFailingHelperIsQuotedFromStderrNeverStdout) {
    helper("leaky", "echo 'half-a-secret-XYZ'; echo 'keyring is locked' >&2; exit 3\n");
    test::write_text(docker_config(), R"({"credHelpers":{"reg.example":"leaky"}})");
    auto c = find_credentials("reg.example", {});
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, "CREDENTIAL_HELPER");
    EXPECT_NE(c.error().message.find("keyring is locked"), std::string::npos)
        << c.error().describe();
    EXPECT_NE(c.error().message.find("status 3"), std::string::npos) << c.error().describe();
    EXPECT_EQ(c.error().describe().find("XYZ"), std::string::npos) << c.error().describe();
}

TEST_F(CredentialFiles, BadHelperNamesAnswersAndTokensAreRefused) {
    test::write_text(docker_config(), R"({"credHelpers":{"reg.example":"../../bin/sh"}})");
    auto path_like = find_credentials("reg.example", {});
    ASSERT_FALSE(path_like);
    EXPECT_EQ(path_like.error().code, "CREDENTIALS_INVALID");

    helper("garbled", "cat >/dev/null; echo 'not json secret-ABC'\n");
    test::write_text(docker_config(), R"({"credHelpers":{"reg.example":"garbled"}})");
    auto garbled = find_credentials("reg.example", {});
    ASSERT_FALSE(garbled);
    EXPECT_EQ(garbled.error().code, "CREDENTIALS_INVALID");
    EXPECT_EQ(garbled.error().describe().find("ABC"), std::string::npos);

    helper("token",
           "cat >/dev/null; echo '{\"Username\":\"<token>\",\"Secret\":\"refresh-DEF\"}'\n");
    test::write_text(docker_config(), R"({"credHelpers":{"reg.example":"token"}})");
    auto token = find_credentials("reg.example", {});
    ASSERT_FALSE(token);
    EXPECT_EQ(token.error().code, "CREDENTIAL_HELPER");
    EXPECT_NE(token.error().message.find("identity token"), std::string::npos);
    EXPECT_EQ(token.error().describe().find("DEF"), std::string::npos);
}

TEST(Credentials, ErrorsNeverContainTheSecret) {
    auto bad = parse_user_pass("nocolon-secret", "--creds");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().describe().find("nocolon-secret"), std::string::npos);
}

} // namespace
} // namespace bpfleet::oci
