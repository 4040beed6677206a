#include "oci/digest.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

TEST(Digest, ParsesSha256AndSha512) {
    auto a = parse_digest("sha256:" + std::string(64, '0'));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->algorithm, "sha256");
    auto b = parse_digest("sha512:" + std::string(128, 'f'));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->str(), "sha512:" + std::string(128, 'f'));
}

TEST(Digest, RejectsMalformed) {
    for (std::string bad :
         {std::string("sha256"), "sha256:" + std::string(63, '0'), "sha256:" + std::string(64, 'G'),
          "sha256:" + std::string(64, 'A'), "md5:" + std::string(32, '0'),
          "sha256:../../" + std::string(58, '0')}) {
        auto d = parse_digest(bad);
        EXPECT_FALSE(d) << bad;
        if (!d) {
            EXPECT_EQ(d.error().code, "DIGEST_INVALID");
        }
    }
}

TEST(Digest, KnownVectors) {
    EXPECT_EQ(sha256_digest(std::string_view("abc")).hex,
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    DigestHasher h("sha512");
    std::string abc = "abc";
    h.update(std::span(reinterpret_cast<const std::uint8_t*>(abc.data()), abc.size()));
    EXPECT_TRUE(h.finish().hex.starts_with("ddaf35a193617aba"));
}

TEST(Digest, VerifyNamesTheBlob) {
    std::vector<std::uint8_t> data{1, 2, 3};
    auto good = sha256_digest(data);
    EXPECT_TRUE(verify_digest(data, good, "blob x"));
    data[0] = 9;
    auto bad = verify_digest(data, good, "blob x");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "DIGEST_MISMATCH");
    EXPECT_EQ(bad.error().context, "blob x");
}

} // namespace
} // namespace bpfleet::oci
