#include "model/host_facts.hpp"

#include <array>
#include <utility>

namespace bpfleet {
namespace {

constexpr std::array<std::pair<FeatureStatus, std::string_view>, 4> kStatuses = {{
    {FeatureStatus::Supported, "supported"},
    {FeatureStatus::Unsupported, "unsupported"},
    {FeatureStatus::Error, "error"},
    {FeatureStatus::Skipped, "skipped"},
}};

// Facts are short; a fact file is read up to 256 KiB, a verifier line to 300
// bytes. Lists: mounts, v1 hierarchies, libbpf's type tables.
constexpr std::size_t kMaxName = 4096;

// ---- writing ------------------------------------------------------------------

template <typename T> Json nullable(const std::optional<T>& v) {
    return v ? Json(*v) : Json(nullptr);
}

// The unknown members a newer agent sent, after the known ones.
void put_extra(Json& j, const Json& extra) {
    if (!extra.is_object()) {
        return;
    }
    for (const auto& [name, value] : extra.items()) {
        if (!j.contains(name)) {
            j[name] = value;
        }
    }
}

Json sysctl_json(const SysctlValue& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
        return *i;
    }
    if (const auto* s = std::get_if<std::string>(&v)) {
        return *s;
    }
    return nullptr;
}

Json answer_json(const FeatureAnswer& a) {
    Json j{{"status", to_string(a.status)}};
    if (a.errnum) {
        j["errno"] = *a.errnum;
    }
    if (a.errno_name) {
        j["errno_name"] = *a.errno_name;
    }
    if (a.log) {
        j["log"] = *a.log;
    }
    if (a.libbpf) {
        j["libbpf"] = to_string(*a.libbpf);
    }
    if (a.reason) {
        j["reason"] = *a.reason;
    }
    put_extra(j, a.extra);
    return j;
}

Json attach_json(const AttachProbe& a) {
    Json j{{"target", nullable(a.target)}};
    if (a.btf_id) {
        j["btf_id"] = nullable(*a.btf_id);
    }
    if (a.load) {
        j["load"] = answer_json(*a.load);
    }
    if (a.attach) {
        j["attach"] = answer_json(*a.attach);
    }
    j["status"] = to_string(a.status);
    if (a.errnum) {
        j["errno"] = *a.errnum;
    }
    if (a.errno_name) {
        j["errno_name"] = *a.errno_name;
    }
    if (a.stage) {
        j["stage"] = *a.stage;
    }
    if (a.reason) {
        j["reason"] = *a.reason;
    }
    put_extra(j, a.extra);
    return j;
}

template <typename T, typename ToJson> Json named_json(const NamedList<T>& list, ToJson&& to) {
    Json j = Json::object();
    for (const auto& [name, value] : list) {
        j[name] = to(value);
    }
    return j;
}

Json features_json(const FeatureFingerprint& f) {
    Json j;
    j["libbpf_version"] = f.libbpf_version;
    j["bpf_enable_stats"] = answer_json(f.bpf_enable_stats);
    j["prog_types"] = named_json(f.prog_types, answer_json);
    j["map_types"] = named_json(f.map_types, answer_json);
    j["helpers"] = named_json(f.helpers, [](const NamedList<FeatureAnswer>& per_type) {
        return named_json(per_type, answer_json);
    });
    j["attach"] = named_json(f.attach, attach_json);
    put_extra(j, f.extra);
    return j;
}

Json filesystem_json(const FilesystemFacts& f) {
    Json j{{"supported", f.supported}, {"mounts", f.mounts}};
    put_extra(j, f.extra);
    return j;
}

// ---- reading ------------------------------------------------------------------

SysctlValue read_sysctl(JsonFields& in, std::string_view key) {
    const Json& v = in.raw(key);
    if (!in.has(key)) {
        in.fail(key, "missing");
        return {};
    }
    if (v.is_null()) {
        return {};
    }
    if (v.is_string()) {
        return in.string(key, kMaxName);
    }
    if (v.is_number_integer() || v.is_number_unsigned()) {
        return in.integer(key);
    }
    in.fail(key, "expected an integer, a string or null, got " + json_type_name(v));
    return {};
}

FeatureStatus read_status(JsonFields& in, std::string_view key) {
    const std::string s = in.string(key, kMaxName);
    if (!in.ok()) {
        return FeatureStatus::Error;
    }
    auto status = feature_status_from_string(s);
    if (!status) {
        in.fail(key, "unknown status '" + s + "' (supported, unsupported, error, skipped)");
        return FeatureStatus::Error;
    }
    return *status;
}

FeatureAnswer read_answer(JsonFields& in) {
    FeatureAnswer a;
    a.status = read_status(in, "status");
    a.errnum = in.optional_integer("errno");
    a.errno_name = in.optional_string("errno_name", kMaxName);
    a.log = in.optional_string("log");
    if (in.has("libbpf")) {
        a.libbpf = read_status(in, "libbpf");
    }
    a.reason = in.optional_string("reason", kMaxName);
    a.extra = in.unknown_members({"status", "errno", "errno_name", "log", "libbpf", "reason"});
    return a;
}

NamedList<FeatureAnswer> read_answers(JsonFields in) {
    NamedList<FeatureAnswer> out;
    in.each_object([&](const std::string& name, JsonFields& entry) {
        out.emplace_back(name, read_answer(entry));
    });
    return out;
}

AttachProbe read_attach(JsonFields& in) {
    AttachProbe a;
    a.target = in.string_or_null("target", kMaxName);
    if (in.has("btf_id")) {
        a.btf_id = in.integer_or_null("btf_id");
    }
    if (in.has("load")) {
        JsonFields load = in.object("load");
        a.load = read_answer(load);
    }
    if (in.has("attach")) {
        JsonFields attach = in.object("attach");
        a.attach = read_answer(attach);
    }
    a.status = read_status(in, "status");
    a.errnum = in.optional_integer("errno");
    a.errno_name = in.optional_string("errno_name", kMaxName);
    a.stage = in.optional_string("stage", kMaxName);
    a.reason = in.optional_string("reason", kMaxName);
    a.extra = in.unknown_members(
        {"target", "btf_id", "load", "attach", "status", "errno", "errno_name", "stage", "reason"});
    return a;
}

FeatureFingerprint read_features(JsonFields& in) {
    FeatureFingerprint f;
    f.libbpf_version = in.string("libbpf_version", kMaxName);
    JsonFields stats = in.object("bpf_enable_stats");
    f.bpf_enable_stats = read_answer(stats);
    f.prog_types = read_answers(in.object("prog_types"));
    f.map_types = read_answers(in.object("map_types"));
    in.object("helpers").each_object([&](const std::string& helper, JsonFields& per_type) {
        f.helpers.emplace_back(helper, read_answers(per_type));
    });
    in.object("attach").each_object([&](const std::string& name, JsonFields& entry) {
        f.attach.emplace_back(name, read_attach(entry));
    });
    f.extra = in.unknown_members(
        {"libbpf_version", "bpf_enable_stats", "prog_types", "map_types", "helpers", "attach"});
    return f;
}

FilesystemFacts read_filesystem(JsonFields in) {
    FilesystemFacts f;
    f.supported = in.boolean("supported");
    f.mounts = in.strings("mounts");
    f.extra = in.unknown_members({"supported", "mounts"});
    return f;
}

} // namespace

