// resolve_artifact() (src/oci/resolve.cpp): which source an ARTIFACT
// argument names, --arch names in either spelling, and the objects a host of
// a given machine gets. The pieces it calls have their own tests
// (image_source_test, image_walker_test, docker_archive_test).
#include "bpf/object.hpp"
#include "oci/image_builder.hpp"
#include "oci/resolve.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

using test::StandardImage;

std::vector<std::string> program_names(const ResolvedObject& o) {
    auto facts = bpf::inspect_object(o.bytes, o.name);
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

TEST(Resolve, ArchFilterTakesMachineAndOciNames) {
    test::TempDir tmp;
    test::build_standard_layout(tmp.path() / "img", StandardImage::MultiArch);
    ResolveOptions o;
    o.architectures = {"aarch64", "arm64"}; // the same architecture twice
    auto art = resolve_artifact((tmp.path() / "img").string(), o);
    ASSERT_TRUE(art) << art.error().describe();
    ASSERT_EQ(art->objects.size(), 1u);
    EXPECT_EQ(art->objects[0].arch, "arm64");
    o.architectures = {"s390x"};
    auto none = resolve_artifact((tmp.path() / "img").string(), o);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "UNSUPPORTED_ARCH");
    o.architectures = {"pdp11"};
    auto unknown = resolve_artifact((tmp.path() / "img").string(), o);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, "ARTIFACT_INVALID");
    EXPECT_NE(unknown.error().message.find("pdp11"), std::string::npos);
}

TEST(Resolve, SingleArchHasNothingForOtherMachines) {
    test::TempDir tmp;
    test::build_standard_layout(tmp.path() / "single", StandardImage::SingleArch);
    auto single = resolve_artifact("oci:" + (tmp.path() / "single").string(), {});
    ASSERT_TRUE(single) << single.error().describe();
    ASSERT_EQ(single->objects.size(), 1u);
    EXPECT_TRUE(single->objects_for_machine("x86_64"));
    EXPECT_TRUE(single->objects_for_arch("amd64"));
    auto arm = single->objects_for_machine("aarch64");
    ASSERT_FALSE(arm);
    EXPECT_EQ(arm.error().code, "UNSUPPORTED_ARCH");
    auto unknown = single->objects_for_machine("pdp11");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, "UNSUPPORTED_ARCH");
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
