#include "protocol/protocol.hpp"

#include "common/json_depth.hpp"

#include <algorithm>

namespace bpfleet::protocol {

FrameReader::FrameReader(std::vector<std::string> payload_types, std::size_t max_line,
                         std::size_t max_payload)
    : m_payload_types(std::move(payload_types)), m_max_line(max_line), m_max_payload(max_payload) {}

Result<void> FrameReader::feed(std::string_view bytes) {
    if (m_failed) {
        return make_error("protocol", "the stream was already found malformed");
    }
    m_buffer.append(bytes);
    auto r = parse_available();
    if (!r) {
        m_failed = true;
    }
    return r;
}

Result<void> FrameReader::parse_available() {
    for (;;) {
        if (m_awaiting_payload) {
            if (m_buffer.size() < m_payload_size) {
                return {};
            }
            m_awaiting_payload->payload.assign(
                m_buffer.begin(), m_buffer.begin() + static_cast<std::ptrdiff_t>(m_payload_size));
            m_buffer.erase(0, m_payload_size);
            m_ready.push_back(std::move(*m_awaiting_payload));
            m_awaiting_payload.reset();
            continue;
        }
        auto nl = m_buffer.find('\n');
        if (nl == std::string::npos) {
            if (m_buffer.size() > m_max_line) {
                return make_error("protocol", "a message of more than " +
                                                  std::to_string(m_buffer.size()) +
                                                  " bytes without a line end (limit " +
                                                  std::to_string(m_max_line) + ")");
            }
            return {};
        }
        if (nl > m_max_line) {
            return make_error("protocol", "a message of " + std::to_string(nl) +
                                              " bytes, over the " + std::to_string(m_max_line) +
                                              "-byte limit");
        }
        std::string line = m_buffer.substr(0, nl);
        m_buffer.erase(0, nl + 1);
        if (!json_depth_within(line, kMaxMessageDepth)) {
            return make_error("protocol", "a message of " + std::to_string(line.size()) +
                                              " bytes nested deeper than " +
                                              std::to_string(kMaxMessageDepth) + " levels");
        }
        if (!json_values_within(line, kMaxMessageValues)) {
            return make_error("protocol", "a message of " + std::to_string(line.size()) +
                                              " bytes with more than " +
                                              std::to_string(kMaxMessageValues) + " JSON values");
        }
        Frame frame;
        frame.size = line.size();
        try {
            frame.message = Json::parse(line, nullptr, true, false);
        } catch (const std::exception& e) {
            std::string head = line.substr(0, 60);
            std::replace_if(
                head.begin(), head.end(), [](char c) { return c < 0x20 || c > 0x7e; }, '?');
            return make_error("protocol", "a line that is not JSON (" +
                                              std::to_string(line.size()) + " bytes, starting '" +
                                              head + "')");
        }
        if (!frame.message.is_object() || !frame.message.contains("type") ||
            !frame.message["type"].is_string()) {
            return make_error("protocol", "a message without a string \"type\"");
        }
        const auto type = frame.message["type"].get<std::string>();
        if (std::find(m_payload_types.begin(), m_payload_types.end(), type) !=
            m_payload_types.end()) {
            auto size = frame.message.find("size");
            if (size == frame.message.end() || !size->is_number_unsigned()) {
                return make_error("protocol", "a '" + type + "' message without a byte size");
            }
            m_payload_size = size->get<std::size_t>();
            if (m_payload_size > m_max_payload) {
                return make_error("protocol", "a '" + type + "' payload of " +
                                                  std::to_string(m_payload_size) +
                                                  " bytes, over the " +
                                                  std::to_string(m_max_payload) + "-byte limit");
            }
            m_awaiting_payload = std::move(frame);
            continue;
        }
        m_ready.push_back(std::move(frame));
    }
}

std::optional<Frame> FrameReader::next() {
    if (m_ready_pos >= m_ready.size()) {
        m_ready.clear();
        m_ready_pos = 0;
        return std::nullopt;
    }
    return std::move(m_ready[m_ready_pos++]);
}

std::string encode(const Json& message) {
    return message.dump() + "\n";
}

} // namespace bpfleet::protocol