std::string_view to_string(FeatureStatus s) {
    for (const auto& [v, name] : kStatuses) {
        if (v == s) {
            return name;
        }
    }
    return "error";
}

std::optional<FeatureStatus> feature_status_from_string(std::string_view s) {
    for (const auto& [v, name] : kStatuses) {
        if (name == s) {
            return v;
        }
    }
    return std::nullopt;
}

void to_json(Json& j, const HostFacts& f) {
    j = Json::object();
    j["schema"] = kProbeSchema;
    j["agent"] = Json{{"version", f.agent.version},
                      {"libbpf_version", f.agent.libbpf_version},
                      {"arch", f.agent.arch},
                      {"build_id", f.agent.build_id}};
    put_extra(j["agent"], f.agent.extra);
    j["arch"] = nullable(f.arch);
    j["kernel"] =
        Json{{"release", nullable(f.kernel.release)}, {"version", nullable(f.kernel.version)}};
    put_extra(j["kernel"], f.kernel.extra);
    j["hostname"] = nullable(f.hostname);
    j["os"] = Json{{"id", nullable(f.os.id)},
                   {"version_id", nullable(f.os.version_id)},
                   {"pretty_name", nullable(f.os.pretty_name)},
                   {"source", nullable(f.os.source)}};
    put_extra(j["os"], f.os.extra);
    Json dmi{{"sys_vendor", nullable(f.board.dmi.sys_vendor)},
             {"product_name", nullable(f.board.dmi.product_name)}};
    put_extra(dmi, f.board.dmi.extra);
    j["board"] = Json{{"model", nullable(f.board.model)},
                      {"compatible", nullable(f.board.compatible)},
                      {"dmi", std::move(dmi)}};
    put_extra(j["board"], f.board.extra);
    j["cpus"] = Json{{"online", f.cpus.online}, {"configured", f.cpus.configured}};
    put_extra(j["cpus"], f.cpus.extra);
    j["memory"] = Json{{"total_bytes", nullable(f.memory.total_bytes)}};
    put_extra(j["memory"], f.memory.extra);
    const auto& p = f.privileges;
    j["privileges"] = Json{{"euid", p.euid},
                           {"cap_eff", nullable(p.cap_eff)},
                           {"cap_sys_admin", nullable(p.cap_sys_admin)},
                           {"cap_bpf", nullable(p.cap_bpf)},
                           {"cap_perfmon", nullable(p.cap_perfmon)},
                           {"cap_net_admin", nullable(p.cap_net_admin)},
                           {"privileged", p.privileged}};
    put_extra(j["privileges"], p.extra);
    j["security"] =
        Json{{"lockdown", nullable(f.security.lockdown)}, {"lsm", nullable(f.security.lsm)}};
    put_extra(j["security"], f.security.extra);
    const auto& s = f.sysctl;
    j["sysctl"] = Json{{"bpf_jit_enable", sysctl_json(s.bpf_jit_enable)},
                       {"bpf_jit_harden", sysctl_json(s.bpf_jit_harden)},
                       {"bpf_jit_kallsyms", sysctl_json(s.bpf_jit_kallsyms)},
                       {"unprivileged_bpf_disabled", sysctl_json(s.unprivileged_bpf_disabled)},
                       {"bpf_stats_enabled", sysctl_json(s.bpf_stats_enabled)},
                       {"perf_event_paranoid", sysctl_json(s.perf_event_paranoid)},
                       {"kptr_restrict", sysctl_json(s.kptr_restrict)}};
    put_extra(j["sysctl"], s.extra);
    j["btf"] = Json{{"vmlinux", f.btf.vmlinux},
                    {"vmlinux_bytes", nullable(f.btf.vmlinux_bytes)},
                    {"modules", nullable(f.btf.modules)}};
    put_extra(j["btf"], f.btf.extra);
    j["pmu"] = Json{{"kprobe", nullable(f.pmu.kprobe)},
                    {"uprobe", nullable(f.pmu.uprobe)},
                    {"kprobe_events", f.pmu.kprobe_events},
                    {"uprobe_events", f.pmu.uprobe_events}};
    put_extra(j["pmu"], f.pmu.extra);
    j["filesystems"] = Json{{"tracefs", filesystem_json(f.filesystems.tracefs)},
                            {"debugfs", filesystem_json(f.filesystems.debugfs)},
                            {"bpffs", filesystem_json(f.filesystems.bpffs)}};
    put_extra(j["filesystems"], f.filesystems.extra);
    Json v1 = Json::array();
    for (const auto& h : f.cgroup.v1) {
        Json entry{{"path", h.path}, {"options", h.options}};
        put_extra(entry, h.extra);
        v1.push_back(std::move(entry));
    }
    j["cgroup"] = Json{{"layout", f.cgroup.layout},
                       {"unified", nullable(f.cgroup.unified)},
                       {"v1", std::move(v1)}};
    put_extra(j["cgroup"], f.cgroup.extra);
    j["features"] = f.features ? features_json(*f.features) : Json(nullptr);
    j["unreadable"] = named_json(f.unreadable, [](const std::string& e) { return Json(e); });
    put_extra(j, f.extra);
}

