// The hostile-input suite (label fault): archives that attack the file system,
// blobs that lie about their digest, manifests pointing at nothing, indexes
// that point at themselves or nest without end, malformed and huge JSON, and
// registries that hang or drop the connection mid-blob. Each must end in a
// clear error naming what and where, with nothing written outside the cache
// and no crash or hang.
#include "oci/image_builder.hpp"
#include "oci/resolve.hpp"
#include "oci/test_servers.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <thread>

namespace bpfleet::test {
namespace {

using Clock = std::chrono::steady_clock;

// Serves a layout as a registry: /v2/x/y/manifests/<tag|digest>, /v2/x/y/blobs/<digest>.
// `blob_override(digest, fd)` returns true when it answered itself.
struct LayoutRegistry {
    fs::path layout;
    std::string tag_digest; // what manifests/latest answers
    std::function<bool(const std::string& digest, int fd, const ScriptedServer&)> blob_override;

    void operator()(const std::string& path, int fd, const ScriptedServer& server) const {
        auto slash = path.rfind('/');
        std::string last = path.substr(slash + 1);
        std::string digest = last.find(':') != std::string::npos ? last : tag_digest;
        if (blob_override && blob_override(digest, fd, server)) {
            return;
        }
        auto file = layout / "blobs" / "sha256" / digest.substr(7 < digest.size() ? 7 : 0);
        if (digest.size() < 8 || !fs::exists(file)) {
            ScriptedServer::respond(
                fd, 404, R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]})");
            return;
        }
        auto bytes = read_bytes(file);
        std::string body(bytes.begin(), bytes.end());
        bool manifest = path.find("/manifests/") != std::string::npos;
        ScriptedServer::respond(fd, 200, body,
                                manifest ? std::map<std::string, std::string>{{"Content-Type", ""}}
                                         : std::map<std::string, std::string>{});
    }
};

std::string top_digest(const fs::path& layout) {
    auto j = nlohmann::json::parse(read_bytes(layout / "index.json"));
    return j["manifests"][0]["digest"];
}

class Hostile : public ::testing::Test {
protected:
    oci::ResolveOptions options() const {
        oci::ResolveOptions o;
        o.cache_dir = m_dir.path() / "cache";
        o.registry.plain_http = true;
        o.registry.stall_timeout_s = 1;
        o.registry.max_retries = 1;
        o.registry.initial_backoff_ms = 10;
        o.credentials.use_docker_config = false;
        o.credentials.use_environment = false;
        return o;
    }
    // Nothing but committed blobs and tag files under the cache; no temp files.
    void expect_clean_cache() const {
        for (const auto& f : files_under(m_dir.path() / "cache")) {
            auto rel = fs::relative(f, m_dir.path() / "cache").string();
            EXPECT_TRUE(rel.starts_with("blobs/") || rel.starts_with("refs/")) << rel;
        }
    }
    fs::path multi_layout() const {
        auto dir = m_dir.path() / "layout";
        if (!fs::exists(dir)) {
            build_standard_layout(dir, StandardImage::MultiArch);
        }
        return dir;
    }
    TempDir m_dir;
};

TEST_F(Hostile, ArchiveAttacksViaTheCli) {
    auto layout = multi_layout();
    auto base = entries_of_directory(layout);
    struct Case {
        const char* name;
        TarEntry extra;
        const char* code;
    };
    std::vector<Case> cases = {
        {"absolute", {"/tmp/bpfleet-evil", to_bytes("x")}, "ARCHIVE_UNSAFE"},
        {"dotdot", {"../bpfleet-evil", to_bytes("x")}, "ARCHIVE_UNSAFE"},
        {"symlink",
         {"blobs/evil", {}, TarEntry::Type::Symlink, "../../../etc/passwd"},
         "ARCHIVE_UNSAFE"},
        {"hardlink", {"blobs/hard", {}, TarEntry::Type::Hardlink, "/etc/passwd"}, "ARCHIVE_UNSAFE"},
        {"device", {"dev", {}, TarEntry::Type::CharDevice}, "ARCHIVE_UNSAFE"},
        {"duplicate", {"index.json", to_bytes("{}")}, "ARCHIVE_UNSAFE"},
        {"declared-size",
         {"big", to_bytes("x"), TarEntry::Type::File, "", 1LL << 42},
         "LIMIT_EXCEEDED"},
    };
    auto sentinel = m_dir.path().parent_path() / "bpfleet-evil";
    for (const auto& c : cases) {
        auto entries = base;
        entries.push_back(c.extra);
        auto tar = m_dir.path() / (std::string(c.name) + ".tar.gz");
        write_tar(tar, entries, true);
        std::string out;
        int rc = run_command({BPFLEET_CLI_PATH, "inspect", "oci-archive:" + tar.string(),
                              "--cache-dir", (m_dir.path() / "cache").string()},
                             &out);
        EXPECT_EQ(rc, 2) << c.name << ": " << out;
        EXPECT_NE(out.find(c.code), std::string::npos) << c.name << ": " << out;
        EXPECT_NE(out.find(tar.string()), std::string::npos)
            << c.name << " error names the archive: " << out;
    }
    EXPECT_FALSE(fs::exists(sentinel));
    EXPECT_FALSE(fs::exists("/tmp/bpfleet-evil"));
    EXPECT_TRUE(files_under(m_dir.path() / "cache").empty());
}

