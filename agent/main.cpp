// bpfleet-agent: loads eBPF objects on the kernel it runs on and reports a
// verdict per program. See docs/architecture.md and docs/report-schema.md.
// This file only dispatches to the commands (commands.hpp); nothing includes it.

#include "commands.hpp"
#include "common/suggest.hpp"
#include "output.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

namespace {

constexpr const char* kUsage =
    "usage: bpfleet-agent <command> [options]\n"
    "\n"
    "commands:\n"
    "  check     load every program of a BPF object and report a verdict per program\n"
    "  serve     speak the controller protocol on stdin/stdout (used by bpfleet run)\n"
    "  probe     print the host's facts and BPF feature fingerprint (bpfleet.probe/v1)\n"
    "  version   print the agent's version, libbpf version, architecture and build id\n"
    "\n"
    "Run 'bpfleet-agent COMMAND --help' for a command's options.\n";

} // namespace

int main(int argc, char** argv) {
    using namespace bpfleet::agent;
    if (argc < 2) {
        std::fputs(kUsage, stderr);
        return kExitUsage;
    }
    std::string_view command = argv[1];
    const std::span<char*> args(argv + 2, static_cast<std::size_t>(argc - 2));
    try {
        if (command == "check") {
            return run_check(args);
        }
        if (command == "serve") {
            return run_serve(args);
        }
        if (command == "probe") {
            return run_probe(args);
        }
        if (command == "version" || command == "--version") {
            return run_version(args);
        }
        if (command == "help" || command == "--help" || command == "-h") {
            std::fputs(kUsage, stdout);
            return kExitOk;
        }
    } catch (const std::exception& e) {
        log_error(std::string("internal error: ") + e.what());
        return kExitUsage;
    }
    log_error("unknown command '" + std::string(command) + "'" +
              bpfleet::did_you_mean(command, {"check", "serve", "probe", "version", "help"}));
    std::fputs(kUsage, stderr);
    return kExitUsage;
}
