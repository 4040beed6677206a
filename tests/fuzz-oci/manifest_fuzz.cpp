// Fuzzes the parsers of registry answers: image manifests and indexes,
// signature detection, gadget config YAML, WWW-Authenticate challenges,
// references and digests. None may crash, hang or grow without bound.
#include "oci/digest.hpp"
#include "oci/manifest.hpp"
#include "oci/reference.hpp"
#include "oci/registry_client.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace bpfleet::oci;
    std::span<const std::uint8_t> bytes(data, size);
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto doc = parse_image_document(bytes, size % 2 ? media_type::kOciIndex : std::string_view{});
    if (doc && doc->index) {
        for (const auto& d : doc->index->manifests) {
            (void)is_signature_descriptor(d);
        }
    }
    if (doc && doc->manifest) {
        (void)is_signature_manifest(*doc->manifest);
    }
    (void)parse_gadget_config(text);
    (void)parse_www_authenticate(text);
    (void)parse_registry_reference(text, size % 3 == 0);
    (void)parse_digest(text);
    return 0;
}
