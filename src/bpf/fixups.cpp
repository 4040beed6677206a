#include "bpf/fixups.hpp"

#include "common/file.hpp"

#include <bpf/btf.h>
#include <cerrno>
#include <cstring>
#include <toml++/toml.h>

namespace bpfleet::bpf {
namespace {

std::string where(std::string_view source, const toml::source_region& region) {
    return std::string(source) + ":" + std::to_string(region.begin.line) + ":" +
           std::to_string(region.begin.column);
}

const char* type_name(bpf_prog_type type) {
    const char* name = libbpf_bpf_prog_type_str(type);
    return name ? name : "unknown";
}

// Reads the value of `var` from the object's .rodata through BTF. Returns
// nullopt when there is no such variable or it is not a 4- or 8-byte integer.
std::optional<std::uint64_t> rodata_value(bpf_object* obj, const std::string& var) {
    const btf* b = bpf_object__btf(obj);
    if (!b) {
        return std::nullopt;
    }
    bpf_map* rodata = nullptr;
    bpf_map* map;
    bpf_object__for_each_map(map, obj) {
        const char* name = bpf_map__name(map);
        if (bpf_map__is_internal(map) && name && std::strstr(name, ".rodata") &&
            !std::strstr(name, ".rodata.")) {
            rodata = map;
            break;
        }
    }
    if (!rodata) {
        return std::nullopt;
    }
    size_t size = 0;
    const auto* data = static_cast<const std::uint8_t*>(bpf_map__initial_value(rodata, &size));
    int sec_id = btf__find_by_name_kind(b, ".rodata", BTF_KIND_DATASEC);
    if (!data || sec_id < 0) {
        return std::nullopt;
    }
    const btf_type* sec = btf__type_by_id(b, sec_id);
    const btf_var_secinfo* vsi = btf_var_secinfos(sec);
    for (unsigned i = 0; i < btf_vlen(sec); ++i, ++vsi) {
        const btf_type* vt = btf__type_by_id(b, vsi->type);
        if (!vt || !btf_is_var(vt)) {
            continue;
        }
        const char* name = btf__name_by_offset(b, vt->name_off);
        if (!name || var != name) {
            continue;
        }
        if (vsi->offset + vsi->size > size || (vsi->size != 4 && vsi->size != 8)) {
            return std::nullopt;
        }
        std::uint64_t value = 0;
        if (vsi->size == 4) {
            std::uint32_t v32;
            std::memcpy(&v32, data + vsi->offset, 4);
            value = v32;
        } else {
            std::memcpy(&value, data + vsi->offset, 8);
        }
        return value;
    }
    return std::nullopt;
}

} // namespace

std::optional<bpf_prog_type> prog_type_from_name(std::string_view name) {
    // Walk libbpf's own table: it ends where libbpf has no name.
    for (int t = BPF_PROG_TYPE_UNSPEC + 1; t < 128; ++t) {
        const char* n = libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(t));
        if (!n) {
            break;
        }
        if (name == n) {
            return static_cast<bpf_prog_type>(t);
        }
    }
    return std::nullopt;
}

