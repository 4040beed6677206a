#include "inventory/glob.hpp"

namespace bpfleet::inventory {

bool glob_match(std::string_view pattern, std::string_view text) {
    // Iterative matcher with one backtrack point: linear in practice, no
    // recursion, so hostile patterns such as "*a*a*a*b" can't blow the stack.
    std::size_t p = 0;
    std::size_t t = 0;
    std::size_t star = std::string_view::npos;
    std::size_t star_text = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            star_text = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++star_text;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') {
        ++p;
    }
    return p == pattern.size();
}

bool has_glob(std::string_view text) {
    return text.find_first_of("*?") != std::string_view::npos;
}

} // namespace bpfleet::inventory