TEST_F(Hostile, GzipBomb) {
    auto tar = m_dir.path() / "bomb.tar.gz";
    std::vector<TarEntry> entries;
    for (int i = 0; i < 24; ++i) {
        entries.emplace_back("zeros" + std::to_string(i), Bytes(1 << 20, 0));
    }
    write_tar(tar, entries, true);
    EXPECT_LT(fs::file_size(tar), 200u * 1024);
    auto o = options();
    o.archive_limits.max_total_bytes = 8 << 20;
    auto r = oci::resolve_artifact("oci-archive:" + tar.string(), o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "LIMIT_EXCEEDED");
}

TEST_F(Hostile, LayoutBlobDigestMismatchAndMissingBlob) {
    auto layout = multi_layout();
    auto arm = arm64_object();
    auto victim = layout / "blobs" / "sha256" / sha256_hex(arm);
    auto tampered = arm;
    tampered[100] ^= 0xff;
    write_bytes(victim, tampered);
    auto r = oci::resolve_artifact("oci:" + layout.string(), options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "DIGEST_MISMATCH");
    EXPECT_NE(r.error().context.find(sha256_hex(arm)), std::string::npos) << r.error().describe();
    fs::remove(victim);
    auto missing = oci::resolve_artifact("oci:" + layout.string(), options());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "ARTIFACT_NOT_FOUND");
    EXPECT_NE(missing.error().message.find(sha256_hex(arm)), std::string::npos);
}

TEST_F(Hostile, IndexesThatReferenceThemselvesOrNestForever) {
    // A true self-reference cannot hash to itself; a registry can still answer
    // a child digest with the parent index: that is a digest mismatch.
    auto layout = multi_layout();
    LayoutRegistry handler{layout, top_digest(layout), {}};
    std::string top = handler.tag_digest;
    handler.blob_override = [top, layout](const std::string& digest, int fd,
                                          const ScriptedServer&) {
        if (digest == top) {
            return false;
        }
        auto bytes = read_bytes(layout / "blobs" / "sha256" / top.substr(7));
        ScriptedServer::respond(fd, 200, std::string(bytes.begin(), bytes.end()));
        return true;
    };
    ScriptedServer server(handler);
    auto r = oci::resolve_artifact(server.host() + "/x/y:latest", options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "DIGEST_MISMATCH") << r.error().describe();
    expect_clean_cache();

    // Indexes nested without end are cut at a fixed depth.
    LayoutBuilder b(m_dir.path() / "nested");
    auto ref = b.add_gadget_manifest(GadgetParts{amd64_object()});
    for (int i = 0; i < 6; ++i) {
        ref = b.add_index({{ref, "amd64"}});
    }
    b.add_ref(ref, "latest");
    b.write_index_json();
    auto nested = oci::resolve_artifact("oci:" + (m_dir.path() / "nested").string(), options());
    ASSERT_FALSE(nested);
    EXPECT_EQ(nested.error().code, "MANIFEST_INVALID");
    EXPECT_NE(nested.error().message.find("nested deeper"), std::string::npos);
}

TEST_F(Hostile, MalformedAndHugeJsonFromARegistry) {
    std::vector<std::pair<std::string, std::string>> bodies = {
        {"not json", "MANIFEST_INVALID"},
        {std::string(100, '[') + std::string(100, ']'), "MANIFEST_INVALID"},
        {R"({"schemaVersion":1,"name":"x","fsLayers":[]})", "MANIFEST_INVALID"},
        {R"({"manifests":[{"digest":"sha256:../../../etc","size":1}]})", "MANIFEST_INVALID"},
        {std::string(6 << 20, ' '), "LIMIT_EXCEEDED"},
    };
    for (const auto& [payload, code] : bodies) {
        // A structured binding is captured through a named reference: clang 14
        // does not accept capturing the binding itself.
        const std::string& body = payload;
        ScriptedServer server([&body](const std::string&, int fd, const ScriptedServer&) {
            ScriptedServer::respond(fd, 200, body,
                                    {{"Content-Type", "application/vnd.oci.image.index.v1+json"}});
        });
        auto r = oci::resolve_artifact(server.host() + "/x/y:latest", options());
        ASSERT_FALSE(r) << body.substr(0, 40);
        EXPECT_EQ(r.error().code, code) << r.error().describe();
    }
    expect_clean_cache();
}

