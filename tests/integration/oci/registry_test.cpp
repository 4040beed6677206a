// The OCI client against real servers on 127.0.0.1: Debian's docker-registry
// filled by skopeo with gadget-style images the test builds, basic auth
// (htpasswd), the bearer-token flow (nginx in front), HTTPS with a test CA,
// the cache and offline use, and the bpfleet inspect / pull commands.
#include "bpf/object.hpp"
#include "oci/cache.hpp"
#include "oci/image_builder.hpp"
#include "oci/resolve.hpp"
#include "oci/test_servers.hpp"
#include "support/credential_helper.hpp"
#include "support/require.hpp"

#include <gtest/gtest.h>
#include <memory>

namespace bpfleet::test {
namespace {

using oci::ResolveOptions;

bool have_registry_tools() {
    return have_program(kDockerRegistry) && have_program(kSkopeo);
}

std::vector<std::string> programs_of(const oci::ResolvedObject& o) {
    std::vector<std::string> names;
    auto facts = bpf::inspect_object(o.bytes, o.name);
    if (facts) {
        for (const auto& p : facts->programs) {
            names.push_back(p.name);
        }
    }
    return names;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// One anonymous registry holding the four images of the issue for the suite.
class AnonymousRegistry : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!have_registry_tools()) {
            return;
        }
        s_dir = std::make_unique<TempDir>();
        s_registry = std::make_unique<RegistryServer>(s_dir->path());
        if (!s_registry->ok()) {
            s_setup_error = s_registry->error();
            return;
        }
        std::pair<StandardImage, const char*> images[] = {
            {StandardImage::MultiArch, "gadget/multi:latest"},
            {StandardImage::SingleArch, "gadget/single:v1"},
            {StandardImage::NoEbpf, "gadget/wasmonly:latest"},
            {StandardImage::WithExtras, "gadget/extras:latest"}};
        int i = 0;
        for (auto [kind, ref] : images) {
            auto layout = s_dir->path() / ("layout" + std::to_string(i++));
            build_standard_layout(layout, kind, "latest");
            std::string err = s_registry->push(layout, "latest", ref);
            if (!err.empty()) {
                s_setup_error = err;
                return;
            }
        }
    }
    static void TearDownTestSuite() {
        s_registry.reset();
        s_dir.reset();
    }
    void SetUp() override {
        BPFLEET_REQUIRE(have_registry_tools(),
                        "docker-registry and skopeo are needed (scripts/install-deps.sh)");
        ASSERT_TRUE(s_setup_error.empty()) << s_setup_error;
    }
    ResolveOptions options() const {
        ResolveOptions o;
        o.cache_dir = m_cache.path();
        o.credentials.use_docker_config = false;
        o.credentials.use_environment = false;
        return o;
    }
    std::string ref(const std::string& repo_tag) const {
        return s_registry->host() + "/" + repo_tag;
    }

    TempDir m_cache;
    static inline std::unique_ptr<TempDir> s_dir;
    static inline std::unique_ptr<RegistryServer> s_registry;
    static inline std::string s_setup_error;
};

TEST_F(AnonymousRegistry, MultiArchIndexGivesTheRightObjectPerArch) {
    auto art = oci::resolve_artifact("docker://" + ref("gadget/multi:latest"), options());
    ASSERT_TRUE(art) << art.error().describe();
    ASSERT_EQ(art->objects.size(), 2u);
    auto arm = art->objects_for_machine("aarch64");
    auto x86 = art->objects_for_machine("x86_64");
    ASSERT_TRUE(arm && x86);
    EXPECT_TRUE(contains(programs_of(*(*arm)[0]), "enter_arm64"));
    EXPECT_TRUE(contains(programs_of(*(*x86)[0]), "enter_x86"));
    EXPECT_EQ((*arm)[0]->object_sha256, sha256_hex(arm64_object()));
    ASSERT_TRUE(art->gadget);
    EXPECT_EQ(art->gadget->name, "trace_test");
    auto riscv = art->objects_for_machine("riscv64");
    ASSERT_FALSE(riscv);
    EXPECT_EQ(riscv.error().code, "UNSUPPORTED_ARCH");
}

