#include "output.hpp"

#include <cstdio>
#include <string>

namespace bpfleet::agent {

void write_stdout(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

void log_error(std::string_view text) {
    std::fprintf(stderr, "bpfleet-agent: %.*s\n", static_cast<int>(text.size()), text.data());
}

std::optional<int> help_or_refuse(std::string_view command, std::span<char*> args,
                                  std::string_view usage) {
    if (args.empty()) {
        return std::nullopt;
    }
    const std::string_view first = args[0];
    if (first == "-h" || first == "--help") {
        write_stdout(usage);
        return kExitOk;
    }
    log_error(std::string(command) + " takes no argument '" + std::string(first) + "'");
    std::fwrite(usage.data(), 1, usage.size(), stderr);
    return kExitUsage;
}

} // namespace bpfleet::agent
