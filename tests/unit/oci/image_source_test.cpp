// The image sources of src/oci/image_source.cpp over local trees: reading a
// layout directory or an archive held in memory, choosing the image by tag
// in index.json, and refusing blobs that are missing, oversized or do not
// match their descriptor. The registry source is exercised against a real
// registry in tests/integration/oci/registry_test.cpp.
#include "oci/image_builder.hpp"
#include "oci/image_source.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

Descriptor descriptor_of(const test::BlobRef& ref) {
    Descriptor d;
    d.media_type = ref.media_type;
    auto digest = parse_digest(ref.digest);
    EXPECT_TRUE(digest) << ref.digest;
    if (digest) {
        d.digest = *digest;
    }
    d.size = ref.size;
    return d;
}

TEST(ImageSource, DirTreeAndArchiveTreeReadTheSameFiles) {
    test::TempDir tmp;
    test::write_bytes(tmp.path() / "dir" / "a.txt", test::to_bytes("hello"));
    test::write_tar(tmp.path() / "t.tar", test::entries_of_directory(tmp.path() / "dir"), false);
    auto contents = read_archive_file((tmp.path() / "t.tar").string());
    ASSERT_TRUE(contents) << contents.error().describe();

    DirTree dir(tmp.path() / "dir");
    ArchiveTree archive(*contents, "t.tar");
    for (FileTree* tree : {static_cast<FileTree*>(&dir), static_cast<FileTree*>(&archive)}) {
        SCOPED_TRACE(tree->describe());
        auto got = tree->read("a.txt", 100);
        ASSERT_TRUE(got) << got.error().describe();
        ASSERT_TRUE(got->has_value());
        EXPECT_EQ(**got, test::to_bytes("hello"));

        auto none = tree->read("b.txt", 100);
        ASSERT_TRUE(none);
        EXPECT_FALSE(none->has_value());

        auto big = tree->read("a.txt", 4);
        ASSERT_FALSE(big);
        EXPECT_EQ(big.error().code, "LIMIT_EXCEEDED");
    }
    EXPECT_EQ(dir.describe(), "layout " + (tmp.path() / "dir").string());
    EXPECT_EQ(archive.describe(), "archive t.tar");
}

TEST(ImageSource, LayoutRootIsChosenByTag) {
    test::TempDir tmp;
    test::LayoutBuilder b(tmp.path() / "two");
    auto one = b.add_index({{b.add_gadget_manifest({test::amd64_object()}), "amd64"}});
    auto two = b.add_index({{b.add_gadget_manifest({test::arm64_object()}), "arm64"}});
    b.add_ref(one, "v1");
    b.add_ref(two, "registry.example/gadget/x:v2");
    b.write_index_json();
    DirTree tree(tmp.path() / "two");

    LayoutSource v2(tree, "v2"); // matches the end of a full reference
    auto root = v2.root();
    ASSERT_TRUE(root) << root.error().describe();
    EXPECT_EQ(root->digest.str(), two.digest);

    LayoutSource v1(tree, "v1");
    root = v1.root();
    ASSERT_TRUE(root) << root.error().describe();
    EXPECT_EQ(root->digest.str(), one.digest);

    LayoutSource untagged(tree, "");
    auto ambiguous = untagged.root();
    ASSERT_FALSE(ambiguous);
    EXPECT_EQ(ambiguous.error().code, "ARTIFACT_INVALID");
    EXPECT_NE(ambiguous.error().message.find("v1"), std::string::npos);

    LayoutSource v3(tree, "v3");
    auto missing = v3.root();
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "ARTIFACT_NOT_FOUND");
    EXPECT_NE(missing.error().message.find("v3"), std::string::npos);
}

TEST(ImageSource, NotALayout) {
    test::TempDir tmp;
    test::write_text(tmp.path() / "index.json", "{}");
    DirTree tree(tmp.path());
    LayoutSource source(tree, "");
    auto root = source.root();
    ASSERT_FALSE(root);
    EXPECT_EQ(root.error().code, "ARTIFACT_INVALID");
    EXPECT_NE(root.error().message.find("oci-layout"), std::string::npos);
}