TEST_F(AnonymousRegistry, SingleArchNoEbpfAndExtras) {
    auto single = oci::resolve_artifact(ref("gadget/single:v1"), options());
    ASSERT_TRUE(single) << single.error().describe();
    EXPECT_EQ(single->objects.size(), 1u);
    EXPECT_FALSE(single->objects_for_machine("aarch64"));

    auto wasm = oci::resolve_artifact(ref("gadget/wasmonly:latest"), options());
    ASSERT_FALSE(wasm);
    EXPECT_EQ(wasm.error().code, "NO_PROGRAM");
    EXPECT_NE(wasm.error().message.find("this image has no eBPF program for"), std::string::npos);

    auto extras = oci::resolve_artifact(ref("gadget/extras:latest"), options());
    ASSERT_TRUE(extras) << extras.error().describe();
    ASSERT_EQ(extras->objects.size(), 2u);
    ASSERT_TRUE(extras->objects[0].btfgen);
    EXPECT_TRUE(std::filesystem::exists(extras->objects[0].btfgen->path));
}

TEST_F(AnonymousRegistry, SecondRunMakesNoBlobRequestAndOfflineWorks) {
    auto first = oci::resolve_artifact(ref("gadget/multi:latest"), options());
    ASSERT_TRUE(first) << first.error().describe();
    EXPECT_GT(first->stats.blob_requests, 0u);
    auto second = oci::resolve_artifact(ref("gadget/multi:latest"), options());
    ASSERT_TRUE(second);
    EXPECT_EQ(second->stats.blob_requests, 0u);
    EXPECT_EQ(second->image_digest, first->image_digest);
    // By digest, everything comes from the cache: no request at all.
    auto by_digest = oci::resolve_artifact(ref("gadget/multi@" + first->image_digest), options());
    ASSERT_TRUE(by_digest) << by_digest.error().describe();
    EXPECT_EQ(by_digest->stats.requests, 0u);
    // Offline, by tag, with the network never touched.
    auto o = options();
    o.offline = true;
    auto offline = oci::resolve_artifact(ref("gadget/multi:latest"), o);
    ASSERT_TRUE(offline) << offline.error().describe();
    EXPECT_TRUE(offline->from_cache_only);
    EXPECT_EQ(offline->objects.size(), 2u);
    auto miss = oci::resolve_artifact(ref("gadget/single:v1"), o);
    ASSERT_FALSE(miss);
    EXPECT_EQ(miss.error().code, "CACHE_MISS");
    EXPECT_NE(miss.error().message.find("bpfleet pull"), std::string::npos);
}

TEST_F(AnonymousRegistry, ArchFilterDownloadsOnlyThatArch) {
    auto o = options();
    o.architectures = {"arm64"};
    auto art = oci::resolve_artifact(ref("gadget/multi:latest"), o);
    ASSERT_TRUE(art) << art.error().describe();
    ASSERT_EQ(art->objects.size(), 1u);
    // index + arm64 manifest + config + object: the amd64 manifest is never fetched.
    EXPECT_EQ(art->stats.blob_requests, 2u);
    EXPECT_EQ(art->stats.manifest_requests, 2u);
}

