#include "report/text_escape.hpp"

namespace bpfleet::report {

std::string escape(std::string_view text, const EscapeTable& table) {
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        if (const char* with = table[ch]) {
            out += with;
        } else {
            out += ch;
        }
    }
    return out;
}

} // namespace bpfleet::report
