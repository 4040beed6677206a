#include "bpf/object.hpp"
#include "oci/image_builder.hpp"
#include "oci/resolve.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

using test::StandardImage;

std::vector<std::string> program_names(const ResolvedObject& o) {
    auto facts = inspect_object(o.bytes, o.name);
    EXPECT_TRUE(facts) << (facts ? "" : facts.error().describe());
    std::vector<std::string> names;
    if (facts) {
        for (const auto& p : facts->programs) {
            names.push_back(p.name);
        }
    }
    return names;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Resolve, MultiArchLayoutGivesOneObjectPerArch) {
    test::TempDir tmp;
    test::build_standard_layout(tmp.path() / "img", StandardImage::MultiArch);
    auto art = resolve_artifact("oci:" + (tmp.path() / "img").string() + ":latest", {});
    ASSERT_TRUE(art) << art.error().describe();
    ASSERT_EQ(art->objects.size(), 2u);
    EXPECT_TRUE(art->image_digest.starts_with("sha256:"));
    ASSERT_TRUE(art->gadget);
    EXPECT_EQ(art->gadget->name, "trace_test");
    EXPECT_EQ(art->gadget->source_url, "https://example.com/trace_test");

    auto x86 = art->objects_for_machine("x86_64");
    ASSERT_TRUE(x86);
    ASSERT_EQ(x86->size(), 1u);
    EXPECT_EQ((*x86)[0]->arch, "amd64");
    EXPECT_TRUE(has(program_names(*(*x86)[0]), "enter_x86"));
    auto arm = art->objects_for_machine("aarch64");
    ASSERT_TRUE(arm);
    EXPECT_TRUE(has(program_names(*(*arm)[0]), "enter_arm64"));
    EXPECT_NE((*x86)[0]->manifest_digest, (*arm)[0]->manifest_digest);
    EXPECT_EQ((*arm)[0]->object_sha256, test::sha256_hex(test::arm64_object()));

    auto riscv = art->objects_for_machine("riscv64");
    ASSERT_FALSE(riscv);
    EXPECT_EQ(riscv.error().code, "UNSUPPORTED_ARCH");
    EXPECT_NE(riscv.error().message.find("amd64"), std::string::npos);
}

TEST(Resolve, ArchFilterFetchesOnlyThatArch) {
    test::TempDir tmp;
    test::build_standard_layout(tmp.path() / "img", StandardImage::MultiArch);
    ResolveOptions o;
    o.architectures = {"aarch64"};
    auto art = resolve_artifact((tmp.path() / "img").string(), o);
    ASSERT_TRUE(art) << art.error().describe();
    ASSERT_EQ(art->objects.size(), 1u);
    EXPECT_EQ(art->objects[0].arch, "arm64");
    o.architectures = {"s390x"};
    auto none = resolve_artifact((tmp.path() / "img").string(), o);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "UNSUPPORTED_ARCH");
    o.architectures = {"pdp11"};
    EXPECT_FALSE(resolve_artifact((tmp.path() / "img").string(), o));
}

TEST(Resolve, SingleArchAndNoEbpfAndExtras) {
    test::TempDir tmp;
    test::build_standard_layout(tmp.path() / "single", StandardImage::SingleArch);
    auto single = resolve_artifact("oci:" + (tmp.path() / "single").string(), {});
    ASSERT_TRUE(single) << single.error().describe();
    ASSERT_EQ(single->objects.size(), 1u);
    auto arm = single->objects_for_machine("aarch64");
    ASSERT_FALSE(arm);
    EXPECT_EQ(arm.error().code, "UNSUPPORTED_ARCH");

    test::build_standard_layout(tmp.path() / "noebpf", StandardImage::NoEbpf);
    auto noebpf = resolve_artifact("oci:" + (tmp.path() / "noebpf").string(), {});
    ASSERT_FALSE(noebpf);
    EXPECT_EQ(noebpf.error().code, "NO_PROGRAM");
    EXPECT_NE(noebpf.error().message.find("this image has no eBPF program for amd64"),
              std::string::npos)
        << noebpf.error().message;

    test::build_standard_layout(tmp.path() / "extras", StandardImage::WithExtras);
    auto extras = resolve_artifact("oci:" + (tmp.path() / "extras").string(), {});
    ASSERT_TRUE(extras) << extras.error().describe();
    ASSERT_EQ(extras->objects.size(), 2u);
    ASSERT_TRUE(extras->objects[0].btfgen);
    ASSERT_TRUE(extras->objects[0].btfgen->bytes);
    EXPECT_EQ(test::sha256_hex(test::amd64_object()), extras->objects[0].object_sha256);
}

