#include "cli/cli_docs.hpp"

#include <sstream>
#include <vector>

namespace bpfleet::cli {
namespace {

// One subcommand as the completions and the man page see it.
struct Command {
    std::string path; // "run", "report diff"; "" for the program itself
    const CLI::App* app = nullptr;
};

std::vector<Command> commands_of(const CLI::App& app) {
    std::vector<Command> out{{"", &app}};
    for (std::size_t i = 0; i < out.size(); ++i) {
        const Command parent = out[i];
        for (const CLI::App* sub : parent.app->get_subcommands({})) {
            if (sub->get_group().empty()) {
                continue; // hidden
            }
            out.push_back(
                {parent.path.empty() ? sub->get_name() : parent.path + " " + sub->get_name(), sub});
        }
    }
    return out;
}

std::vector<const CLI::Option*> options_of(const CLI::App& app) {
    std::vector<const CLI::Option*> out;
    for (const CLI::Option* opt : app.get_options({})) {
        if (opt->nonpositional() && !opt->get_group().empty()) {
            out.push_back(opt);
        }
    }
    return out;
}

// A command's options, and for a subcommand also the program's own that may
// follow it (--color: the app falls through), but not its --help/--version.
std::vector<const CLI::Option*> with_global_options(const CLI::App& app, const Command& c) {
    std::vector<const CLI::Option*> out = options_of(*c.app);
    if (!c.path.empty()) {
        for (const CLI::Option* o : options_of(app)) {
            if (o != app.get_help_ptr() && o != app.get_version_ptr()) {
                out.push_back(o);
            }
        }
    }
    return out;
}

std::vector<std::string> names_of(const CLI::Option& opt) {
    std::vector<std::string> out;
    for (const auto& s : opt.get_snames()) {
        out.push_back("-" + s);
    }
    for (const auto& l : opt.get_lnames()) {
        out.push_back("--" + l);
    }
    return out;
}

bool takes_value(const CLI::Option& opt) {
    return opt.get_items_expected_min() > 0;
}

// The fixed set of values an option takes ({auto,always,never}), if any.
std::vector<std::string> choices_of(const CLI::Option& opt) {
    std::vector<std::string> out;
    try {
        for (int i = 0;; ++i) {
            const CLI::Validator* v = const_cast<CLI::Option&>(opt).get_validator(i);
            std::string d = v->get_description();
            if (d.size() > 2 && d.front() == '{' && d.back() == '}') {
                std::string item;
                std::istringstream in(d.substr(1, d.size() - 2));
                while (std::getline(in, item, ',')) {
                    out.push_back(item);
                }
                return out;
            }
        }
    } catch (const CLI::OptionNotFound&) {
    }
    return out;
}

std::string first_sentence(const std::string& text) {
    std::string s = text.substr(0, text.find(". "));
    if (auto paren = s.find(" ("); paren != std::string::npos && paren > 20) {
        s = s.substr(0, paren);
    }
    if (s.size() > 70) {
        s = s.substr(0, 67) + "...";
    }
    return s;
}

std::string join(const std::vector<std::string>& items, std::string_view sep = " ") {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : std::string(sep)) + i;
    }
    return out;
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
    std::vector<std::string> out;
    for (const CLI::App* sub : app.get_subcommands({})) {
        if (!sub->get_group().empty()) {
            out.push_back(sub->get_name());
        }
    }
    return out;
}

// man(7) text: backslashes and leading dots/quotes made literal, '-' as \-.
std::string roff(std::string_view text) {
    std::string out;
    bool line_start = true;
    for (char c : text) {
        if (line_start && (c == '.' || c == '\'')) {
            out += "\\&";
        }
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else {
            out += c;
        }
        line_start = c == '\n';
    }
    return out;
}

// Single-quoted for a shell script.
std::string sq(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

// The body shared by both shells' scripts: find the subcommand path among
// the words before the cursor.
std::string path_cases(const std::vector<Command>& commands) {
    std::string out;
    for (const auto& c : commands) {
        if (!c.path.empty()) {
            out += "            " + sq(" " + c.path) + ") path=\"$path $w\" ;;\n";
        }
    }
    return out;
}

} // namespace

