// ImageWalker (src/oci/image_walker.cpp) over layouts built like gadget
// images: one object per architecture, only the architectures asked for
// fetched, gadget metadata and btfgen layers picked up, and
// finish_resolution()'s verdict when nothing usable was found.
#include "bpf/object.hpp"
#include "oci/image_builder.hpp"
#include "oci/image_source.hpp"
#include "oci/image_walker.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

using test::StandardImage;

// What resolve_artifact() does for a layout directory, with `wanted` already
// in OCI names.
Result<ResolvedArtifact> walk_layout(const std::filesystem::path& dir,
                                     const std::vector<std::string>& wanted = {}) {
    DirTree tree(dir);
    LayoutSource source(tree, "");
    Descriptor root;
    TRY_ASSIGN(root, source.root());
    ResolvedArtifact out;
    ResolveOptions options;
    ImageWalker walker(source, options, out, wanted, "program.bpf.o");
    TRY(walker.walk(root, 0, root.platform));
    TRY(finish_resolution(out, wanted));
    return out;
}

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

const ResolvedObject* object_for(const ResolvedArtifact& art, const std::string& arch) {
    for (const auto& o : art.objects) {
        if (o.arch == arch) {
            return &o;
        }
    }
    return nullptr;
}

TEST(ImageWalker, MultiArchGivesOneObjectPerArch) {
    test::TempDir tmp;
    test::build_standard_layout(tmp.path() / "img", StandardImage::MultiArch);
    auto art = walk_layout(tmp.path() / "img");
    ASSERT_TRUE(art) << art.error().describe();
    ASSERT_EQ(art->objects.size(), 2u);
    ASSERT_TRUE(art->gadget);
    EXPECT_EQ(art->gadget->name, "trace_test");
    EXPECT_EQ(art->gadget->source_url, "https://example.com/trace_test");
    EXPECT_EQ(art->available_arches, (std::vector<std::string>{"amd64", "arm64"}));

    const ResolvedObject* amd64 = object_for(*art, "amd64");
    const ResolvedObject* arm64 = object_for(*art, "arm64");
    ASSERT_NE(amd64, nullptr);
    ASSERT_NE(arm64, nullptr);
    EXPECT_TRUE(has(program_names(*amd64), "enter_x86"));
    EXPECT_FALSE(has(program_names(*amd64), "enter_arm64"));
    EXPECT_TRUE(has(program_names(*arm64), "enter_arm64"));
    EXPECT_NE(amd64->manifest_digest, arm64->manifest_digest);
    EXPECT_EQ(arm64->object_sha256, test::sha256_hex(test::arm64_object()));
    EXPECT_EQ(arm64->layer_digest, "sha256:" + test::sha256_hex(test::arm64_object()));
}

TEST(ImageWalker, OnlyTheWantedArchIsFetched) {
    test::TempDir tmp;
    auto dir = tmp.path() / "img";
    test::build_standard_layout(dir, StandardImage::MultiArch);
    // Without the amd64 object the image is broken for amd64 only; asking for
    // arm64 must not notice.
    std::filesystem::remove(dir / "blobs" / "sha256" / test::sha256_hex(test::amd64_object()));
    auto all = walk_layout(dir);
    ASSERT_FALSE(all);
    EXPECT_EQ(all.error().code, "ARTIFACT_NOT_FOUND");

    auto arm = walk_layout(dir, {"arm64"});
    ASSERT_TRUE(arm) << arm.error().describe();
    ASSERT_EQ(arm->objects.size(), 1u);
    EXPECT_EQ(arm->objects[0].arch, "arm64");

    auto none = walk_layout(dir, {"s390x"});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "UNSUPPORTED_ARCH");
    EXPECT_NE(none.error().message.find("amd64, arm64"), std::string::npos) << none.error().message;
}

TEST(ImageWalker, SingleArchNoEbpfAndExtras) {
    test::TempDir tmp;
    test::build_standard_layout(tmp.path() / "single", StandardImage::SingleArch);
    auto single = walk_layout(tmp.path() / "single");
    ASSERT_TRUE(single) << single.error().describe();
    ASSERT_EQ(single->objects.size(), 1u);
    EXPECT_EQ(single->objects[0].arch, "amd64");

    test::build_standard_layout(tmp.path() / "noebpf", StandardImage::NoEbpf);
    auto noebpf = walk_layout(tmp.path() / "noebpf");
    ASSERT_FALSE(noebpf);
    EXPECT_EQ(noebpf.error().code, "NO_PROGRAM");
    EXPECT_NE(noebpf.error().message.find("this image has no eBPF program for amd64"),
              std::string::npos)
        << noebpf.error().message;

    test::build_standard_layout(tmp.path() / "extras", StandardImage::WithExtras);
    auto extras = walk_layout(tmp.path() / "extras");
    ASSERT_TRUE(extras) << extras.error().describe();
    ASSERT_EQ(extras->objects.size(), 2u);
    ASSERT_TRUE(extras->objects[0].btfgen);
    ASSERT_TRUE(extras->objects[0].btfgen->bytes);
    EXPECT_EQ(test::sha256_hex(test::amd64_object()), extras->objects[0].object_sha256);
}

TEST(ImageWalker, FinishResolutionSaysWhyNothingWasFound) {
    ResolvedArtifact empty;
    empty.spec = "oci:x";
    auto none = finish_resolution(empty, {});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "NO_PROGRAM");
    EXPECT_EQ(none.error().context, "artifact oci:x");

    empty.available_arches = {"amd64"};
    auto other = finish_resolution(empty, {"arm64"});
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, "UNSUPPORTED_ARCH");

    empty.missing.push_back({"amd64", "no layer for amd64"});
    auto missing = finish_resolution(empty, {"amd64"});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "NO_PROGRAM");
    EXPECT_EQ(missing.error().message, "no layer for amd64");

    empty.objects.emplace_back();
    EXPECT_TRUE(finish_resolution(empty, {"arm64"}));
}

} // namespace
} // namespace bpfleet::oci