TEST_F(AnonymousRegistry, InspectAndPullCommands) {
    std::string out;
    int rc = run_command({BPFLEET_CLI_PATH, "inspect", "docker://" + ref("gadget/multi:latest"),
                          "--arch", "arm64", "--cache-dir", m_cache.path().string()},
                         &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("enter_arm64"), std::string::npos) << out;
    EXPECT_EQ(out.find("enter_x86"), std::string::npos) << out;
    EXPECT_NE(out.find("zero-sized"), std::string::npos) << out;
    EXPECT_NE(out.find("trace_test"), std::string::npos) << out;

    auto cache2 = m_cache.path() / "pulled";
    rc = run_command(
        {BPFLEET_CLI_PATH, "pull", ref("gadget/multi:latest"), "--cache-dir", cache2.string()},
        &out);
    EXPECT_EQ(rc, 0) << out;
    rc = run_command({BPFLEET_CLI_PATH, "inspect", ref("gadget/multi:latest"), "--offline",
                      "--json", "--cache-dir", cache2.string()},
                     &out);
    EXPECT_EQ(rc, 0) << out;
    auto j = nlohmann::json::parse(out.substr(out.find('{')), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << out;
    EXPECT_EQ(j["schema"], "bpfleet.inspect/v1");
    EXPECT_EQ(j["objects"].size(), 2u);
    EXPECT_EQ(j["objects"][1]["zero_sized_maps"][0], "events");

    rc = run_command({BPFLEET_CLI_PATH, "inspect", ref("gadget/wasmonly:latest"), "--cache-dir",
                      m_cache.path().string()},
                     &out);
    EXPECT_EQ(rc, 2) << out;
    EXPECT_NE(out.find("no eBPF program"), std::string::npos) << out;
    rc = run_command({BPFLEET_CLI_PATH, "inspect", ref("gadget/nothere:latest"), "--cache-dir",
                      m_cache.path().string()},
                     &out);
    EXPECT_EQ(rc, 2) << out;
    EXPECT_NE(out.find("NOT_FOUND"), std::string::npos) << out;
}

// Gadget short names as Inspektor Gadget users type them, served from a
// mirror named by $BPFLEET_GADGET_PREFIX (the default, ghcr.io, is out of
// reach here): the output names the full reference.
TEST_F(AnonymousRegistry, GadgetShortNamesExpandUnderTheMirrorPrefix) {
    std::string out;
    int rc =
        run_command({"/usr/bin/env", "BPFLEET_GADGET_PREFIX=" + ref("gadget"), BPFLEET_CLI_PATH,
                     "inspect", "single:v1", "--cache-dir", m_cache.path().string()},
                    &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("artifact:     " + ref("gadget/single:v1")), std::string::npos) << out;
    rc = run_command({"/usr/bin/env", "BPFLEET_GADGET_PREFIX=" + ref("gadget") + "/",
                      BPFLEET_CLI_PATH, "pull", "multi", "--cache-dir",
                      (m_cache.path() / "p").string()},
                     &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find(ref("gadget/multi:latest")), std::string::npos) << out;
    rc = run_command({"/usr/bin/env", "BPFLEET_GADGET_PREFIX=not a prefix", BPFLEET_CLI_PATH,
                      "inspect", "multi", "--cache-dir", m_cache.path().string()},
                     &out);
    EXPECT_EQ(rc, 2) << out;
    EXPECT_NE(out.find("$BPFLEET_GADGET_PREFIX"), std::string::npos) << out;
}

class AuthRegistry : public ::testing::Test {
protected:
    void SetUp() override {
        BPFLEET_REQUIRE(have_registry_tools() && have_program(kHtpasswd),
                        "docker-registry, skopeo and htpasswd (apache2-utils) are needed");
        m_htpasswd = m_dir.path() / "htpasswd";
        ASSERT_TRUE(make_htpasswd(m_htpasswd, "alice", "s3cret-pw"));
        m_layout = m_dir.path() / "layout";
        build_standard_layout(m_layout, StandardImage::MultiArch, "latest");
    }
    ResolveOptions options() const {
        ResolveOptions o;
        o.cache_dir = m_dir.path() / "cache";
        o.credentials.use_docker_config = false;
        o.credentials.use_environment = false;
        return o;
    }
    // A registry behind basic auth (alice / s3cret-pw) holding private/x:latest.
    std::unique_ptr<RegistryServer> private_registry() {
        RegistryConfig cfg;
        cfg.htpasswd = m_htpasswd;
        auto reg = std::make_unique<RegistryServer>(m_dir.path(), cfg);
        if (reg->ok()) {
            m_push_error = reg->push(m_layout, "latest", "private/x:latest", "alice:s3cret-pw");
        }
        return reg;
    }

    TempDir m_dir;
    fs::path m_htpasswd;
    fs::path m_layout;
    std::string m_push_error;
};

TEST_F(AuthRegistry, BasicAuth) {
    auto server = private_registry();
    RegistryServer& reg = *server;
    ASSERT_TRUE(reg.ok()) << reg.error();
    ASSERT_EQ(m_push_error, "");
    std::string r = reg.host() + "/private/x:latest";

    auto anon = oci::resolve_artifact(r, options());
    ASSERT_FALSE(anon);
    EXPECT_EQ(anon.error().code, "AUTH_FAILED");
    EXPECT_NE(anon.error().message.find("wants credentials"), std::string::npos);

    auto o = options();
    o.credentials.creds = "alice:wrong-pw";
    auto wrong = oci::resolve_artifact(r, o);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, "AUTH_FAILED");
    EXPECT_EQ(wrong.error().describe().find("wrong-pw"), std::string::npos);

    o.credentials.creds = "alice:s3cret-pw";
    auto ok = oci::resolve_artifact(r, o);
    ASSERT_TRUE(ok) << ok.error().describe();
    EXPECT_EQ(ok->objects.size(), 2u);

    // From a Docker config file, through the CLI; the password never shows.
    write_text(m_dir.path() / "docker" / "config.json",
               R"({"auths":{")" + reg.host() + R"(":{"auth":")" +
                   oci::base64_encode("alice:s3cret-pw") + R"("}}})");
    std::string out;
    int rc = run_command({"/usr/bin/env", "DOCKER_CONFIG=" + (m_dir.path() / "docker").string(),
                          BPFLEET_CLI_PATH, "pull", r, "--cache-dir",
                          (m_dir.path() / "cache2").string()},
                         &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out.find("s3cret"), std::string::npos);
    rc = run_command({BPFLEET_CLI_PATH, "pull", r, "--creds", "alice:bad-pw", "--cache-dir",
                      (m_dir.path() / "cache3").string()},
                     &out);
    EXPECT_EQ(rc, 2) << out;
    EXPECT_EQ(out.find("bad-pw"), std::string::npos) << out;
    for (const auto& f : files_under(m_dir.path() / "cache2")) {
        auto bytes = read_bytes(f);
        std::string text(bytes.begin(), bytes.end());
        EXPECT_EQ(text.find("s3cret"), std::string::npos) << f;
    }
}