std::string bash_completion(const CLI::App& app) {
    const auto commands = commands_of(app);
    std::ostringstream s;
    s << "# bash completion for bpfleet. Generated from its command line at build time;\n"
         "# do not edit.\n"
         "_bpfleet() {\n"
         "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
         "    local path=\"\" w i\n"
         "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "        w=${COMP_WORDS[i]}\n"
         "        case \"$path $w\" in\n"
      << path_cases(commands)
      << "        esac\n"
         "    done\n"
         "    local subs=\"\" opts=\"\" valued=\"\"\n"
         "    case \"$path\" in\n";
    for (const auto& c : commands) {
        std::vector<std::string> opts;
        std::vector<std::string> valued;
        for (const CLI::Option* o : with_global_options(app, c)) {
            for (const auto& n : names_of(*o)) {
                opts.push_back(n);
                if (takes_value(*o)) {
                    valued.push_back(n);
                }
            }
        }
        s << "    " << sq(c.path.empty() ? "" : " " + c.path) << ")\n"
          << "        subs=" << sq(join(subcommand_names(*c.app))) << "\n"
          << "        opts=" << sq(join(opts)) << "\n"
          << "        valued=" << sq(" " + join(valued) + " ") << " ;;\n";
    }
    s << "    esac\n"
         "    if [[ $valued == *\" $prev \"* ]]; then\n"
         "        case \"$prev\" in\n";
    std::map<std::string, std::string> choice_cases;
    for (const auto& c : commands) {
        for (const CLI::Option* o : options_of(*c.app)) {
            const auto choices = choices_of(*o);
            if (!choices.empty()) {
                for (const auto& n : names_of(*o)) {
                    choice_cases[n] = join(choices);
                }
            }
        }
    }
    for (const auto& [name, words] : choice_cases) {
        s << "        " << name << ") COMPREPLY=($(compgen -W " << sq(words)
          << " -- \"$cur\")) ;;\n";
    }
    s << "        *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
         "        esac\n"
         "        return\n"
         "    fi\n"
         "    if [[ $cur == -* ]]; then\n"
         "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
         "    elif [[ -n $subs ]]; then\n"
         "        COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
         "    else\n"
         "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "    fi\n"
         "}\n"
         "complete -o filenames -F _bpfleet bpfleet\n";
    return s.str();
}

std::string zsh_completion(const CLI::App& app) {
    const auto commands = commands_of(app);
    std::ostringstream s;
    s << "#compdef bpfleet\n"
         "# zsh completion for bpfleet. Generated from its command line at build time;\n"
         "# do not edit.\n"
         "_bpfleet() {\n"
         "    local path=\"\" w\n"
         "    local -a subs opts valued\n"
         "    local i\n"
         "    for ((i = 2; i < CURRENT; i++)); do\n"
         "        w=${words[i]}\n"
         "        case \"$path $w\" in\n"
      << path_cases(commands)
      << "        esac\n"
         "    done\n"
         "    case \"$path\" in\n";
    auto escape = [](std::string text) {
        std::string out;
        for (char c : text) {
            out += c == ':' ? std::string("\\:") : std::string(1, c);
        }
        return out;
    };
    std::map<std::string, std::string> choice_cases;
    for (const auto& c : commands) {
        s << "    " << sq(c.path.empty() ? "" : " " + c.path) << ")\n        subs=(";
        for (const CLI::App* sub : c.app->get_subcommands({})) {
            if (!sub->get_group().empty()) {
                s << " "
                  << sq(sub->get_name() + ":" + escape(first_sentence(sub->get_description())));
            }
        }
        s << ")\n        opts=(";
        std::vector<std::string> valued;
        for (const CLI::Option* o : with_global_options(app, c)) {
            for (const auto& n : names_of(*o)) {
                s << " " << sq(escape(n) + ":" + escape(first_sentence(o->get_description())));
                if (takes_value(*o)) {
                    valued.push_back(n);
                }
                if (const auto choices = choices_of(*o); !choices.empty()) {
                    choice_cases[n] = join(choices);
                }
            }
        }
        s << ")\n        valued=(";
        for (const auto& v : valued) {
            s << " " << v;
        }
        s << ") ;;\n";
    }
    s << "    esac\n"
         "    if (( ${valued[(Ie)${words[CURRENT-1]}]} )); then\n"
         "        case ${words[CURRENT-1]} in\n";
    for (const auto& [name, words] : choice_cases) {
        s << "        " << name << ") compadd -- " << words << " ;;\n";
    }
    s << "        *) _files ;;\n"
         "        esac\n"
         "    elif [[ ${words[CURRENT]} == -* ]]; then\n"
         "        _describe -t options option opts\n"
         "    elif (( ${#subs} )); then\n"
         "        _describe -t commands command subs\n"
         "    else\n"
         "        _files\n"
         "    fi\n"
         "}\n"
         "_bpfleet \"$@\"\n";
    return s.str();
}