TEST(Resolve, TagSelectionInLayout) {
    test::TempDir tmp;
    test::LayoutBuilder b(tmp.path() / "two");
    auto one = b.add_index({{b.add_gadget_manifest({test::amd64_object()}), "amd64"}});
    auto two = b.add_index({{b.add_gadget_manifest({test::arm64_object()}), "arm64"}});
    b.add_ref(one, "v1");
    b.add_ref(two, "registry.example/gadget/x:v2");
    b.write_index_json();
    auto dir = (tmp.path() / "two").string();
    auto v2 = resolve_artifact("oci:" + dir + ":v2", {});
    ASSERT_TRUE(v2) << v2.error().describe();
    EXPECT_EQ(v2->objects[0].arch, "arm64");
    auto ambiguous = resolve_artifact("oci:" + dir, {});
    ASSERT_FALSE(ambiguous);
    EXPECT_NE(ambiguous.error().message.find("v1"), std::string::npos);
    auto missing = resolve_artifact("oci:" + dir + ":v3", {});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "ARTIFACT_NOT_FOUND");
}

TEST(Resolve, ExportedArchiveLikeIgImageExport) {
    test::TempDir tmp;
    test::build_standard_layout(tmp.path() / "img", StandardImage::MultiArch);
    auto tar = tmp.path() / "exported.tar.gz";
    test::write_tar(tar, test::entries_of_directory(tmp.path() / "img"), true);
    auto art = resolve_artifact("oci-archive:" + tar.string(), {});
    ASSERT_TRUE(art) << art.error().describe();
    EXPECT_EQ(art->objects.size(), 2u);
    auto plain = resolve_artifact(tar.string(), {}); // a bare path works too
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->image_digest, art->image_digest);
}

TEST(Resolve, DockerSaveArchive) {
    test::TempDir tmp;
    auto layer_tar = tmp.path() / "layer.tar";
    test::write_tar(
        layer_tar,
        {{"usr/share/bpf/probe.bpf.o", test::arm64_object()}, {"etc/motd", test::to_bytes("hi")}},
        false);
    auto layer = test::read_bytes(layer_tar);
    std::string diff_id = "sha256:" + test::sha256_hex(layer);
    auto config = test::to_bytes(
        R"({"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
        diff_id + R"("]}})");
    std::string config_name = test::sha256_hex(config) + ".json";
    auto manifest = test::to_bytes(R"([{"Config":")" + config_name +
                                   R"(","RepoTags":["x:latest"],"Layers":["abc/layer.tar"]}])");
    auto archive = tmp.path() / "docker.tar";
    test::write_tar(archive,
                    {{"manifest.json", manifest}, {config_name, config}, {"abc/layer.tar", layer}},
                    false);
    auto art = resolve_artifact("docker-archive:" + archive.string(), {});
    ASSERT_TRUE(art) << art.error().describe();
    ASSERT_EQ(art->objects.size(), 1u);
    EXPECT_EQ(art->objects[0].arch, "arm64");
    EXPECT_EQ(art->objects[0].name, "usr/share/bpf/probe.bpf.o");
    EXPECT_EQ(art->objects[0].layer_digest, diff_id);

    // A tampered layer no longer matches its diff_id.
    layer[600] ^= 1;
    test::write_tar(archive,
                    {{"manifest.json", manifest}, {config_name, config}, {"abc/layer.tar", layer}},
                    false);
    auto bad = resolve_artifact("docker-archive:" + archive.string(), {});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "DIGEST_MISMATCH");
}

TEST(Resolve, PlainObjectIsForEveryArch) {
    test::TempDir tmp;
    auto obj = tmp.path() / "oci_gadget.bpf.o";
    test::write_bytes(obj, test::amd64_object());
    auto art = resolve_artifact(obj.string(), {});
    ASSERT_TRUE(art) << art.error().describe();
    ASSERT_EQ(art->objects.size(), 1u);
    EXPECT_TRUE(art->objects[0].arch.empty());
    EXPECT_TRUE(art->objects_for_machine("aarch64"));
    EXPECT_TRUE(art->objects_for_machine("x86_64"));
    auto elf = tmp.path() / "not-bpf.o";
    auto bytes = test::amd64_object();
    bytes[18] = 62; // EM_X86_64
    test::write_bytes(elf, bytes);
    auto bad = resolve_artifact(elf.string(), {});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "ARTIFACT_INVALID");
}

} // namespace
} // namespace bpfleet::oci
