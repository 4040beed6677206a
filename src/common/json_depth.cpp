#include "common/json_depth.hpp"

namespace bpfleet {

namespace {

// Calls `visit` with each character of `text` outside JSON strings, until it
// returns false; says whether every call returned true. Both limits below count
// structure, and a quoted '[' or ',' is not structure.
template <typename Visit> bool structural_chars_all(std::string_view text, Visit visit) {
    bool in_string = false;
    bool escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (!visit(c)) {
            return false;
        }
    }
    return true;
}

} // namespace

bool json_depth_within(std::string_view text, int limit) {
    int depth = 0;
    return structural_chars_all(text, [&](char c) {
        if (c == '{' || c == '[') {
            return ++depth <= limit;
        }
        if (c == '}' || c == ']') {
            --depth;
        }
        return true;
    });
}

bool json_values_within(std::string_view text, std::size_t limit) {
    std::size_t values = 1;
    return structural_chars_all(text, [&](char c) {
        if (c == ',' || c == '{' || c == '[') {
            return ++values <= limit;
        }
        return true;
    });
}

} // namespace bpfleet
