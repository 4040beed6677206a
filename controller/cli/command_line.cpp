#include "cli/command_line.hpp"

#include "fleet/shell_quote.hpp"

#include <string_view>

namespace bpfleet::cli {
namespace {

std::vector<std::string>& stored() {
    static std::vector<std::string> args;
    return args;
}

constexpr std::string_view kHidden = "<hidden>";

// A word as a person would type it: bare when the shell leaves it alone.
std::string quoted(std::string_view word) {
    if (word.empty()) {
        return fleet::shell_quote(word);
    }
    for (char ch : word) {
        const bool safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                          (ch >= '0' && ch <= '9') ||
                          std::string_view("_./:=@%+,-").find(ch) != std::string_view::npos;
        if (!safe) {
            return fleet::shell_quote(word);
        }
    }
    return std::string(word);
}

} // namespace

void set_command_line(int argc, char** argv) {
    auto& args = stored();
    args.clear();
    bool hide_next = false;
    for (int i = 0; i < argc; ++i) {
        std::string arg = argv[i] == nullptr ? std::string() : std::string(argv[i]);
        if (hide_next) {
            arg = kHidden;
            hide_next = false;
        } else if (arg == "--creds") {
            hide_next = true;
        } else if (arg.rfind("--creds=", 0) == 0) {
            arg = "--creds=" + std::string(kHidden);
        }
        args.push_back(std::move(arg));
    }
}

const std::vector<std::string>& command_line() {
    return stored();
}

std::string resume_command(const std::string& journal) {
    std::string out;
    const auto& args = stored();
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--resume") {
            ++i; // and its value
            continue;
        }
        if (args[i].rfind("--resume=", 0) == 0) {
            continue;
        }
        out += (out.empty() ? "" : " ") + quoted(args[i]);
    }
    return out + " --resume " + quoted(journal);
}

} // namespace bpfleet::cli
