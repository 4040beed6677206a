#include "cli/usage_errors.hpp"

#include "common/suggest.hpp"

#include <algorithm>

namespace bpfleet::cli {
namespace {

// The subcommand the arguments chose (the deepest one CLI11 parsed), or the app.
const CLI::App* chosen(const CLI::App& app) {
    const CLI::App* current = &app;
    for (bool deeper = true; deeper;) {
        deeper = false;
        for (const CLI::App* sub : current->get_subcommands([](const CLI::App*) { return true; })) {
            if (sub->parsed()) {
                current = sub;
                deeper = true;
                break;
            }
        }
    }
    return current;
}

std::vector<std::string> option_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
        for (const CLI::Option* opt : a->get_options()) {
            for (const auto& l : opt->get_lnames()) {
                names.push_back("--" + l);
            }
            for (const auto& s : opt->get_snames()) {
                names.push_back("-" + s);
            }
        }
    }
    return names;
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        names.push_back(sub->get_name());
    }
    return names;
}

std::string command_path(const CLI::App& app) {
    std::string path;
    for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
        path = a->get_parent() == nullptr ? "bpfleet" + path : " " + a->get_name() + path;
    }
    return path;
}

} // namespace

std::vector<std::string> describe_parse_error(const CLI::App& app, const CLI::ParseError& error,
                                              const std::vector<std::string>& args) {
    const CLI::App& where = *chosen(app);
    std::vector<std::string> lines;
    const auto known = option_names(where);
    const auto commands = subcommand_names(where);
    const bool extras = dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr;
    if (extras) {
        for (const auto& arg : args) {
            if (arg == "--") {
                break;
            }
            std::string name = arg.substr(0, arg.find('='));
            if (name.size() > 1 && name.front() == '-' &&
                std::find(known.begin(), known.end(), name) == known.end()) {
                lines.push_back("unknown option '" + name + "' for '" + command_path(where) + "'" +
                                did_you_mean(name, known));
            }
        }
    }
    // A mistyped subcommand: the first word, when none was chosen (CLI11 then
    // says only that a subcommand is required, or that the word was not expected).
    if (lines.empty() && &where == &app && !args.empty() && !args.front().empty() &&
        args.front().front() != '-' &&
        std::find(commands.begin(), commands.end(), args.front()) == commands.end()) {
        lines.push_back("unknown command '" + args.front() + "'" +
                        did_you_mean(args.front(), commands));
    }
    if (lines.empty()) {
        lines.emplace_back(error.what());
    }
    lines.push_back("run '" + command_path(where) + " --help' for the options");
    return lines;
}

} // namespace bpfleet::cli
