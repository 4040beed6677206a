// bpfleet: the controller. A thin main over bpfleet_controller_core: parse
// the command line (cli/app.hpp), run the chosen subcommand, map errors to
// exit codes.

#include "cli/app.hpp"
#include "cli/command_line.hpp"
#include "cli/usage_errors.hpp"
#include "logging/log.hpp"

#include <exception>
#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
    using namespace bpfleet::cli;
    // Commands with -q/-v set their own level once parsed.
    bpfleet::logging::init(bpfleet::logging::Verbosity::Normal);
    set_command_line(argc, argv);
    auto cl = make_command_line();
    CLI::App& app = cl->app;
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
        for (auto& [sub, action] : cl->actions) {
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
