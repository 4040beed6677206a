#include "output.hpp"

#include <cstdio>

namespace bpfleet::agent {

void write_stdout(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

void log_error(std::string_view text) {
    std::fprintf(stderr, "bpfleet-agent: %.*s\n", static_cast<int>(text.size()), text.data());
}

} // namespace bpfleet::agent