Result<HostFacts> parse_host_facts(const Json& document, std::string path) {
    if (!json_depth_at_most(document, kMaxFactsDepth)) {
        return make_error("protocol", path + ": nested deeper than " +
                                          std::to_string(kMaxFactsDepth) + " levels");
    }
    JsonFields in = JsonFields::root(document, std::move(path));
    HostFacts f;
    const std::string schema = in.string("schema", kMaxName);
    if (in.ok() && schema != kProbeSchema) {
        in.fail("schema", "is '" + schema + "', expected '" + std::string(kProbeSchema) + "'");
    }
    {
        JsonFields a = in.object("agent");
        f.agent.version = a.string("version", kMaxName);
        f.agent.libbpf_version = a.string("libbpf_version", kMaxName);
        f.agent.arch = a.string("arch", kMaxName);
        f.agent.build_id = a.string("build_id", kMaxName);
        f.agent.extra = a.unknown_members({"version", "libbpf_version", "arch", "build_id"});
    }
    f.arch = in.string_or_null("arch", kMaxName);
    {
        JsonFields k = in.object("kernel");
        f.kernel.release = k.string_or_null("release", kMaxName);
        f.kernel.version = k.string_or_null("version", kMaxName);
        f.kernel.extra = k.unknown_members({"release", "version"});
    }
    f.hostname = in.string_or_null("hostname", kMaxName);
    {
        JsonFields os = in.object("os");
        f.os.id = os.string_or_null("id");
        f.os.version_id = os.string_or_null("version_id");
        f.os.pretty_name = os.string_or_null("pretty_name");
        f.os.source = os.string_or_null("source", kMaxName);
        f.os.extra = os.unknown_members({"id", "version_id", "pretty_name", "source"});
    }
    {
        JsonFields b = in.object("board");
        f.board.model = b.string_or_null("model");
        f.board.compatible = b.strings_or_null("compatible");
        JsonFields dmi = b.object("dmi");
        f.board.dmi.sys_vendor = dmi.string_or_null("sys_vendor");
        f.board.dmi.product_name = dmi.string_or_null("product_name");
        f.board.dmi.extra = dmi.unknown_members({"sys_vendor", "product_name"});
        f.board.extra = b.unknown_members({"model", "compatible", "dmi"});
    }
    {
        JsonFields c = in.object("cpus");
        f.cpus.online = c.integer("online");
        f.cpus.configured = c.integer("configured");
        f.cpus.extra = c.unknown_members({"online", "configured"});
    }
    {
        JsonFields m = in.object("memory");
        f.memory.total_bytes = m.integer_or_null("total_bytes");
        f.memory.extra = m.unknown_members({"total_bytes"});
    }
    {
        JsonFields p = in.object("privileges");
        f.privileges.euid = p.integer("euid");
        f.privileges.cap_eff = p.string_or_null("cap_eff", kMaxName);
        f.privileges.cap_sys_admin = p.boolean_or_null("cap_sys_admin");
        f.privileges.cap_bpf = p.boolean_or_null("cap_bpf");
        f.privileges.cap_perfmon = p.boolean_or_null("cap_perfmon");
        f.privileges.cap_net_admin = p.boolean_or_null("cap_net_admin");
        f.privileges.privileged = p.boolean("privileged");
        f.privileges.extra = p.unknown_members({"euid", "cap_eff", "cap_sys_admin", "cap_bpf",
                                                "cap_perfmon", "cap_net_admin", "privileged"});
    }
    {
        JsonFields s = in.object("security");
        f.security.lockdown = s.string_or_null("lockdown", kMaxName);
        f.security.lsm = s.strings_or_null("lsm", kMaxFieldItems, kMaxName);
        f.security.extra = s.unknown_members({"lockdown", "lsm"});
    }
    {
        JsonFields s = in.object("sysctl");
        f.sysctl.bpf_jit_enable = read_sysctl(s, "bpf_jit_enable");
        f.sysctl.bpf_jit_harden = read_sysctl(s, "bpf_jit_harden");
        f.sysctl.bpf_jit_kallsyms = read_sysctl(s, "bpf_jit_kallsyms");
        f.sysctl.unprivileged_bpf_disabled = read_sysctl(s, "unprivileged_bpf_disabled");
        f.sysctl.bpf_stats_enabled = read_sysctl(s, "bpf_stats_enabled");
        f.sysctl.perf_event_paranoid = read_sysctl(s, "perf_event_paranoid");
        f.sysctl.kptr_restrict = read_sysctl(s, "kptr_restrict");
        f.sysctl.extra = s.unknown_members({"bpf_jit_enable", "bpf_jit_harden", "bpf_jit_kallsyms",
                                            "unprivileged_bpf_disabled", "bpf_stats_enabled",
                                            "perf_event_paranoid", "kptr_restrict"});
    }
    {
        JsonFields b = in.object("btf");
        f.btf.vmlinux = b.boolean("vmlinux");
        f.btf.vmlinux_bytes = b.integer_or_null("vmlinux_bytes");
        f.btf.modules = b.integer_or_null("modules");
        f.btf.extra = b.unknown_members({"vmlinux", "vmlinux_bytes", "modules"});
    }
    {
        JsonFields p = in.object("pmu");
        f.pmu.kprobe = p.integer_or_null("kprobe");
        f.pmu.uprobe = p.integer_or_null("uprobe");
        f.pmu.kprobe_events = p.boolean("kprobe_events");
        f.pmu.uprobe_events = p.boolean("uprobe_events");
        f.pmu.extra = p.unknown_members({"kprobe", "uprobe", "kprobe_events", "uprobe_events"});
    }
    {
        JsonFields fs = in.object("filesystems");
        f.filesystems.tracefs = read_filesystem(fs.object("tracefs"));
        f.filesystems.debugfs = read_filesystem(fs.object("debugfs"));
        f.filesystems.bpffs = read_filesystem(fs.object("bpffs"));
        f.filesystems.extra = fs.unknown_members({"tracefs", "debugfs", "bpffs"});
    }
    {
        JsonFields c = in.object("cgroup");
        f.cgroup.layout = c.string("layout", kMaxName);
        f.cgroup.unified = c.string_or_null("unified");
        c.each_array_object("v1", [&](JsonFields& entry) {
            CgroupV1Hierarchy h;
            h.path = entry.string("path");
            h.options = entry.string("options");
            h.extra = entry.unknown_members({"path", "options"});
            f.cgroup.v1.push_back(std::move(h));
        });
        f.cgroup.extra = c.unknown_members({"layout", "unified", "v1"});
    }
    if (auto features = in.object_or_null("features")) {
        f.features = read_features(*features);
    }
    f.unreadable = in.object("unreadable").string_members(kMaxFieldItems, kMaxName);
    f.extra = in.unknown_members({"schema", "agent", "arch", "kernel", "hostname", "os", "board",
                                  "cpus", "memory", "privileges", "security", "sysctl", "btf",
                                  "pmu", "filesystems", "cgroup", "features", "unreadable"});
    return in.finish(std::move(f));
}

} // namespace bpfleet
