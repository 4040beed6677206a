#include "fleet/shell_quote.hpp"

namespace bpfleet::fleet {

std::string shell_quote(std::string_view word) {
    std::string out = "'";
    for (char ch : word) {
        if (ch == '\'') {
            out += "'\\''";
        } else {
            out += ch;
        }
    }
    out += "'";
    return out;
}

} // namespace bpfleet::fleet