TEST_F(Hostile, RegistryBlobWithWrongDigestOrMissing) {
    auto layout = multi_layout();
    std::string wrong = sha256_hex(amd64_object());
    LayoutRegistry handler{layout, top_digest(layout),
                           [wrong](const std::string& digest, int fd, const ScriptedServer&) {
                               if (digest.ends_with(wrong)) {
                                   ScriptedServer::respond(fd, 200, std::string(10792, 'A'));
                                   return true;
                               }
                               return false;
                           }};
    ScriptedServer server(handler);
    auto o = options();
    o.architectures = {"amd64"};
    auto r = oci::resolve_artifact(server.host() + "/x/y:latest", o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "DIGEST_MISMATCH") << r.error().describe();
    EXPECT_NE(r.error().describe().find(wrong), std::string::npos) << r.error().describe();
    EXPECT_FALSE(fs::exists(m_dir.path() / "cache" / "blobs" / "sha256" / wrong));
    expect_clean_cache();

    fs::remove(layout / "blobs" / "sha256" / sha256_hex(arm64_object()));
    ScriptedServer missing(LayoutRegistry{layout, top_digest(layout), {}});
    o.architectures = {"arm64"};
    auto m = oci::resolve_artifact(missing.host() + "/x/y:latest", o);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, "NOT_FOUND") << m.error().describe();
    EXPECT_NE(m.error().context.find("/blobs/sha256:"), std::string::npos);
}

TEST_F(Hostile, RegistryHangsMidBlob) {
    auto layout = multi_layout();
    LayoutRegistry handler{layout, top_digest(layout),
                           [](const std::string& digest, int fd, const ScriptedServer& server) {
                               if (digest.ends_with(sha256_hex(amd64_object()))) {
                                   ScriptedServer::send_all(
                                       fd, "HTTP/1.1 200 OK\r\nContent-Length: 10792\r\n\r\n" +
                                               std::string(1000, 'x'));
                                   while (!server.stopping()) {
                                       std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                   }
                                   return true;
                               }
                               return false;
                           }};
    ScriptedServer server(handler);
    auto o = options();
    o.architectures = {"amd64"};
    o.registry.max_retries = 0;
    auto start = Clock::now();
    auto r = oci::resolve_artifact(server.host() + "/x/y:latest", o);
    auto elapsed = Clock::now() - start;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "NETWORK") << r.error().describe();
    EXPECT_LT(elapsed, std::chrono::seconds(20)); // curl averages speed over a few seconds
    expect_clean_cache();
}

TEST_F(Hostile, RegistryDropsTheConnectionThenRecovers) {
    auto layout = multi_layout();
    auto drops = std::make_shared<int>(0);
    LayoutRegistry handler{layout, top_digest(layout),
                           [drops](const std::string& digest, int fd, const ScriptedServer&) {
                               if (digest.ends_with(sha256_hex(amd64_object())) && *drops < 1) {
                                   ++*drops;
                                   ScriptedServer::send_all(
                                       fd, "HTTP/1.1 200 OK\r\nContent-Length: 10792\r\n\r\n" +
                                               std::string(500, 'x'));
                                   return true; // the server closes the socket
                               }
                               return false;
                           }};
    ScriptedServer server(handler);
    auto o = options();
    o.architectures = {"amd64"};
    auto r = oci::resolve_artifact(server.host() + "/x/y:latest", o);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->stats.retries, 1u);
    o.registry.max_retries = 0;
    o.cache_dir = m_dir.path() / "cache2";
    *drops = 0;
    auto fail = oci::resolve_artifact(server.host() + "/x/y:latest", o);
    ASSERT_FALSE(fail);
    EXPECT_EQ(fail.error().code, "NETWORK") << fail.error().describe();
}

TEST_F(Hostile, RetryAfterIsHonoured) {
    auto layout = multi_layout();
    auto busy = std::make_shared<int>(0);
    LayoutRegistry handler{
        layout, top_digest(layout), [busy](const std::string&, int fd, const ScriptedServer&) {
            if (*busy < 1) {
                ++*busy;
                ScriptedServer::respond(fd, 429, "slow down", {{"Retry-After", "1"}});
                return true;
            }
            return false;
        }};
    ScriptedServer server(handler);
    auto start = Clock::now();
    auto r = oci::resolve_artifact(server.host() + "/x/y:latest", options());
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(900));
    EXPECT_EQ(r->stats.retries, 1u);
}

TEST_F(Hostile, ServerThatNeverAnswers) {
    ScriptedServer server([](const std::string&, int, const ScriptedServer& s) {
        while (!s.stopping()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    auto o = options();
    o.registry.max_retries = 0;
    auto start = Clock::now();
    auto r = oci::resolve_artifact(server.host() + "/x/y:latest", o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "NETWORK");
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
}

} // namespace
} // namespace bpfleet::test
