// `bpfleet-agent check`: load every program of one object and print a
// bpfleet.check/v1 document (or a table). Options are parsed by hand: the
// agent stays small and static, so it carries no option library.

#include "bpf/elf_inspect.hpp"
#include "bpf/libbpf_log.hpp"
#include "check_runner.hpp"
#include "commands.hpp"
#include "identity.hpp"
#include "input.hpp"
#include "output.hpp"
#include "table.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bpfleet::agent {
namespace {

constexpr const char* kCheckUsage =
    "usage: bpfleet-agent check --object PATH|- [options]\n"
    "\n"
    "Loads every program of a BPF ELF object on this kernel and prints one JSON\n"
    "document (schema bpfleet.check/v1) with a verdict per program.\n"
    "\n"
    "options:\n"
    "  --object PATH|-          the object to check; '-' reads it from standard input\n"
    "  --name NAME              object name used in the report (default: file name)\n"
    "  --fixups FILE            TOML fixups: map sizes, program types, disabled programs\n"
    "  --log-cap BYTES          verifier log kept per program, tail first (default 1048576)\n"
    "  --max-object-size BYTES  refuse larger objects (default 67108864)\n"
    "  --format json|table      output format (default json)\n"
    "  --load-only              load only: no sandbox, no attach, no trigger\n"
    "  --no-fire                attach in the sandbox but trigger nothing\n"
    "  --timeout SECONDS        watchdog for the whole check (default 120); on expiry\n"
    "                           unfinished programs get an error verdict\n"
    "  --btf FILE               external kernel BTF (raw .btf) for CO-RE, used when the\n"
    "                           kernel has no /sys/kernel/btf/vmlinux (docs/btf.md)\n"
    "  --force-btf              use --btf even where the kernel has its own BTF\n"
    "  --ignore-kernel-btf      behave as on a kernel without BTF (hides\n"
    "                           /sys/kernel/btf from the check)\n"
    "  -v, --verbose            echo libbpf's messages to stderr\n"
    "\n"
    "exit status: 0 every program passed every stage, 1 a program failed or errored,\n"
    "2 bad input or usage\n";

struct CheckOptions {
    std::string object;
    std::string name;
    std::string fixups;
    std::uint64_t log_cap = 1 << 20;
    std::uint64_t max_object_size = bpf::kDefaultMaxObjectSize;
    bool table = false;
    bool verbose = false;
    bool load_only = false;
    bool fire = true;
    unsigned timeout = 120;
    std::string btf;
    bool force_btf = false;
    bool ignore_kernel_btf = false;
};

Result<std::uint64_t> parse_size(std::string_view option, const char* text) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
        return make_error("usage",
                          std::string(option) + " takes a number of bytes, not '" + text + "'");
    }
    return static_cast<std::uint64_t>(v);
}

