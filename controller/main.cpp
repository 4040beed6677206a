// bpfleet: the controller. A thin main over bpfleet_controller_core: parse
// the command line, run the chosen subcommand, map errors to exit codes.

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "cli/usage_errors.hpp"
#include "logging/log.hpp"

#include <exception>
#include <spdlog/spdlog.h>
#include <utility>
#include <vector>

int main(int argc, char** argv) {
    using namespace bpfleet::cli;
    // Commands with -q/-v set their own level once parsed.
    bpfleet::logging::init(bpfleet::logging::Verbosity::Normal);
    set_command_line(argc, argv);
    CLI::App app{"bpfleet: do these eBPF programs load, attach and run on our machines?"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("bpfleet ") + BPFLEET_VERSION);

    std::vector<std::pair<CLI::App*, Action>> actions;
    auto add = [&](Action (*reg)(CLI::App&)) {
        auto before = app.get_subcommands({}).size();
        Action action = reg(app);
        auto subs = app.get_subcommands({});
        if (subs.size() > before) {
            actions.emplace_back(subs.back(), std::move(action));
        }
    };
    add(register_run);
    add(register_probe);
    add(register_version);
    add(register_inspect);
    add(register_pull);
    add(register_lab);
    add(register_report);
    add(register_btf);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) { // --help, --version
            return app.exit(e);
        }
        for (const auto& line : describe_parse_error(app, e, {argv + 1, argv + argc})) {
            spdlog::error("{}", line);
        }
        return kExitUsage;
    }
    try {
        for (auto& [sub, action] : actions) {
            if (sub->parsed()) {
                return action();
            }
        }
    } catch (const std::exception& e) {
        spdlog::error("internal error: {}", e.what());
        return kExitUsage;
    }
    return kExitUsage;
}
