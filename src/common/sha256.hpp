// Streaming SHA-256 (FIPS 180-4). Small and dependency-free so that the static
// agent can hash objects without OpenSSL. Not thread-safe per instance.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bpfleet {

class Sha256 {
public:
    Sha256();
    void update(std::span<const std::uint8_t> data);
    void update(std::string_view data);
    // Finish and return the 32-byte digest; the object must not be updated after.
    std::array<std::uint8_t, 32> finish();
    // Finish and return the lowercase hex digest.
    std::string finish_hex();

    static std::string hex_of(std::span<const std::uint8_t> data);
    static std::string hex_of(std::string_view data);

private:
    void compress(const std::uint8_t* block);

    std::array<std::uint32_t, 8> m_state;
    std::array<std::uint8_t, 64> m_buffer{};
    std::size_t m_buffered = 0;
    std::uint64_t m_total_bytes = 0;
};

std::string to_hex(std::span<const std::uint8_t> bytes);

} // namespace bpfleet
