// Text from hosts and files made safe for one output format: each byte is
// kept, replaced or dropped as the format's table says. junit.xml and
// summary.md each have a table; the walk over the text is this one.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace bpfleet::report {

class EscapeTable {
public:
    // `c` becomes `with` ("" drops it).
    constexpr EscapeTable& replace(char c, const char* with) {
        m_with.at(static_cast<unsigned char>(c)) = with;
        return *this;
    }
    // Every control character (below 0x20) but those in `keep`.
    constexpr EscapeTable& replace_controls(const char* with, std::string_view keep = "") {
        for (char c = 0; c < 0x20; ++c) {
            if (keep.find(c) == std::string_view::npos) {
                replace(c, with);
            }
        }
        return *this;
    }
    // nullptr: the byte is kept as it is.
    constexpr const char* operator[](char c) const {
        return m_with.at(static_cast<unsigned char>(c));
    }

private:
    std::array<const char*, 256> m_with{};
};

std::string escape(std::string_view text, const EscapeTable& table);

} // namespace bpfleet::report