Result<FixupRules> parse_fixup_rules(std::string_view toml_text, std::string_view source_name) {
    toml::table doc;
    try {
        doc = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& e) {
        return make_error("fixups", std::string(e.description()), 0,
                          where(source_name, e.source()));
    }
    FixupRules rules;
    rules.source = source_name;
    for (const auto& [key, node] : doc) {
        if (key != "programs" && key != "maps") {
            return make_error("fixups",
                              "unknown table '" + std::string(key.str()) +
                                  "' (expected [programs.NAME] or [maps.NAME])",
                              0, where(source_name, node.source()));
        }
        const toml::table* entries = node.as_table();
        if (!entries) {
            return make_error("fixups", "'" + std::string(key.str()) + "' must be a table", 0,
                              where(source_name, node.source()));
        }
        for (const auto& [name, entry_node] : *entries) {
            const toml::table* entry = entry_node.as_table();
            if (!entry) {
                return make_error("fixups",
                                  "'" + std::string(key.str()) + "." + std::string(name.str()) +
                                      "' must be a table",
                                  0, where(source_name, entry_node.source()));
            }
            for (const auto& [field, value] : *entry) {
                const std::string path = std::string(key.str()) + "." + std::string(name.str()) +
                                         "." + std::string(field.str());
                const std::string at = where(source_name, value.source());
                if (key == "programs" && field == "type") {
                    auto s = value.value<std::string>();
                    auto type = s ? prog_type_from_name(*s) : std::nullopt;
                    if (!type) {
                        return make_error("fixups",
                                          "'" + path +
                                              "' must be a libbpf program type name such as "
                                              "\"xdp\", \"sched_cls\", \"kprobe\", "
                                              "\"socket_filter\"",
                                          0, at);
                    }
                    rules.programs[std::string(name.str())].type = *s;
                } else if (key == "programs" && field == "enabled") {
                    auto b = value.value<bool>();
                    if (!b || !value.is_boolean()) {
                        return make_error("fixups", "'" + path + "' must be true or false", 0, at);
                    }
                    rules.programs[std::string(name.str())].enabled = *b;
                } else if (key == "maps" && field == "max_entries") {
                    auto n = value.value<std::int64_t>();
                    if (!value.is_integer() || !n || *n < 0 || *n > 0xffffffffLL) {
                        return make_error("fixups",
                                          "'" + path + "' must be an integer from 0 to 4294967295",
                                          0, at);
                    }
                    rules.maps[std::string(name.str())].max_entries =
                        static_cast<std::uint32_t>(*n);
                } else {
                    return make_error("fixups",
                                      "unknown key '" + path +
                                          "' (programs take type and enabled, maps take "
                                          "max_entries)",
                                      0, at);
                }
            }
        }
    }
    return rules;
}

Result<FixupRules> load_fixup_rules(const std::string& path) {
    FilePtr f = open_file(path.c_str(), "r");
    if (!f) {
        const int err = errno;
        return make_error("usage", std::string("cannot open fixups file: ") + std::strerror(err),
                          err, path);
    }
    std::string text;
    char buf[8192];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
        text.append(buf, n);
        if (text.size() > kMaxFixupsFile) {
            return make_error("usage", "the fixups file is over 1 MiB", 0, path);
        }
    }
    if (std::ferror(f.get()) != 0) {
        const int err = errno;
        return make_error(
            "usage", std::string("cannot read the fixups file: ") + std::strerror(err), err, path);
    }
    return parse_fixup_rules(text, path);
}

Result<void> check_fixup_rules(const FixupRules& rules) {
    for (const auto& [name, rule] : rules.programs) {
        if (rule.type && !prog_type_from_name(*rule.type)) {
            return make_error("fixups",
                              "program '" + name + "': '" + *rule.type +
                                  "' is not a program type this agent's libbpf knows",
                              0, rules.source);
        }
    }
    return {};
}

std::optional<bpf_prog_type> gadget_section_type(std::string_view section) {
    if (section.starts_with("socket")) {
        return BPF_PROG_TYPE_SOCKET_FILTER;
    }
    if (section.starts_with("classifier") || section.starts_with("tc/") ||
        section.starts_with("tcx/")) {
        return BPF_PROG_TYPE_SCHED_CLS;
    }
    if (section.starts_with("action")) {
        return BPF_PROG_TYPE_SCHED_ACT;
    }
    if (section.starts_with("perf_event")) {
        return BPF_PROG_TYPE_PERF_EVENT;
    }
    return std::nullopt;
}

