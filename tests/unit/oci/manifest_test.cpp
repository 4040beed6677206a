#include "oci/manifest.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

std::vector<std::uint8_t> bytes(const std::string& s) {
    return {s.begin(), s.end()};
}
const std::string kD = "sha256:" + std::string(64, 'a');

TEST(Manifest, GadgetManifestWithoutMediaType) {
    auto doc = parse_image_document(
        bytes(R"({"schemaVersion":2,"artifactType":"application/vnd.gadget.v1+binary",
        "config":{"mediaType":"application/vnd.gadget.config.v1+yaml","digest":")" +
              kD + R"(","size":10},
        "layers":[{"mediaType":"application/vnd.gadget.ebpf.program.v1+binary","digest":")" +
              kD + R"(","size":5}]})"));
    ASSERT_TRUE(doc) << doc.error().describe();
    ASSERT_TRUE(doc->manifest);
    EXPECT_TRUE(doc->manifest->media_type.empty());
    EXPECT_EQ(doc->manifest->artifact_type, media_type::kGadgetArtifact);
    ASSERT_EQ(doc->manifest->layers.size(), 1u);
    EXPECT_EQ(doc->manifest->layers[0].size, 5u);
}

TEST(Manifest, IndexWithPlatforms) {
    auto doc = parse_image_document(bytes(R"({"schemaVersion":2,"manifests":[
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                                          kD + R"(","size":1,
         "platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]})"));
    ASSERT_TRUE(doc);
    ASSERT_TRUE(doc->index);
    ASSERT_TRUE(doc->index->manifests[0].platform);
    EXPECT_EQ(doc->index->manifests[0].platform->architecture, "arm64");
}

TEST(Manifest, RefusesBadDocuments) {
    std::vector<std::string> bad = {
        "",
        "null",
        "[]",
        "{",
        R"({"schemaVersion":1,"fsLayers":[]})",
        R"({"schemaVersion":2})",
        R"({"manifests":[{"digest":"sha256:zz","size":1}]})",
        R"({"manifests":[{"digest":")" + kD + R"(","size":-1}]})",
        R"({"manifests":[{"digest":")" + kD + R"(","size":1.5}]})",
        R"({"config":{"digest":")" + kD + R"("}})",
        R"({"config":{"digest":")" + kD + R"(","size":1},"layers":{}})",
        R"({"manifests":[],"layers":[]})",
        std::string(40, '[') + std::string(40, ']'),
        R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":"x"})"};
    for (const auto& b : bad) {
        auto doc = parse_image_document(bytes(b));
        EXPECT_FALSE(doc) << b;
        if (!doc) {
            EXPECT_EQ(doc.error().code, "MANIFEST_INVALID");
        }
    }
}

TEST(Manifest, SizeLimit) {
    std::string huge = R"({"manifests":[],"x":")" + std::string(kMaxManifestBytes, 'a') + "\"}";
    auto doc = parse_image_document(bytes(huge));
    ASSERT_FALSE(doc);
    EXPECT_NE(doc.error().message.find("limit"), std::string::npos);
}

TEST(Manifest, SignatureDetection) {
    Descriptor cosign;
    cosign.annotations["org.opencontainers.image.ref.name"] = "sha256-abc.sig";
    EXPECT_TRUE(is_signature_descriptor(cosign));
    Descriptor att;
    att.platform = Platform{"unknown", "unknown", ""};
    EXPECT_TRUE(is_signature_descriptor(att));
    Descriptor notation;
    notation.artifact_type = "application/vnd.cncf.notary.signature";
    EXPECT_TRUE(is_signature_descriptor(notation));
    Descriptor plain;
    plain.platform = Platform{"linux", "amd64", ""};
    EXPECT_FALSE(is_signature_descriptor(plain));
    ImageManifest referrer;
    referrer.subject = Descriptor{};
    EXPECT_TRUE(is_signature_manifest(referrer));
}

TEST(Manifest, GadgetConfigYaml) {
    auto meta =
        parse_gadget_config("name: trace_exec\ndescription: \"trace exec\"\n"
                            "sourceURL: https://github.com/x\nebpfParams:\n  name: nested\n");
    EXPECT_EQ(meta.name, "trace_exec");
    EXPECT_EQ(meta.description, "trace exec");
    EXPECT_EQ(meta.source_url, "https://github.com/x");
}

} // namespace
} // namespace bpfleet::oci
