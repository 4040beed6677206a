#include "logging/terminal_text.hpp"

#include <cstdio>

namespace bpfleet::logging {
namespace {

void hex_escape(std::string& out, const char* prefix, unsigned value) {
    char buf[12];
    std::snprintf(buf, sizeof buf, "%s%02x", prefix, value);
    out += buf;
}

// Length of the valid UTF-8 sequence at text[i] (1..4), 0 when invalid
// (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_length(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char b0 = byte(i);
    std::size_t n = 0;
    unsigned cp = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        n = 2;
        cp = b0 & 0x1fu;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        n = 3;
        cp = b0 & 0x0fu;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        n = 4;
        cp = b0 & 0x07u;
    } else {
        return 0;
    }
    if (i + n > text.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0u) != 0x80u) {
            return 0;
        }
        cp = (cp << 6) | (byte(i + k) & 0x3fu);
    }
    const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    if (overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
        return 0;
    }
    return n;
}

std::string escape(std::string_view text, bool keep_newlines) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto ch = static_cast<unsigned char>(text[i]);
        if (ch == '\n' && keep_newlines) {
            out += '\n';
            ++i;
        } else if (ch < 0x20 || ch == 0x7f) {
            hex_escape(out, "\\x", ch);
            ++i;
        } else if (ch < 0x80) {
            out += static_cast<char>(ch);
            ++i;
        } else if (const std::size_t n = utf8_length(text, i); n == 0) {
            hex_escape(out, "\\x", ch);
            ++i;
        } else if (n == 2 && ch == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
            hex_escape(out, "\\u00", static_cast<unsigned char>(text[i + 1]));
            i += 2;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

} // namespace

std::string terminal_safe(std::string_view text) {
    return escape(text, false);
}

std::string terminal_safe_lines(std::string_view text) {
    return escape(text, true);
}

} // namespace bpfleet::logging