bool zero_max_entries_needs_default(unsigned map_type) {
    // Newer than Debian 12's UAPI headers; the number is stable.
    constexpr unsigned kCgrpStorage = 32;
    if (map_type == kCgrpStorage) {
        return false;
    }
    switch (map_type) {
    case BPF_MAP_TYPE_RINGBUF:
    case BPF_MAP_TYPE_USER_RINGBUF:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_SK_STORAGE:
    case BPF_MAP_TYPE_INODE_STORAGE:
    case BPF_MAP_TYPE_TASK_STORAGE:
    case BPF_MAP_TYPE_CGROUP_STORAGE:
    case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
    case BPF_MAP_TYPE_STRUCT_OPS:
    case BPF_MAP_TYPE_UNSPEC:
        return false;
    default:
        return true;
    }
}

Result<std::vector<Fixup>> apply_fixups(bpf_object* obj, const FixupRules& rules) {
    std::vector<Fixup> out;
    const std::string file_source = "fixups_file";

    bpf_program* prog;
    bpf_object__for_each_program(prog, obj) {
        const std::string name = bpf_program__name(prog);
        const char* sec = bpf_program__section_name(prog);
        const bpf_prog_type current = bpf_program__type(prog);
        auto rule = rules.programs.find(name);
        if (rule != rules.programs.end() && rule->second.enabled == false) {
            bpf_program__set_autoload(prog, false);
            out.push_back({"program_disabled", name, "enabled", "disabled", file_source,
                           "disabled in " + rules.source});
            continue;
        }
        std::optional<bpf_prog_type> type;
        std::string source;
        std::string reason;
        if (rule != rules.programs.end() && rule->second.type) {
            type = prog_type_from_name(*rule->second.type);
            if (!type) {
                return make_error("fixups", "program '" + name + "': unknown program type '" +
                                                *rule->second.type + "'");
            }
            source = file_source;
            reason = "set in " + rules.source;
        } else if (current == BPF_PROG_TYPE_UNSPEC && sec) {
            type = gadget_section_type(sec);
            source = "auto";
            reason = std::string("libbpf has no program type for section '") + sec + "'";
        }
        if (type && *type != current) {
            if (int err = bpf_program__set_type(prog, *type); err) {
                return make_error("fixups", "cannot set the type of program '" + name + "'", -err);
            }
            out.push_back(
                {"program_type", name, type_name(current), type_name(*type), source, reason});
        }
    }

    bpf_map* map;
    bpf_object__for_each_map(map, obj) {
        const std::string name = bpf_map__name(map);
        // A check must never share state with a live pinned map nor leave pins behind.
        if (bpf_map__pin_path(map)) {
            std::string path = bpf_map__pin_path(map);
            bpf_map__set_pin_path(map, nullptr);
            out.push_back({"map_pinning", name, path, "not pinned", "auto",
                           "bpfleet never pins maps: a check must not reuse or leave pins"});
        }
        if (bpf_map__is_internal(map)) {
            continue;
        }
        const std::uint32_t current = bpf_map__max_entries(map);
        auto rule = rules.maps.find(name);
        std::optional<std::uint32_t> size;
        std::string source;
        std::string reason;
        if (rule != rules.maps.end() && rule->second.max_entries) {
            size = rule->second.max_entries;
            source = file_source;
            reason = "set in " + rules.source;
        } else if (current == 0) {
            if (auto v = rodata_value(obj, name + "_max_entries");
                v && *v > 0 && *v <= 0xffffffffULL) {
                size = static_cast<std::uint32_t>(*v);
                source = "rodata";
                reason = ".rodata variable " + name + "_max_entries";
            } else if (zero_max_entries_needs_default(static_cast<unsigned>(bpf_map__type(map)))) {
                size = kDefaultMaxEntries;
                source = "auto";
                reason = "max_entries 0 is invalid for this map type";
            }
        }
        if (size && *size != current) {
            if (int err = bpf_map__set_max_entries(map, *size); err) {
                return make_error("fixups", "cannot resize map '" + name + "'", -err);
            }
            out.push_back({"map_max_entries", name, std::to_string(current), std::to_string(*size),
                           source, reason});
        }
    }
    return out;
}

} // namespace bpfleet::bpf
