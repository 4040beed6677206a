// The framing of every JSON-lines stream bpfleet reads: the wire protocol
// between the controller and `bpfleet-agent serve` (docs/protocol.md:
// versioned JSON lines over one byte stream, an SSH channel or a subprocess's
// pipes) and the agent's own stream from its check process to its
// supervisor. Each line is one JSON object with a string "type"; on the wire
// a "check" request line is followed by exactly `size` raw bytes: the object
// itself, so that objects never become temp files on the host.
//
// FrameReader turns bytes into frames incrementally and bounds every size (a
// line, its nesting, a payload), so that a garbled or hostile peer is an
// error, never unbounded memory or a deep recursion. The typed messages are
// in messages.hpp. Not thread-safe; one reader per stream.
#pragma once

#include "common/result.hpp"
#include "model/json_fields.hpp"

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
// JSON values in one message: a check reply with 1000 programs has about
// 60,000; parsed, a value costs tens of bytes whatever its text, so this
// bounds a message's memory to tens of MB (a log is one value).
inline constexpr std::size_t kMaxMessageValues = 250'000;

struct Frame {
    Json message;                      // has a string "type"
    std::size_t size = 0;              // bytes of the message line
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

} // namespace bpfleet::protocol