// The logins docker and podman leave behind, used by `bpfleet pull` with no
// option: a credential helper named by credHelpers or credsStore (a script
// speaking the helper protocol), and podman's containers/auth.json.
TEST_F(AuthRegistry, LoginsLeftByDockerAndPodmanAreFoundThroughTheCli) {
    auto server = private_registry();
    RegistryServer& reg = *server;
    ASSERT_TRUE(reg.ok()) << reg.error();
    ASSERT_EQ(m_push_error, "");
    std::string r = reg.host() + "/private/x:latest";
    fs::path home = m_dir.path() / "home";
    fs::path bin = m_dir.path() / "bin";
    fs::path log = m_dir.path() / "helper.log";
    write_text(bin / "docker-credential-labstore",
               credential_helper_script(reg.host(), "s3cret-pw", log.string()));
    fs::permissions(bin / "docker-credential-labstore", fs::perms::owner_all);
    const char* path = std::getenv("PATH");
    int pulls = 0;
    auto pull = [&](std::vector<std::string> extra_env, std::string* out) {
        std::vector<std::string> argv{"/usr/bin/env",
                                      "-u",
                                      "REGISTRY_AUTH_FILE",
                                      "-u",
                                      "DOCKER_CONFIG",
                                      "-u",
                                      "XDG_CONFIG_HOME",
                                      "-u",
                                      "BPFLEET_REGISTRY_CREDS",
                                      "HOME=" + home.string(),
                                      "XDG_RUNTIME_DIR=" + (m_dir.path() / "run").string(),
                                      "PATH=" + bin.string() + ":" + (path ? path : "/usr/bin")};
        argv.insert(argv.end(), extra_env.begin(), extra_env.end());
        for (const char* a : {BPFLEET_CLI_PATH, "pull"}) {
            argv.emplace_back(a);
        }
        argv.push_back(r);
        argv.emplace_back("--cache-dir");
        argv.push_back((m_dir.path() / ("cache" + std::to_string(++pulls))).string());
        return run_command(argv, out);
    };

    // Nothing anywhere: the error says where bpfleet looked.
    std::string out;
    EXPECT_EQ(pull({}, &out), 2) << out;
    EXPECT_NE(out.find("none were found for " + reg.host()), std::string::npos) << out;
    EXPECT_NE(out.find((home / ".docker/config.json").string()), std::string::npos) << out;
    EXPECT_NE(out.find((m_dir.path() / "run/containers/auth.json").string()), std::string::npos)
        << out;

    // docker login with a credential store: credsStore, an empty auths entry.
    write_text(home / ".docker/config.json",
               R"({"credsStore":"labstore","auths":{")" + reg.host() + R"(":{}}})");
    EXPECT_EQ(pull({}, &out), 0) << out;
    EXPECT_EQ(out.find("s3cret"), std::string::npos) << out;
    auto logged = read_bytes(log);
    EXPECT_EQ(std::string(logged.begin(), logged.end()), "get " + reg.host() + "\n");

    // credHelpers for this registry, a credsStore that is not installed: the
    // registry's own helper wins and the store is never run.
    write_text(home / ".docker/config.json", R"({"credsStore":"not-installed","credHelpers":{")" +
                                                 reg.host() + R"(":"labstore"}})");
    EXPECT_EQ(pull({}, &out), 0) << out;

    // A credsStore that is not installed, for this registry: named, exit 2.
    write_text(home / ".docker/config.json", R"({"credsStore":"not-installed"})");
    EXPECT_EQ(pull({}, &out), 2) << out;
    EXPECT_NE(out.find("docker-credential-not-installed"), std::string::npos) << out;
    EXPECT_NE(out.find("CREDENTIAL_HELPER"), std::string::npos) << out;

    // podman login: $XDG_RUNTIME_DIR/containers/auth.json, read before docker's file.
    write_text(m_dir.path() / "run/containers/auth.json",
               R"({"auths":{")" + reg.host() + R"(":{"auth":")" +
                   oci::base64_encode("alice:s3cret-pw") + R"("}}})");
    EXPECT_EQ(pull({}, &out), 0) << out;

    // REGISTRY_AUTH_FILE is the only file when set: a file without the
    // registry means no credentials, whatever the others hold.
    write_text(m_dir.path() / "empty-auth.json", R"({"auths":{}})");
    EXPECT_EQ(pull({"REGISTRY_AUTH_FILE=" + (m_dir.path() / "empty-auth.json").string()}, &out), 2)
        << out;
    EXPECT_NE(out.find("AUTH_FAILED"), std::string::npos) << out;
    EXPECT_EQ(
        pull({"REGISTRY_AUTH_FILE=" + (m_dir.path() / "run/containers/auth.json").string()}, &out),
        0)
        << out;
}