TEST(ImageSource, LayoutFetchChecksEveryBlob) {
    test::TempDir tmp;
    test::LayoutBuilder b(tmp.path() / "img");
    auto blob = b.add_blob(test::to_bytes("some layer bytes"), "application/octet-stream");
    b.add_ref(blob, "latest");
    b.write_index_json();
    DirTree tree(tmp.path() / "img");
    LayoutSource source(tree, "latest");
    Descriptor d = descriptor_of(blob);

    auto good = source.fetch(d, false, 1024, "layer");
    ASSERT_TRUE(good) << good.error().describe();
    EXPECT_EQ(*good, test::to_bytes("some layer bytes"));

    auto over = source.fetch(d, false, 4, "layer");
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, "LIMIT_EXCEEDED");

    Descriptor wrong_size = d;
    wrong_size.size += 1;
    auto size = source.fetch(wrong_size, false, 1024, "layer");
    ASSERT_FALSE(size);
    EXPECT_EQ(size.error().code, "DIGEST_MISMATCH");

    auto path = tmp.path() / "img" / "blobs" / d.digest.algorithm / d.digest.hex;
    test::write_bytes(path, test::to_bytes("some layer bytez"));
    auto tampered = source.fetch(d, false, 1024, "layer");
    ASSERT_FALSE(tampered);
    EXPECT_EQ(tampered.error().code, "DIGEST_MISMATCH");
    EXPECT_NE(tampered.error().context.find("layer"), std::string::npos);

    std::filesystem::remove(path);
    auto gone = source.fetch(d, false, 1024, "layer");
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, "ARTIFACT_NOT_FOUND");
}

// A layout whose blob is a link to a file outside it (blobs/sha256/X ->
// /etc/shadow) was read: the error then printed the target's digest and size.
TEST(ImageSource, LayoutLinksAreNotFollowed) {
    test::TempDir tmp;
    test::LayoutBuilder b(tmp.path() / "img");
    auto blob = b.add_blob(test::to_bytes("some layer bytes"), "application/octet-stream");
    b.add_ref(blob, "latest");
    b.write_index_json();
    Descriptor d = descriptor_of(blob);
    const auto secret = tmp.path() / "secret";
    test::write_bytes(secret, test::to_bytes("root:$6$hash:19000:0:99999:7:::\n"));
    const auto blob_path = tmp.path() / "img" / "blobs" / d.digest.algorithm / d.digest.hex;
    std::filesystem::remove(blob_path);
    std::filesystem::create_symlink(secret, blob_path);

    DirTree tree(tmp.path() / "img");
    LayoutSource source(tree, "latest");
    auto linked = source.fetch(d, false, 1024, "layer");
    ASSERT_FALSE(linked);
    EXPECT_EQ(linked.error().code, "ARTIFACT_INVALID");
    EXPECT_NE(linked.error().message.find("symbolic link"), std::string::npos)
        << linked.error().describe();
    // Nothing about the target: not its size, not its digest.
    EXPECT_EQ(linked.error().describe().find("differs"), std::string::npos);

    // A linked folder on the way is refused the same way.
    std::filesystem::remove(blob_path);
    test::write_bytes(tmp.path() / "elsewhere" / d.digest.hex, test::to_bytes("some layer bytes"));
    std::filesystem::remove_all(tmp.path() / "img" / "blobs" / d.digest.algorithm);
    std::filesystem::create_symlink(tmp.path() / "elsewhere",
                                    tmp.path() / "img" / "blobs" / d.digest.algorithm);
    auto folder = tree.read("blobs/" + d.digest.algorithm + "/" + d.digest.hex, 1024);
    ASSERT_FALSE(folder);
    EXPECT_NE(folder.error().message.find("symbolic link"), std::string::npos);

    // The root itself is what the user named: a link to a layout is fine.
    std::filesystem::create_symlink(tmp.path() / "img", tmp.path() / "img-link");
    DirTree via_link(tmp.path() / "img-link");
    auto index = via_link.read("index.json", 1 << 20);
    ASSERT_TRUE(index) << index.error().describe();
    EXPECT_TRUE(index->has_value());
}

} // namespace
} // namespace bpfleet::oci
