#include "cli/app.hpp"

#include "logging/color.hpp"

#include <string>

namespace bpfleet::cli {

std::unique_ptr<CommandLine> make_command_line() {
    auto cl = std::make_unique<CommandLine>();
    CLI::App& app = cl->app;
    app.require_subcommand(1);
    // Options of the whole program may also follow the subcommand (`bpfleet run --color=never`).
    app.fallthrough();
    app.set_version_flag(
        "--version", [] { return version_text(); },
        "Print the version (the same as `bpfleet version`) and exit");
    app.add_option_function<std::string>(
           "--color",
           [](const std::string& value) {
               if (auto mode = logging::parse_color_mode(value)) {
                   logging::set_color_mode(*mode);
               }
           },
           "Colour verdicts and errors: auto (on a terminal, unless NO_COLOR is set), always, "
           "never")
        ->check(CLI::IsMember({"auto", "always", "never", "yes", "no"}))
        ->type_name("WHEN");

    auto add = [&](Action (*reg)(CLI::App&)) {
        auto before = app.get_subcommands({}).size();
        Action action = reg(app);
        auto subs = app.get_subcommands({});
        if (subs.size() > before) {
            cl->actions.emplace_back(subs.back(), std::move(action));
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
    return cl;
}

} // namespace bpfleet::cli
