// bpfleet-docgen: run by the build (not installed) to write the man pages and
// shell completions of bpfleet and bpfleet-agent from their command lines
// (cli/cli_docs.hpp).
//
//   bpfleet-docgen OUT_DIR AGENT DATE
//
// writes OUT_DIR/man/bpfleet.1, man/bpfleet-agent.1, bash/bpfleet,
// bash/bpfleet-agent, zsh/_bpfleet and zsh/_bpfleet-agent.

#include "cli/app.hpp"
#include "cli/cli_docs.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace {

namespace fs = std::filesystem;

// What `agent ARGS` prints on stdout (its help texts); "" when it cannot run.
std::string output_of(const std::string& agent, const std::string& args) {
    std::string out;
    if (FILE* p = ::popen(("'" + agent + "' " + args + " 2>/dev/null").c_str(), "r")) {
        char buf[4096];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
            out.append(buf, n);
        }
        if (::pclose(p) != 0) {
            out.clear();
        }
    }
    return out;
}

bool write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
        std::fprintf(stderr, "bpfleet-docgen: cannot write %s\n", path.c_str());
        return false;
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fputs("usage: bpfleet-docgen OUT_DIR AGENT DATE\n", stderr);
        return 2;
    }
    const fs::path out = argv[1];
    const std::string agent = argv[2];
    const std::string date = argv[3];
    auto cl = bpfleet::cli::make_command_line();
    const CLI::App& app = cl->app;

    const std::string usage = output_of(agent, "help");
    std::map<std::string, std::string> commands;
    for (const char* command : {"check", "probe", "serve", "version"}) {
        commands[command] = output_of(agent, std::string(command) + " --help");
        if (commands[command].empty()) {
            std::fprintf(stderr, "bpfleet-docgen: '%s %s --help' printed nothing\n", agent.c_str(),
                         command);
            return 1;
        }
    }
    using namespace bpfleet::cli;
    const bool ok = write(out / "man/bpfleet.1", man_page(app, date)) &&
                    write(out / "man/bpfleet-agent.1", agent_man_page(usage, commands, date)) &&
                    write(out / "bash/bpfleet", bash_completion(app)) &&
                    write(out / "bash/bpfleet-agent", agent_bash_completion(commands)) &&
                    write(out / "zsh/_bpfleet", zsh_completion(app)) &&
                    write(out / "zsh/_bpfleet-agent", agent_zsh_completion(commands));
    return ok ? 0 : 1;
}
