#include "bpf/load_check.hpp"

#include "bpf/elf_inspect.hpp"
#include "bpf/libbpf_log.hpp"
#include "common/file.hpp"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bpfleet::bpf {
namespace {

constexpr std::uint32_t kLogLevelVerbose = 1;
constexpr std::uint32_t kLogLevelStats = 4;
constexpr std::size_t kStatsLogSize = 16 << 10;
// Kernels before 5.2 refuse log buffers of 16 MiB or more.
constexpr std::size_t kMaxKernelLog = (16 << 20) - 1;

struct Attempt {
    int err = 0; // positive errno, 0 on success
    std::string log;
    bool log_full = false; // the kernel filled the buffer (ENOSPC)
    std::uint32_t level = 0;
    std::vector<std::string> messages;
    std::vector<std::string> zero_sized_maps;
    std::shared_ptr<OpenedObject> object; // set on success
    bpf_program* program = nullptr;
};

std::string kept_tail(const std::string& log, std::size_t cap, bool& truncated) {
    if (log.size() <= cap) {
        return log;
    }
    truncated = true;
    std::string tail = log.substr(log.size() - cap);
    // Start at a line boundary so that the first kept line is whole.
    if (auto nl = tail.find('\n'); nl != std::string::npos && nl + 1 < tail.size()) {
        tail.erase(0, nl + 1);
    }
    return tail;
}

std::vector<std::string> zero_sized_maps(bpf_object* obj) {
    std::vector<std::string> out;
    bpf_map* map;
    bpf_object__for_each_map(map, obj) {
        if (!bpf_map__is_internal(map) && bpf_map__max_entries(map) == 0) {
            out.emplace_back(bpf_map__name(map));
        }
    }
    return out;
}

// Opens the object afresh, applies the fixups, autoloads only `only` (or
// every program when empty) and loads it with the given log settings.
Attempt load_attempt(const ObjectBytes& bytes, const std::string& name,
                     const LoadCheckOptions& options, const std::string& only, std::uint32_t level,
                     std::size_t log_size) {
    const FixupRules& rules = options.rules;
    Attempt a;
    a.level = level;
    auto opened = open_bpf_object(bytes, name, &a.messages, options.btf_custom_path);
    if (!opened) {
        a.err = opened.error().errnum ? opened.error().errnum : EINVAL;
        return a;
    }
    auto object = std::make_shared<OpenedObject>(std::move(*opened));
    bpf_object* obj = object->obj.get();
    if (auto fixed = apply_fixups(obj, rules); !fixed) {
        a.err = fixed.error().errnum ? fixed.error().errnum : EINVAL;
        a.messages.push_back(fixed.error().message);
        return a;
    }
    std::vector<char> buffer;
    bpf_program* prog;
    bpf_object__for_each_program(prog, obj) {
        if (!only.empty()) {
            bool is_target = only == bpf_program__name(prog);
            bpf_program__set_autoload(prog, is_target);
            if (is_target) {
                a.program = prog;
            }
        }
    }
    if (!only.empty()) {
        if (!a.program) {
            a.err = ENOENT;
            return a;
        }
        buffer.assign(log_size, '\0');
        bpf_program__set_log_buf(a.program, buffer.data(), buffer.size());
        bpf_program__set_log_level(a.program, level);
    }
    a.zero_sized_maps = zero_sized_maps(obj);
    {
        LibbpfLogCapture capture;
        int ret = bpf_object__load(obj);
        a.err = ret < 0 ? -ret : 0;
        auto lines = capture.take();
        a.messages.insert(a.messages.end(), lines.begin(), lines.end());
    }
    if (!buffer.empty()) {
        a.log.assign(buffer.data(), strnlen(buffer.data(), buffer.size()));
        a.log_full = a.err == ENOSPC || a.log.size() + 1 >= buffer.size();
    }
    if (a.err == 0) {
        a.object = std::move(object);
    }
    return a;
}

// Verifier figures for a loaded program: from its stats log when present,
// else from bpf_prog_info (verified_insns, 5.16+).
void fill_stats(StageResult& stage, bpf_program* prog, std::string_view stats_log) {
    auto stats = parse_verifier_stats(stats_log);
    stage.insns_processed = stats.insns_processed;
    stage.verification_time_us = stats.verification_time_us;
    if (!stage.insns_processed && prog) {
        bpf_prog_info info{};
        __u32 len = sizeof info;
        if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0 &&
            info.verified_insns > 0) {
            stage.insns_processed = info.verified_insns;
        }
    }
}

