#include "oci/image_builder.hpp"
#include "oci/reference.hpp"
#include "support/scoped_env.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

TEST(Reference, ParsesHostRepoTag) {
    auto r = parse_registry_reference("127.0.0.1:5000/gadget/trace_exec:v1");
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->registry, "127.0.0.1:5000");
    EXPECT_EQ(r->repository, "gadget/trace_exec");
    EXPECT_EQ(r->tag, "v1");
    EXPECT_TRUE(r->is_loopback());
}

TEST(Reference, DefaultsToLatestAndParsesDigest) {
    auto r = parse_registry_reference("ghcr.io/ig/gadget");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->tag, "latest");
    EXPECT_FALSE(r->is_loopback());
    std::string digest = "sha256:" + std::string(64, 'a');
    auto d = parse_registry_reference("localhost:5000/x@" + digest);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->digest, digest);
    EXPECT_TRUE(d->tag.empty());
    EXPECT_EQ(d->reference(), digest);
}

TEST(Reference, DockerHubOnlyWithTransport) {
    EXPECT_FALSE(parse_registry_reference("ubuntu:22.04"));
    auto r = parse_registry_reference("ubuntu:22.04", true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->registry, "registry-1.docker.io");
    EXPECT_EQ(r->repository, "library/ubuntu");
}

TEST(Reference, RejectsUnsafeOrMalformed) {
    for (const char* bad :
         {"example.com/../etc:x", "example.com/UPPER:x", "example.com/a?b", "example.com/a#b",
          "example.com/a:bad tag", "example.com/a@sha256:123", "example.com/a@md5:abc",
          "exa mple.com/a", "example.com/", "example.com/a:"}) {
        auto r = parse_registry_reference(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, "ARTIFACT_INVALID");
        }
    }
}

TEST(ArtifactSpec, Transports) {
    auto oci = parse_artifact_spec("oci:/tmp/layout:v2");
    ASSERT_TRUE(oci);
    EXPECT_EQ(oci->kind, SourceKind::LayoutDir);
    EXPECT_EQ(oci->path, "/tmp/layout");
    EXPECT_EQ(oci->tag, "v2");
    auto arch = parse_artifact_spec("oci-archive:/tmp/g.tar");
    ASSERT_TRUE(arch);
    EXPECT_EQ(arch->kind, SourceKind::Archive);
    EXPECT_TRUE(arch->tag.empty());
    auto docker = parse_artifact_spec("docker-archive:/tmp/d.tar");
    ASSERT_TRUE(docker);
    EXPECT_EQ(docker->kind, SourceKind::DockerArchive);
    auto reg = parse_artifact_spec("docker://127.0.0.1:1/a/b:c");
    ASSERT_TRUE(reg);
    EXPECT_EQ(reg->kind, SourceKind::Registry);
    auto bare = parse_artifact_spec("registry.local:5000/gadget/x");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->kind, SourceKind::Registry);
}

TEST(ArtifactSpec, PathsByContent) {
    test::TempDir tmp;
    auto obj = tmp.path() / "x.bpf.o";
    test::write_bytes(obj, test::amd64_object());
    auto tar = tmp.path() / "x.tar";
    test::write_text(tar, "\x1f\x8b\x08 (a gzip stream's first bytes)");
    auto a = parse_artifact_spec(obj.string());
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, SourceKind::ObjectFile);
    auto b = parse_artifact_spec(tar.string());
    ASSERT_TRUE(b);
    EXPECT_EQ(b->kind, SourceKind::Archive);
    auto c = parse_artifact_spec(tmp.path().string());
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, SourceKind::LayoutDir);
    auto missing = parse_artifact_spec((tmp.path() / "nope.bpf.o").string());
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("no such file"), std::string::npos);
    EXPECT_FALSE(parse_artifact_spec(""));
    EXPECT_FALSE(parse_artifact_spec("Not-A-Gadget"));
}

TEST(ArtifactSpec, AFileThatIsNeitherObjectNorArchiveIsNamedSo) {
    test::TempDir tmp;
    auto text = tmp.path() / "notes.txt";
    test::write_text(text, "just some text\n");
    auto spec = parse_artifact_spec(text.string());
    ASSERT_FALSE(spec);
    EXPECT_EQ(spec.error().code, "ARTIFACT_INVALID");
    EXPECT_NE(spec.error().message.find("not an eBPF object"), std::string::npos)
        << spec.error().describe();
    EXPECT_NE(spec.error().context.find("notes.txt"), std::string::npos);
    // A real tar header ("ustar" at 257) is an archive whatever its name.
    std::string header(512, '\0');
    header.replace(257, 5, "ustar");
    auto tarball = tmp.path() / "image.bin";
    test::write_text(tarball, header);
    auto t = parse_artifact_spec(tarball.string());
    ASSERT_TRUE(t) << t.error().describe();
    EXPECT_EQ(t->kind, SourceKind::Archive);
}

TEST(ArtifactSpec, GadgetShortNamesAsInspektorGadgetHasThem) {
    test::ScopedEnv env;
    env.unset("BPFLEET_GADGET_PREFIX");
    auto exec = parse_artifact_spec("trace_exec");
    ASSERT_TRUE(exec) << exec.error().describe();
    EXPECT_TRUE(exec->short_name);
    EXPECT_EQ(exec->kind, SourceKind::Registry);
    EXPECT_EQ(exec->registry->str(), "ghcr.io/inspektor-gadget/gadget/trace_exec:latest");
    auto open = parse_artifact_spec("trace_open:v0.30.0");
    ASSERT_TRUE(open);
    EXPECT_EQ(open->registry->str(), "ghcr.io/inspektor-gadget/gadget/trace_open:v0.30.0");
    // A full reference is not a short name.
    auto full = parse_artifact_spec("ghcr.io/inspektor-gadget/gadget/trace_exec:v1");
    ASSERT_TRUE(full);
    EXPECT_FALSE(full->short_name);

    env.set("BPFLEET_GADGET_PREFIX", "127.0.0.1:5000/mirror/gadget/");
    auto mirrored = parse_artifact_spec("top_file");
    ASSERT_TRUE(mirrored) << mirrored.error().describe();
    EXPECT_EQ(mirrored->registry->str(), "127.0.0.1:5000/mirror/gadget/top_file:latest");
    for (const char* bad : {"ghcr.io", "ghcr.io/x:tag", "ghcr.io/UPPER", "no host"}) {
        env.set("BPFLEET_GADGET_PREFIX", bad);
        auto b = parse_artifact_spec("top_file");
        ASSERT_FALSE(b) << bad;
        EXPECT_EQ(b.error().context, "$BPFLEET_GADGET_PREFIX") << bad;
    }
}

} // namespace
} // namespace bpfleet::oci
