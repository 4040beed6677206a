// resolve_docker_archive() (src/oci/docker_archive.cpp) over `docker save`
// archives built here: the image's architecture from its config, objects
// found inside layer tars, and every layer checked against its diff_id; and
// resolve_artifact() sending such archives there.
#include "oci/docker_archive.hpp"
#include "oci/image_builder.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

struct DockerSave {
    test::Bytes manifest;
    test::Bytes config;
    std::string config_name;
    test::Bytes layer;
    std::string diff_id;
};

DockerSave docker_save(const test::fs::path& tmp, const std::string& arch) {
    DockerSave s;
    auto layer_tar = tmp / "layer.tar";
    test::write_tar(
        layer_tar,
        {{"usr/share/bpf/probe.bpf.o", test::arm64_object()}, {"etc/motd", test::to_bytes("hi")}},
        false);
    s.layer = test::read_bytes(layer_tar);
    s.diff_id = "sha256:" + test::sha256_hex(s.layer);
    s.config = test::to_bytes(R"({"architecture":")" + arch +
                              R"(","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
                              s.diff_id + R"("]}})");
    s.config_name = test::sha256_hex(s.config) + ".json";
    s.manifest = test::to_bytes(R"([{"Config":")" + s.config_name +
                                R"(","RepoTags":["x:latest"],"Layers":["abc/layer.tar"]}])");
    return s;
}

ArchiveContents contents_of(const DockerSave& s) {
    ArchiveContents c;
    c.files["manifest.json"] = s.manifest;
    c.files[s.config_name] = s.config;
    c.files["abc/layer.tar"] = s.layer;
    return c;
}

TEST(DockerArchive, ObjectsComeFromTheLayers) {
    test::TempDir tmp;
    auto save = docker_save(tmp.path(), "arm64");
    ResolvedArtifact out;
    ASSERT_TRUE(resolve_docker_archive(contents_of(save), "docker.tar", {}, {}, out));
    ASSERT_EQ(out.objects.size(), 1u);
    EXPECT_EQ(out.objects[0].arch, "arm64");
    EXPECT_EQ(out.objects[0].name, "usr/share/bpf/probe.bpf.o");
    EXPECT_EQ(out.objects[0].layer_digest, save.diff_id);
    EXPECT_EQ(out.objects[0].object_sha256, test::sha256_hex(test::arm64_object()));
}

TEST(DockerArchive, ATamperedLayerNoLongerMatchesItsDiffId) {
    test::TempDir tmp;
    auto save = docker_save(tmp.path(), "arm64");
    save.layer[600] ^= 1;
    ResolvedArtifact out;
    auto r = resolve_docker_archive(contents_of(save), "docker.tar", {}, {}, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "DIGEST_MISMATCH");
    EXPECT_TRUE(out.objects.empty());
}

TEST(DockerArchive, BrokenManifests) {
    test::TempDir tmp;
    auto save = docker_save(tmp.path(), "arm64");
    auto with_manifest = [&](const std::string& text) {
        auto c = contents_of(save);
        c.files["manifest.json"] = test::to_bytes(text);
        ResolvedArtifact out;
        auto r = resolve_docker_archive(c, "docker.tar", {}, {}, out);
        EXPECT_FALSE(r) << text;
        return r ? std::string("ok") : r.error().code;
    };
    EXPECT_EQ(with_manifest("{}"), "MANIFEST_INVALID");
    EXPECT_EQ(with_manifest("[{}]"), "MANIFEST_INVALID");
    EXPECT_EQ(with_manifest(R"([{"Config":"a.json","Layers":[]},{"Config":"b.json","Layers":[]}])"),
              "ARTIFACT_INVALID");
    EXPECT_EQ(with_manifest(R"([{"Config":"missing.json","Layers":[]}])"), "ARTIFACT_NOT_FOUND");
    EXPECT_EQ(with_manifest(R"([{"Config":"../x.json","Layers":[]}])"), "ARCHIVE_UNSAFE");

    ArchiveContents empty;
    ResolvedArtifact out;
    auto none = resolve_docker_archive(empty, "docker.tar", {}, {}, out);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "ARTIFACT_INVALID");
}

TEST(DockerArchive, ResolveArtifactTakesDockerSaveArchives) {
    test::TempDir tmp;
    auto save = docker_save(tmp.path(), "arm64");
    auto archive = tmp.path() / "docker.tar";
    test::write_tar(archive,
                    {{"manifest.json", save.manifest},
                     {save.config_name, save.config},
                     {"abc/layer.tar", save.layer}},
                    false);
    for (const std::string& spec : {"docker-archive:" + archive.string(), archive.string()}) {
        auto art = resolve_artifact(spec, {});
        ASSERT_TRUE(art) << spec << ": " << art.error().describe();
        EXPECT_EQ(art->kind, SourceKind::DockerArchive) << spec;
        ASSERT_EQ(art->objects.size(), 1u);
        EXPECT_EQ(art->objects[0].arch, "arm64");
        EXPECT_TRUE(art->from_cache_only);
    }
}

} // namespace
} // namespace bpfleet::oci