std::string man_page(const CLI::App& app, std::string_view date) {
    std::ostringstream s;
    s << ".\\\" Generated from bpfleet's command line at build time; do not edit.\n"
      << ".TH BPFLEET 1 \"" << date << "\" \"bpfleet " << BPFLEET_VERSION
      << "\" \"User Commands\"\n"
      << ".SH NAME\nbpfleet \\- "
      << roff("do these eBPF programs load, attach and run on our "
              "machines?")
      << "\n.SH SYNOPSIS\n.B bpfleet\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n"
      << ".SH DESCRIPTION\n"
      << roff("bpfleet takes eBPF objects (.bpf.o files, OCI images such as Inspektor Gadget "
              "gadgets, OCI layouts and archives) to a fleet of machines over SSH and, on each, "
              "has bpfleet-agent load every program with libbpf, attach it in a throwaway "
              "sandbox, check that it fired and clean up. Each program gets a verdict with the "
              "exact reason; the run writes report.json, junit.xml, summary.md and report.html.")
      << "\n";
    auto write_options = [&](const CLI::App& cmd) {
        for (const CLI::Option* o : options_of(cmd)) {
            s << ".TP\n";
            std::string names;
            for (const auto& n : names_of(*o)) {
                names += (names.empty() ? "" : ", ") + std::string("\\fB") + roff(n) + "\\fR";
            }
            if (takes_value(*o)) {
                std::string type = o->get_type_name();
                type = type.substr(0, type.find(':')); // "WHEN:{auto,...}": the set is in the text
                if (type.empty() || type == "TEXT") {
                    type = "VALUE";
                }
                names += " \\fI" + roff(type) + "\\fR";
            }
            s << names << "\n" << roff(o->get_description());
            if (!o->get_default_str().empty()) {
                s << " (default: " << roff(o->get_default_str()) << ")";
            }
            s << "\n";
        }
    };
    s << ".SH OPTIONS\n";
    write_options(app);
    s << ".SH COMMANDS\n";
    for (const auto& c : commands_of(app)) {
        if (c.path.empty()) {
            continue;
        }
        s << ".SS \"bpfleet " << roff(c.path) << "\"\n" << roff(c.app->get_description()) << "\n";
        for (const CLI::Option* o : c.app->get_options({})) {
            if (o->get_positional()) {
                s << ".TP\n\\fI" << roff(o->get_name()) << "\\fR\n"
                  << roff(o->get_description()) << "\n";
            }
        }
        write_options(*c.app);
    }
    s << ".SH \"EXIT STATUS\"\n"
         ".TP\n0\nEvery selected host \\(mu artifact pair was checked and every program "
         "passed.\n"
         ".TP\n1\nSome program failed or errored on some host, or a regression against "
         "\\fB\\-\\-baseline\\fR.\n"
         ".TP\n2\nUsage, configuration or artifact error: nothing was run. Every bad input is "
         "named at once.\n"
         ".TP\n3\nNothing failed, but some pair has no verdict (a host gave no answer, was "
         "skipped, or an artifact has no object for its architecture).\n"
         ".TP\n130, 143\nCancelled by SIGINT or SIGTERM; the report is still written and the "
         "resume command printed.\n"
         ".SH ENVIRONMENT\n"
         ".TP\n\\fBNO_COLOR\\fR\nWhen set to anything but an empty string, no colour "
         "(\\fB\\-\\-color=auto\\fR).\n"
         ".TP\n\\fBBPFLEET_GADGET_PREFIX\\fR\nWhere gadget short names point "
         "(default ghcr.io/inspektor\\-gadget/gadget).\n"
         ".TP\n\\fBBPFLEET_REGISTRY_CREDS\\fR\nRegistry credentials USER:PASS.\n"
         ".TP\n\\fBREGISTRY_AUTH_FILE\\fR, \\fBXDG_RUNTIME_DIR\\fR, \\fBDOCKER_CONFIG\\fR\n"
         "Where registry logins are looked for, as podman and docker do.\n"
         ".TP\n\\fBBPFLEET_CACHE_DIR\\fR\nThe blob cache (default $XDG_CACHE_HOME/bpfleet).\n"
         ".TP\n\\fBBPFLEET_AGENT\\fR\nThe agent binary for this machine's architecture.\n"
         ".TP\n\\fBCI_NODE_INDEX\\fR, \\fBCI_NODE_TOTAL\\fR\nRead by \\fB\\-\\-shard auto\\fR.\n"
         ".SH FILES\n"
         ".TP\n\\fI~/.ssh/known_hosts\\fR\nHost keys, checked and (under accept\\-new) added "
         "to.\n"
         ".TP\n\\fI~/.ssh/config\\fR\nRead for the hosts the inventory names.\n"
         ".TP\n\\fI~/.docker/config.json\\fR\nRegistry logins and credential helpers.\n"
         ".SH \"SEE ALSO\"\n"
         ".BR bpfleet\\-agent (1),\n.BR ssh (1),\n.BR ssh_config (5)\n";
    return s.str();
}