// Only this program's libbpf messages, plus object-wide ones (maps, BTF).
std::vector<std::string> messages_for(const std::vector<std::string>& all,
                                      const std::string& program) {
    std::vector<std::string> out;
    const std::string own = "prog '" + program + "'";
    for (const auto& m : all) {
        if (m.find("prog '") == std::string::npos || m.find(own) != std::string::npos) {
            out.push_back(m);
        }
    }
    return out;
}

// The load failed before the verifier ran (a map, a missing program type):
// retrying with another log level cannot change anything.
bool failed_before_verifier(const std::vector<std::string>& messages) {
    for (const auto& m : messages) {
        if (m.find("failed to create") != std::string::npos ||
            m.find("missing BPF prog type") != std::string::npos ||
            m.find("failed to find") != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::optional<bool> probe_prog_type(const std::string& type_name) {
    auto type = prog_type_from_name(type_name);
    if (!type) {
        return std::nullopt;
    }
    int r = libbpf_probe_bpf_prog_type(*type, nullptr);
    if (r < 0) {
        return std::nullopt;
    }
    return r == 1;
}

// Loads one program on its own and gives it a verdict: first with stats only
// (cheap), then, if that fails, once more with the full verifier log.
std::pair<StageResult, std::optional<LoadedProgram>>
load_one(const ObjectBytes& bytes, const std::string& name, const LoadCheckOptions& options,
         const HostContext& host, const ProgramFacts& facts) {
    StageResult stage;
    Attempt stats = load_attempt(bytes, name, options, facts.name, kLogLevelStats, kStatsLogSize);
    if (stats.err == EINVAL && stats.log.empty() && !failed_before_verifier(stats.messages)) {
        // Kernels before 5.2 refuse BPF_LOG_STATS; libbpf then raises the level itself.
        stats = load_attempt(bytes, name, options, facts.name, 0, options.log_cap);
    }
    if (stats.err == 0) {
        stage.verdict = Verdict::Pass;
        fill_stats(stage, stats.program, stats.log);
        stage.libbpf_messages = messages_for(stats.messages, facts.name);
        return {stage, LoadedProgram{stats.object, stats.program}};
    }

    Attempt verbose =
        load_attempt(bytes, name, options, facts.name, kLogLevelVerbose | kLogLevelStats,
                     std::max<std::size_t>(options.log_cap, kStatsLogSize) + 1);
    if (verbose.err == EINVAL && verbose.log.empty() && !failed_before_verifier(verbose.messages)) {
        verbose =
            load_attempt(bytes, name, options, facts.name, kLogLevelVerbose, options.log_cap + 1);
    }
    if (verbose.log_full && verbose.err == ENOSPC) {
        verbose = load_attempt(bytes, name, options, facts.name, kLogLevelVerbose, kMaxKernelLog);
    }
    if (verbose.err == 0) {
        // Passed once the log was on: a kernel or libbpf quirk; report it as passing.
        stage.verdict = Verdict::Pass;
        fill_stats(stage, verbose.program, verbose.log);
        stage.libbpf_messages = messages_for(verbose.messages, facts.name);
        return {stage, LoadedProgram{verbose.object, verbose.program}};
    }

    VerifierLog log;
    log.level = static_cast<int>(verbose.level);
    log.size = verbose.log.size();
    log.text = kept_tail(verbose.log, options.log_cap, log.truncated);
    if (verbose.log_full) {
        log.truncated = true;
    }

    LoadFailure failure;
    failure.errnum = stats.err; // the first attempt's errno: the log run may say ENOSPC
    failure.program = facts.name;
    failure.prog_type = facts.type;
    // The stats attempt's log goes along: on kernels before 6.4 an overflowing
    // verbose log keeps its head, and only the stats say why it stopped.
    const std::string classifier_log = verbose.log + "\n" + stats.log;
    failure.verifier_log = classifier_log;
    failure.libbpf_messages = messages_for(verbose.messages, facts.name);
    failure.zero_sized_maps = verbose.zero_sized_maps;
    HostContext ctx = host;
    ctx.prog_type_supported = probe_prog_type(facts.type);
    auto c = classify_load_failure(failure, ctx);

    stage.verdict = Verdict::Fail;
    stage.code = c.code;
    stage.errnum = stats.err;
    stage.message = c.message;
    stage.evidence = c.evidence;
    stage.hint = c.hint;
    auto figures = parse_verifier_stats(verbose.log);
    stage.insns_processed = figures.insns_processed;
    stage.verification_time_us = figures.verification_time_us;
    stage.libbpf_messages = std::move(failure.libbpf_messages);
    stage.log = std::move(log);
    return {stage, std::nullopt};
}

} // namespace

LoadCheckResult check_object_load(const ObjectBytes& bytes, const std::string& name,
                                  const LoadCheckOptions& options, const HostContext& host) {
    LoadCheckResult result;
    auto elf = inspect_elf(*bytes);
    if (!elf) {
        result.error = ObjectError{FailureCode::ObjectInvalid, 0, elf.error().message};
        result.object.name = name;
        result.object.size = bytes->size();
        return result;
    }
    std::vector<std::string> open_messages;
    auto opened = open_bpf_object(bytes, name, &open_messages, options.btf_custom_path);
    if (!opened) {
        result.error =
            ObjectError{FailureCode::ObjectInvalid, opened.error().errnum, opened.error().message};
        result.object.name = name;
        result.object.size = bytes->size();
        return result;
    }
    result.object = collect_object_facts(opened->obj.get(), *bytes, name, *elf);
    auto fixups = apply_fixups(opened->obj.get(), options.rules);
    if (!fixups) {
        result.error = ObjectError{FailureCode::LoaderContract, fixups.error().errnum,
                                   fixups.error().describe()};
        return result;
    }
    result.fixups = std::move(*fixups);
    if (options.on_object) {
        options.on_object(result.object, result.fixups);
    }

    // Whole object first, every program logging only its statistics.
    auto whole = std::make_shared<OpenedObject>(std::move(*opened));
    bpf_object* obj = whole->obj.get();
    std::vector<std::vector<char>> stats_logs;
    bpf_program* prog;
    bpf_object__for_each_program(prog, obj) {
        stats_logs.emplace_back(kStatsLogSize, '\0');
        bpf_program__set_log_buf(prog, stats_logs.back().data(), stats_logs.back().size());
        bpf_program__set_log_level(prog, kLogLevelStats);
    }
    int load_err = 0;
    std::vector<std::string> whole_messages;
    {
        LibbpfLogCapture capture;
        load_err = bpf_object__load(obj);
        whole_messages = capture.take();
    }

    std::size_t index = 0;
    bpf_object__for_each_program(prog, obj) {
        const ProgramFacts& facts = result.object.programs.at(index);
        ProgramResult pr;
        pr.name = facts.name;
        pr.section = facts.section;
        pr.type = prog_type_name(bpf_program__type(prog)); // after fixups
        std::optional<LoadedProgram> loaded;
        if (!bpf_program__autoload(prog)) {
            pr.load.verdict = Verdict::Skip;
            pr.load.message = "disabled by the fixups file";
        } else if (load_err == 0) {
            pr.load.verdict = Verdict::Pass;
            fill_stats(pr.load, prog, stats_logs[index].data());
            pr.load.libbpf_messages = messages_for(whole_messages, facts.name);
            loaded = LoadedProgram{whole, prog};
        } else {
            ProgramFacts fixed = facts;
            fixed.type = pr.type;
            std::tie(pr.load, loaded) = load_one(bytes, name, options, host, fixed);
        }
        if (options.on_program) {
            options.on_program(index, pr);
        }
        result.programs.push_back(std::move(pr));
        result.loaded.push_back(std::move(loaded));
        ++index;
    }
    return result;
}

HostContext detect_host_context() {
    HostContext host;
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &header, data) == 0) {
        auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1U; };
        constexpr int kCapBpf = 39;
        host.privileged = has(CAP_SYS_ADMIN) || has(kCapBpf);
    }
    std::string line;
    if (auto f = open_file("/sys/kernel/security/lockdown", "r")) {
        char buf[256] = {};
        if (std::fgets(buf, sizeof buf, f.get())) {
            line = buf;
        }
    }
    {
        // "none [integrity] confidentiality": the bracketed word is in force.
        auto open = line.find('[');
        auto close = line.find(']');
        if (open != std::string::npos && close != std::string::npos && close > open) {
            host.lockdown = line.substr(open + 1, close - open - 1);
        }
    }
    host.kernel_btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
    host.kprobe_pmu = access("/sys/bus/event_source/devices/kprobe", F_OK) == 0;
    host.uprobe_pmu = access("/sys/bus/event_source/devices/uprobe", F_OK) == 0;
    return host;
}

} // namespace bpfleet::bpf
