#include "inventory/ssh_config.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace bpfleet::inventory {
namespace {

const LocalEnvironment kEnv{"/home/tester", "tester"};

SshConfig parse(std::string_view text) {
    auto config = parse_ssh_config(text, "config", kEnv);
    EXPECT_TRUE(config) << (config ? "" : config.error().describe());
    return config ? *config : SshConfig{};
}

TEST(SshConfig, AliasWithHostNamePortUserIdentity) {
    auto config = parse(R"(
Host board1
    HostName 10.0.0.5
    Port 2222
    User pi
    IdentityFile ~/.ssh/id_board
)");
    auto r = config.resolve("board1");
    EXPECT_EQ(r.host_name, "10.0.0.5");
    EXPECT_EQ(r.port, 2222);
    EXPECT_EQ(r.user, "pi");
    ASSERT_EQ(r.identity_files.size(), 1u);
    EXPECT_EQ(r.identity_files[0], "/home/tester/.ssh/id_board");

    auto other = config.resolve("board2");
    EXPECT_FALSE(other.host_name);
    EXPECT_FALSE(other.port);
    EXPECT_TRUE(other.identity_files.empty());
}

TEST(SshConfig, FirstObtainedValueWins) {
    auto config = parse(R"(
Host web1
    User alice
Host web*
    User bob
    Port 2200
Host *
    User carol
    Port 22
)");
    EXPECT_EQ(config.resolve("web1").user, "alice");
    EXPECT_EQ(config.resolve("web1").port, 2200);
    EXPECT_EQ(config.resolve("web2").user, "bob");
    EXPECT_EQ(config.resolve("db").user, "carol");
    EXPECT_EQ(config.resolve("db").port, 22);
}

TEST(SshConfig, OptionsBeforeTheFirstHostApplyToAll) {
    auto config = parse("User everyone\nHost x\n  User nobody\n");
    EXPECT_EQ(config.resolve("x").user, "everyone");
    EXPECT_EQ(config.resolve("y").user, "everyone");
}

TEST(SshConfig, GlobsAndNegation) {
    auto config = parse(R"(
Host *.lab.example.com !secret.lab.example.com
    User lab
Host node-?
    Port 2022
)");
    EXPECT_EQ(config.resolve("a.lab.example.com").user, "lab");
    EXPECT_FALSE(config.resolve("secret.lab.example.com").user);
    EXPECT_FALSE(config.resolve("lab.example.com").user);
    EXPECT_EQ(config.resolve("node-1").port, 2022);
    EXPECT_FALSE(config.resolve("node-10").port);
}

TEST(SshConfig, OnlyNegatedPatternsMatchNothing) {
    auto config = parse("Host !foo\n  User x\n");
    EXPECT_FALSE(config.resolve("bar").user);
    EXPECT_FALSE(config.resolve("foo").user);
}

TEST(SshConfig, KeywordsAndPatternsAreCaseInsensitive) {
    auto config = parse("HOST Board1\n  hostname=10.1.1.1\n  PORT = 2201\n");
    auto r = config.resolve("BOARD1");
    EXPECT_EQ(r.host_name, "10.1.1.1");
    EXPECT_EQ(r.port, 2201);
}

TEST(SshConfig, QuotedArgumentsAndComments) {
    auto config = parse(R"(
# a comment
Host "quoted"   # trailing comment
    IdentityFile "~/keys/with space"
)");
    auto r = config.resolve("quoted");
    ASSERT_EQ(r.identity_files.size(), 1u);
    EXPECT_EQ(r.identity_files[0], "/home/tester/keys/with space");
}

TEST(SshConfig, IdentityFilesAccumulateInOrderWithTokens) {
    auto config = parse(R"(
Host gw
    HostName gw.example.net
    User ops
    IdentityFile ~/.ssh/%h_%r
Host *
    IdentityFile %d/.ssh/id_%u
    IdentityFile /keys/100%%
)");
    auto r = config.resolve("gw");
    ASSERT_EQ(r.identity_files.size(), 3u);
    EXPECT_EQ(r.identity_files[0], "/home/tester/.ssh/gw.example.net_ops");
    EXPECT_EQ(r.identity_files[1], "/home/tester/.ssh/id_tester");
    EXPECT_EQ(r.identity_files[2], "/keys/100%");
}

TEST(SshConfig, HostNameTokenExpandsToTheAlias) {
    auto config = parse("Host *.int\n  HostName %h.corp.example.net\n");
    EXPECT_EQ(config.resolve("db.int").host_name, "db.int.corp.example.net");
}

TEST(SshConfig, ProxyJumpChainAndNone) {
    auto config = parse(R"(
Host direct
    ProxyJump none
Host inner
    ProxyJump ops@outer.example.net:2222,middle
Host *
    ProxyJump fallback
)");
    auto inner = config.resolve("inner");
    ASSERT_TRUE(inner.proxy_jump);
    ASSERT_EQ(inner.proxy_jump->size(), 2u);
    EXPECT_EQ((*inner.proxy_jump)[0], "ops@outer.example.net:2222");
    EXPECT_EQ((*inner.proxy_jump)[1], "middle");
    auto direct = config.resolve("direct");
    ASSERT_TRUE(direct.proxy_jump);
    EXPECT_TRUE(direct.proxy_jump->empty());
    EXPECT_EQ(config.resolve("other").proxy_jump->at(0), "fallback");
}

TEST(SshConfig, StrictHostKeyCheckingAndConnectTimeout) {
    auto config = parse(R"(
Host vm-*
    StrictHostKeyChecking no
    ConnectTimeout 3
Host new-*
    StrictHostKeyChecking accept-new
Host *
    StrictHostKeyChecking ask
)");
    EXPECT_EQ(config.resolve("vm-1").host_key_policy, HostKeyPolicy::Off);
    EXPECT_EQ(config.resolve("vm-1").connect_timeout, std::chrono::seconds(3));
    EXPECT_EQ(config.resolve("new-1").host_key_policy, HostKeyPolicy::AcceptNew);
    EXPECT_EQ(config.resolve("x").host_key_policy, HostKeyPolicy::Strict);
}

TEST(SshConfig, IncludeAndMatchAreNotedNotFollowed) {
    auto config = parse(R"(
Include ~/.ssh/config.d/*
Match host foo exec "true"
    User matched
Match all
    Port 2022
)");
    ASSERT_EQ(config.notes().size(), 2u);
    EXPECT_EQ(config.notes()[0], "config:2: 'Include' is not followed");
    EXPECT_NE(config.notes()[1].find("config:3: 'Match'"), std::string::npos);
    EXPECT_FALSE(config.resolve("foo").user);
    EXPECT_EQ(config.resolve("foo").port, 2022);
}

TEST(SshConfig, UnknownKeywordsAreIgnored) {
    auto config = parse("Host x\n  ServerAliveInterval 5\n  ForwardAgent yes\n  User u\n");
    EXPECT_EQ(config.resolve("x").user, "u");
}

struct BadConfig {
    const char* name;
    const char* text;
    const char* where;
    const char* message;
};

void PrintTo(const BadConfig& bad, std::ostream* os) {
    *os << bad.name;
}

class SshConfigErrors : public ::testing::TestWithParam<BadConfig> {};

TEST_P(SshConfigErrors, NameTheLine) {
    auto config = parse_ssh_config(GetParam().text, "cfg", kEnv);
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().code, "SSH_CONFIG_INVALID");
    EXPECT_EQ(config.error().context, GetParam().where);
    EXPECT_NE(config.error().message.find(GetParam().message), std::string::npos)
        << config.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    SshConfig, SshConfigErrors,
    ::testing::Values(
        BadConfig{"port_range", "Host a\n  Port 70000\n", "cfg:2", "1..65535"},
        BadConfig{"port_word", "Host a\n  Port two\n", "cfg:2", "1..65535"},
        BadConfig{"host_without_pattern", "\nHost\n", "cfg:2", "needs a value"},
        BadConfig{"keyword_without_value", "Host a\n  User\n", "cfg:2", "needs a value"},
        BadConfig{"unterminated_quote", "Host \"a\n", "cfg:1", "unterminated quote"},
        BadConfig{"proxyjump", "Host a\n  ProxyJump u@h:0\n", "cfg:2", "ProxyJump"},
        BadConfig{"strict_host_key_checking", "Host a\n  StrictHostKeyChecking maybe\n", "cfg:2",
                  "StrictHostKeyChecking"},
        BadConfig{"connect_timeout", "Host a\n  ConnectTimeout soon\n", "cfg:2",
                  "ConnectTimeout"}));

TEST(SshConfig, MissingFileIsAnEmptyConfig) {
    auto config = load_ssh_config("/nonexistent/bpfleet/ssh_config", kEnv);
    ASSERT_TRUE(config);
    EXPECT_TRUE(config->empty());
    EXPECT_FALSE(config->resolve("x").user);
}

TEST(SshConfig, LoadsAFile) {
    auto path = std::filesystem::temp_directory_path() /
                ("bpfleet-ssh-config-" + std::to_string(::getpid()));
    {
        std::ofstream out(path);
        out << "Host a\n  User from-file\n";
    }
    auto config = load_ssh_config(path, kEnv);
    std::filesystem::remove(path);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->resolve("a").user, "from-file");
}

TEST(SshConfig, DefaultPathIsUnderHome) {
    EXPECT_EQ(default_ssh_config_path(kEnv), "/home/tester/.ssh/config");
}

TEST(JumpSpec, Forms) {
    auto full = parse_jump_spec("ops@bastion.example.net:2222");
    ASSERT_TRUE(full);
    EXPECT_EQ(full->user, "ops");
    EXPECT_EQ(full->host, "bastion.example.net");
    EXPECT_EQ(full->port, 2222);

    auto bare = parse_jump_spec("bastion");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->user, "");
    EXPECT_EQ(bare->host, "bastion");
    EXPECT_FALSE(bare->port);

    auto v6 = parse_jump_spec("root@[::1]:2201");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 2201);

    auto v6_bare = parse_jump_spec("fe80::1");
    ASSERT_TRUE(v6_bare);
    EXPECT_EQ(v6_bare->host, "fe80::1");
    EXPECT_FALSE(v6_bare->port);

    auto uri = parse_jump_spec("ssh://u@h:22");
    ASSERT_TRUE(uri);
    EXPECT_EQ(uri->user, "u");
    EXPECT_EQ(uri->host, "h");
}

TEST(JumpSpec, Errors) {
    for (const char* bad :
         {"u@h:0", "u@h:65536", "u@h:x", "@h", "u@", "[::1", "[::1]x", "h:", "a b"}) {
        auto spec = parse_jump_spec(bad);
        EXPECT_FALSE(spec) << bad;
        if (!spec) {
            EXPECT_EQ(spec.error().code, "JUMP_INVALID");
            EXPECT_NE(spec.error().message.find(bad), std::string::npos);
        }
    }
}

} // namespace
} // namespace bpfleet::inventory
