#include "oci/digest.hpp"

#include <openssl/evp.h>

namespace bpfleet::oci {

struct DigestHasher::Context {
    struct Deleter {
        void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
    };
    std::unique_ptr<EVP_MD_CTX, Deleter> ctx;
};

Result<Digest> parse_digest(std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        return make_error("DIGEST_INVALID", "not a digest (want sha256:<hex>): '" +
                                                std::string(text.substr(0, 200)) + "'");
    }
    std::string_view alg = text.substr(0, colon);
    std::string_view hex = text.substr(colon + 1);
    std::size_t want = 0;
    if (alg == "sha256") {
        want = 64;
    } else if (alg == "sha512") {
        want = 128;
    } else {
        return make_error("DIGEST_INVALID", "unsupported digest algorithm '" +
                                                std::string(alg.substr(0, 40)) +
                                                "' (sha256 and sha512 are checked)");
    }
    if (hex.size() != want) {
        return make_error("DIGEST_INVALID", "digest '" + std::string(text.substr(0, 200)) +
                                                "' has " + std::to_string(hex.size()) +
                                                " hex digits, want " + std::to_string(want));
    }
    for (char c : hex) {
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        if (!ok) {
            return make_error("DIGEST_INVALID", "digest '" + std::string(text.substr(0, 200)) +
                                                    "' is not lowercase hex");
        }
    }
    return Digest{std::string(alg), std::string(hex)};
}

DigestHasher::DigestHasher(std::string_view algorithm)
    : m_ctx(std::make_unique<Context>()), m_algorithm(algorithm == "sha512" ? "sha512" : "sha256") {
    m_ctx->ctx.reset(EVP_MD_CTX_new());
    if (!m_ctx->ctx) {
        throw std::bad_alloc();
    }
    const EVP_MD* md = m_algorithm == "sha512" ? EVP_sha512() : EVP_sha256();
    if (EVP_DigestInit_ex(m_ctx->ctx.get(), md, nullptr) != 1) {
        throw std::runtime_error("EVP_DigestInit_ex failed");
    }
}

DigestHasher::DigestHasher(DigestHasher&&) noexcept = default;
DigestHasher& DigestHasher::operator=(DigestHasher&&) noexcept = default;
DigestHasher::~DigestHasher() = default;

void DigestHasher::update(std::span<const std::uint8_t> data) {
    if (!data.empty()) {
        EVP_DigestUpdate(m_ctx->ctx.get(), data.data(), data.size());
    }
}

Digest DigestHasher::finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(m_ctx->ctx.get(), out, &len);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        hex.push_back(kDigits[out[i] >> 4]);
        hex.push_back(kDigits[out[i] & 0xf]);
    }
    return Digest{m_algorithm, hex};
}

Digest sha256_digest(std::span<const std::uint8_t> data) {
    DigestHasher h("sha256");
    h.update(data);
    return h.finish();
}

Digest sha256_digest(std::string_view data) {
    return sha256_digest(
        std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

Result<void> verify_digest(std::span<const std::uint8_t> data, const Digest& expected,
                           std::string_view what) {
    DigestHasher h(expected.algorithm);
    h.update(data);
    Digest got = h.finish();
    if (got != expected) {
        return make_error("DIGEST_MISMATCH",
                          "content does not match its digest: expected " + expected.str() +
                              ", got " + got.str(),
                          0, std::string(what));
    }
    return {};
}

} // namespace bpfleet::oci