TEST_F(AuthRegistry, BearerTokenThroughNginx) {
    BPFLEET_REQUIRE(have_program(kNginx), "nginx is needed for the bearer-token flow");
    RegistryServer reg(m_dir.path());
    ASSERT_TRUE(reg.ok()) << reg.error();
    ASSERT_EQ(reg.push(m_layout, "latest", "tokened/x:latest"), "");
    TokenProxy proxy(m_dir.path(), reg.port(), m_htpasswd);
    ASSERT_TRUE(proxy.ok()) << proxy.error();
    std::string r = proxy.host() + "/tokened/x:latest";

    auto anon = oci::resolve_artifact(r, options());
    ASSERT_FALSE(anon) << proxy.access_log();
    EXPECT_EQ(anon.error().code, "AUTH_FAILED");
    EXPECT_NE(anon.error().context.find("token endpoint"), std::string::npos)
        << anon.error().describe();

    auto o = options();
    o.credentials.creds = "alice:s3cret-pw";
    auto art = oci::resolve_artifact(r, o);
    ASSERT_TRUE(art) << art.error().describe();
    EXPECT_EQ(art->objects.size(), 2u);
    EXPECT_EQ(art->stats.token_requests, 1u);
    EXPECT_NE(proxy.access_log().find(
                  "GET /token?service=bpfleet-test&scope=repository%3Atokened%2Fx%3Apull"),
              std::string::npos)
        << proxy.access_log();
}

TEST_F(AuthRegistry, HttpsWithTestCa) {
    BPFLEET_REQUIRE(have_program(kOpenssl), "openssl is needed for the test CA");
    auto ca = make_test_ca(m_dir.path() / "ca");
    ASSERT_TRUE(ca.error.empty()) << ca.error;
    RegistryConfig cfg;
    cfg.tls_cert = ca.server_cert;
    cfg.tls_key = ca.server_key;
    RegistryServer reg(m_dir.path(), cfg);
    ASSERT_TRUE(reg.ok()) << reg.error();
    ASSERT_EQ(reg.push(m_layout, "latest", "tls/x:latest"), "");
    std::string r = reg.host() + "/tls/x:latest";

    auto untrusted = oci::resolve_artifact(r, options());
    ASSERT_FALSE(untrusted);
    EXPECT_EQ(untrusted.error().code, "NETWORK");
    EXPECT_NE(untrusted.error().context.find("https://"), std::string::npos)
        << untrusted.error().describe();

    auto o = options();
    o.registry.ca_file = ca.ca_cert.string();
    auto art = oci::resolve_artifact(r, o);
    ASSERT_TRUE(art) << art.error().describe();
    EXPECT_EQ(art->objects.size(), 2u);

    std::string out;
    int rc =
        run_command({BPFLEET_CLI_PATH, "inspect", r, "--arch", "x86_64", "--ca-file",
                     ca.ca_cert.string(), "--cache-dir", (m_dir.path() / "cli-cache").string()},
                    &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("enter_x86"), std::string::npos) << out;
}

} // namespace
} // namespace bpfleet::test
