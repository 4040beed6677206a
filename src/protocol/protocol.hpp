// The wire protocol between the controller and `bpfleet-agent serve`
// (docs/protocol.md): versioned JSON lines over one byte stream (an SSH
// channel or a subprocess's pipes). A "check" request line is followed by
// exactly `size` raw bytes: the object itself, so that objects never become
// temp files on the host.
//
// FrameReader turns bytes into frames incrementally and bounds every size, so
// that a garbled or hostile peer is an error, never unbounded memory.
// Not thread-safe; one reader per stream.
#pragma once

#include "common/result.hpp"
#include "model/check_result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::protocol {

inline constexpr int kVersion = 1;
inline constexpr std::size_t kDefaultMaxLine = 64u << 20;    // one JSON message
inline constexpr std::size_t kDefaultMaxPayload = 64u << 20; // one object
// Nesting of one message (a check reply carries a report: about 8 levels).
inline constexpr int kMaxMessageDepth = 64;

struct Frame {
    Json message;                      // has a string "type"
    std::vector<std::uint8_t> payload; // the raw bytes announced by "size", if any
};

class FrameReader {
public:
    // `payload_types`: message types whose "size" field announces raw bytes.
    explicit FrameReader(std::vector<std::string> payload_types = {"check"},
                         std::size_t max_line = kDefaultMaxLine,
                         std::size_t max_payload = kDefaultMaxPayload);

    // Feeds bytes; complete frames become available through next().
    Result<void> feed(std::string_view bytes);
    // The next complete frame, if any.
    std::optional<Frame> next();
    // Bytes received but not yet part of a complete frame.
    std::size_t pending() const { return m_buffer.size(); }

private:
    Result<void> parse_available();

    std::vector<std::string> m_payload_types;
    std::size_t m_max_line;
    std::size_t m_max_payload;
    std::string m_buffer;
    std::optional<Frame> m_awaiting_payload;
    std::size_t m_payload_size = 0;
    std::vector<Frame> m_ready;
    std::size_t m_ready_pos = 0;
    bool m_failed = false;
};

// One JSON line.
std::string encode(const Json& message);

struct CheckOptions {
    bool load_only = false;
    bool fire = true;
    unsigned timeout_seconds = 120;
    std::uint64_t log_cap = 1 << 20;
    std::string fixups_toml; // empty: none
};

void to_json(Json& j, const CheckOptions& o);
void from_json(const Json& j, CheckOptions& o);

// A "check" request line (without the payload that follows it).
Json check_request(std::uint64_t id, const std::string& name, std::size_t size,
                   const std::string& sha256, const CheckOptions& options);

} // namespace bpfleet::protocol