Result<CheckOptions> parse_options(std::span<char*> args) {
    CheckOptions o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        auto value = [&]() -> Result<const char*> {
            if (i + 1 >= args.size()) {
                return make_error("usage", std::string(arg) + " needs a value");
            }
            return args[++i];
        };
        if (arg == "-h" || arg == "--help") {
            return make_error("help", "");
        } else if (arg == "--object" || arg == "-o") {
            TRY_ASSIGN(const char* v, value());
            o.object = v;
        } else if (arg == "--name") {
            TRY_ASSIGN(const char* v, value());
            o.name = v;
        } else if (arg == "--fixups") {
            TRY_ASSIGN(const char* v, value());
            o.fixups = v;
        } else if (arg == "--log-cap") {
            TRY_ASSIGN(const char* v, value());
            TRY_ASSIGN(o.log_cap, parse_size(arg, v));
            if (o.log_cap < 4096 || o.log_cap > (256ULL << 20)) {
                return make_error("usage", "--log-cap must be between 4096 and 268435456");
            }
        } else if (arg == "--max-object-size") {
            TRY_ASSIGN(const char* v, value());
            TRY_ASSIGN(o.max_object_size, parse_size(arg, v));
        } else if (arg == "--format") {
            TRY_ASSIGN(const char* v, value());
            std::string_view f = v;
            if (f != "json" && f != "table") {
                return make_error("usage",
                                  "--format is json or table, not '" + std::string(f) + "'");
            }
            o.table = f == "table";
        } else if (arg == "--load-only") {
            o.load_only = true;
        } else if (arg == "--no-fire") {
            o.fire = false;
        } else if (arg == "--timeout") {
            TRY_ASSIGN(const char* v, value());
            TRY_ASSIGN(auto seconds, parse_size(arg, v));
            if (seconds < 1 || seconds > 86400) {
                return make_error("usage", "--timeout must be between 1 and 86400 seconds");
            }
            o.timeout = static_cast<unsigned>(seconds);
        } else if (arg == "--btf") {
            TRY_ASSIGN(const char* v, value());
            o.btf = v;
            if (o.btf.empty()) {
                return make_error("usage", "--btf needs a file name");
            }
        } else if (arg == "--force-btf") {
            o.force_btf = true;
        } else if (arg == "--ignore-kernel-btf") {
            o.ignore_kernel_btf = true;
        } else if (arg == "-v" || arg == "--verbose") {
            o.verbose = true;
        } else {
            return make_error("usage", "unknown option '" + std::string(arg) + "'");
        }
    }
    if (o.object.empty()) {
        return make_error("usage", "--object PATH|- is required");
    }
    if (o.force_btf && o.btf.empty()) {
        return make_error("usage", "--force-btf needs --btf FILE");
    }
    if (o.name.empty()) {
        auto slash = o.object.find_last_of('/');
        o.name = o.object == "-"
                     ? "stdin"
                     : (slash == std::string::npos ? o.object : o.object.substr(slash + 1));
    }
    return o;
}

Result<FixupRules> load_rules(const std::string& path) {
    if (path.empty()) {
        return FixupRules{};
    }
    return bpf::load_fixup_rules(path);
}

int emit(const CheckReport& report, bool table) {
    if (table) {
        write_stdout(render_table(report));
    } else {
        write_stdout(Json(report).dump(2) + "\n");
    }
    if (report.object_error) {
        log_error(report.object.name + ": " + report.object_error->message);
    }
    return report.exit_status();
}

} // namespace

int run_check(std::span<char*> args) {
    auto options = parse_options(args);
    if (!options) {
        if (options.error().code == "help") {
            std::fputs(kCheckUsage, stdout);
            return kExitOk;
        }
        log_error("check: " + options.error().message);
        std::fputs(kCheckUsage, stderr);
        return kExitUsage;
    }
    bpf::LibbpfLogCapture::set_echo(options->verbose);
    auto rules = load_rules(options->fixups);
    if (!rules) {
        log_error("check: " + rules.error().describe());
        return kExitUsage;
    }

    const auto started = std::chrono::steady_clock::now();
    CheckReport report;
    report.agent = agent_info();
    report.kernel = kernel_info();
    report.object.name = options->name;
    auto finish = [&] {
        report.duration_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                .count();
        return emit(report, options->table);
    };

    auto bytes = read_object(options->object, options->max_object_size);
    if (!bytes) {
        report.object_error =
            ObjectError{FailureCode::ObjectInvalid, bytes.error().errnum, bytes.error().message};
        return finish();
    }
    report.object.size = (*bytes)->size();
    if (auto parsed = parse_in_child(*bytes, options->name, 10); !parsed) {
        report.object_error = ObjectError{FailureCode::ObjectInvalid, 0, parsed.error().message};
        return finish();
    }

    CheckRunOptions run;
    run.name = options->name;
    run.log_cap = options->log_cap;
    run.rules = std::move(*rules);
    run.load_only = options->load_only;
    run.fire = options->fire;
    run.timeout_seconds = options->timeout;
    run.external_btf = options->btf;
    run.force_external_btf = options->force_btf;
    run.ignore_kernel_btf = options->ignore_kernel_btf;
    run_check_supervised(*bytes, run, report);
    return finish();
}

} // namespace bpfleet::agent