namespace {

// The option words ("--object", "-v") a help text lists, in order.
std::vector<std::string> help_options(const std::string& help) {
    std::vector<std::string> out;
    std::istringstream in(help);
    std::string line;
    while (std::getline(in, line)) {
        std::size_t i = line.find_first_not_of(' ');
        if (i == std::string::npos || i == 0 || line[i] != '-') {
            continue;
        }
        std::string names = line.substr(i, line.find("  ", i) - i);
        std::istringstream words(names);
        std::string w;
        while (words >> w) {
            if (w.starts_with("-")) {
                if (w.back() == ',') {
                    w.pop_back();
                }
                out.push_back(w);
            }
        }
    }
    return out;
}

} // namespace

std::string agent_man_page(std::string_view usage,
                           const std::map<std::string, std::string>& commands,
                           std::string_view date) {
    std::ostringstream s;
    s << ".\\\" Generated from bpfleet-agent's help at build time; do not edit.\n"
      << ".TH BPFLEET\\-AGENT 1 \"" << date << "\" \"bpfleet " << BPFLEET_VERSION
      << "\" \"User Commands\"\n"
      << ".SH NAME\nbpfleet\\-agent \\- "
      << roff("load eBPF objects on this kernel and report "
              "a verdict per program")
      << "\n.SH SYNOPSIS\n.B bpfleet\\-agent\n\\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n"
      << ".SH DESCRIPTION\n"
      << roff("The agent bpfleet deploys to every host (static, one per architecture). It can "
              "also be run by hand on a machine to check an object.")
      << "\n.PP\n.nf\n"
      << roff(usage) << ".fi\n.SH COMMANDS\n";
    for (const auto& [name, help] : commands) {
        s << ".SS \"bpfleet\\-agent " << roff(name) << "\"\n.nf\n" << roff(help) << ".fi\n";
    }
    s << ".SH \"SEE ALSO\"\n.BR bpfleet (1)\n";
    return s.str();
}

std::string agent_bash_completion(const std::map<std::string, std::string>& commands) {
    std::ostringstream s;
    std::vector<std::string> names;
    for (const auto& [name, help] : commands) {
        names.push_back(name);
    }
    s << "# bash completion for bpfleet-agent. Generated from its help at build time;\n"
         "# do not edit.\n"
         "_bpfleet_agent() {\n"
         "    local cur=${COMP_WORDS[COMP_CWORD]}\n"
         "    if ((COMP_CWORD == 1)); then\n"
         "        COMPREPLY=($(compgen -W "
      << sq(join(names) + " help") << " -- \"$cur\"))\n"
      << "        return\n"
         "    fi\n"
         "    case ${COMP_WORDS[1]} in\n";
    for (const auto& [name, help] : commands) {
        s << "    " << name << ") [[ $cur == -* ]] && COMPREPLY=($(compgen -W "
          << sq(join(help_options(help))) << " -- \"$cur\")) || COMPREPLY=($(compgen -f -- "
          << "\"$cur\")) ;;\n";
    }
    s << "    esac\n"
         "}\n"
         "complete -o filenames -F _bpfleet_agent bpfleet-agent\n";
    return s.str();
}

std::string agent_zsh_completion(const std::map<std::string, std::string>& commands) {
    std::ostringstream s;
    s << "#compdef bpfleet-agent\n"
         "# zsh completion for bpfleet-agent. Generated from its help at build time;\n"
         "# do not edit.\n"
         "_bpfleet_agent() {\n"
         "    if (( CURRENT == 2 )); then\n"
         "        compadd --";
    for (const auto& [name, help] : commands) {
        s << " " << name;
    }
    s << " help\n"
         "        return\n"
         "    fi\n"
         "    case ${words[2]} in\n";
    for (const auto& [name, help] : commands) {
        s << "    " << name << ") if [[ ${words[CURRENT]} == -* ]]; then compadd -- "
          << join(help_options(help)) << "; else _files; fi ;;\n";
    }
    s << "    esac\n"
         "}\n"
         "_bpfleet_agent \"$@\"\n";
    return s.str();
}

} // namespace bpfleet::cli
