#include "inventory/inventory.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace bpfleet::inventory {
namespace {

constexpr const char* kCode = "INVENTORY_INVALID";
constexpr int kMaxJumpDepth = 8;

// Keys every level ([defaults], [groups.X], [hosts.X]) may set.
const std::vector<std::string_view> kSettingKeys = {"port",
                                                    "user",
                                                    "identity_file",
                                                    "jump",
                                                    "become",
                                                    "host_key_policy",
                                                    "connect_timeout",
                                                    "command_timeout",
                                                    "transport",
                                                    "external_btf",
                                                    "known_hosts",
                                                    "jump_only"};

enum class LevelKind { Defaults, Group, Host };

std::string where(std::string_view source, const toml::source_region& region) {
    return std::string(source) + ":" + std::to_string(region.begin.line) + ":" +
           std::to_string(region.begin.column);
}

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::table:
        return "a table";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::string:
        return "a string";
    case toml::node_type::integer:
        return "an integer";
    case toml::node_type::floating_point:
        return "a float";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::date:
        return "a date";
    case toml::node_type::time:
        return "a time";
    case toml::node_type::date_time:
        return "a date-time";
    default:
        return "nothing";
    }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = up;
        }
    }
    return row[b.size()];
}

// " (did you mean 'x'?)" when a candidate is close, else "".
std::string suggestion(std::string_view key, const std::vector<std::string_view>& candidates) {
    std::string_view best;
    std::size_t best_distance = 3;
    for (auto candidate : candidates) {
        std::size_t d = edit_distance(key, candidate);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    }
    return best.empty() ? std::string() : " (did you mean '" + std::string(best) + "'?)";
}

bool is_credential_key(std::string_view key) {
    std::string k(key);
    std::transform(k.begin(), k.end(), k.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return k.find("password") != std::string::npos || k.find("passwd") != std::string::npos ||
           k.find("passphrase") != std::string::npos || k == "pass" || k.ends_with("_pass");
}

// Host, group and tag names: safe as folder names and unambiguous in selectors.
bool is_valid_name(std::string_view name) {
    if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0]))) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '_' || c == '-';
    });
}

std::string two_digits(unsigned value) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02u", value % 100);
    return buf;
}

std::string format_date(const toml::date& d) {
    return std::to_string(d.year) + "-" + two_digits(d.month) + "-" + two_digits(d.day);
}

std::string format_time(const toml::time& t) {
    std::string out = two_digits(t.hour) + ":" + two_digits(t.minute) + ":" + two_digits(t.second);
    if (t.nanosecond != 0) {
        char buf[16];
        std::snprintf(buf, sizeof buf, ".%09u", static_cast<unsigned>(t.nanosecond));
        out += buf;
    }
    return out;
}

nlohmann::json to_json(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::string:
        return node.as_string()->get();
    case toml::node_type::integer:
        return node.as_integer()->get();
    case toml::node_type::floating_point:
        return node.as_floating_point()->get();
    case toml::node_type::boolean:
        return node.as_boolean()->get();
    case toml::node_type::date:
        return format_date(node.as_date()->get());
    case toml::node_type::time:
        return format_time(node.as_time()->get());
    case toml::node_type::date_time: {
        const toml::date_time& dt = node.as_date_time()->get();
        std::string out = format_date(dt.date) + "T" + format_time(dt.time);
        if (dt.offset) {
            int minutes = dt.offset->minutes;
            if (minutes == 0) {
                out += "Z";
            } else {
                out += minutes < 0 ? "-" : "+";
                unsigned m = static_cast<unsigned>(minutes < 0 ? -minutes : minutes);
                out += two_digits(m / 60) + ":" + two_digits(m % 60);
            }
        }
        return out;
    }
    case toml::node_type::array: {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& element : *node.as_array()) {
            out.push_back(to_json(element));
        }
        return out;
    }
    case toml::node_type::table: {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [key, value] : *node.as_table()) {
            out[std::string(key.str())] = to_json(value);
        }
        return out;
    }
    default:
        return nullptr;
    }
}

// A validated setting in canonical JSON form and where it was written.
struct Setting {
    nlohmann::json value;
    std::string where;
};

struct Level {
    std::map<std::string, Setting> settings; // kSettingKeys and "address"
    std::map<std::string, Setting> vars;
    std::vector<std::string> tags;
    std::string where;
};

struct RawGroup {
    Level level;
    std::map<std::string, std::string> members; // host name -> where it is listed
    bool implicit = false;
};

struct RawHost {
    std::string name;
    Level level;
    std::set<std::string> groups;
};

// Per host, what the jump chain is built from.
struct JumpSource {
    std::vector<std::string> specs;
    bool from_ssh_config = false;
    std::string where;
};

class Parser {
public:
    Parser(std::string_view source, std::filesystem::path base_dir, const SshConfig* ssh_config,
           const LocalEnvironment& env)
        : m_source(source), m_base_dir(std::move(base_dir)), m_ssh_config(ssh_config), m_env(env) {}

    Result<Inventory> run(std::string_view text);

private:
    tl::unexpected<Error> fail(const toml::source_region& region, std::string message) const {
        return make_error(kCode, std::move(message), 0, where(m_source, region));
    }
    tl::unexpected<Error> fail_at(const std::string& at, std::string message) const {
        return make_error(kCode, std::move(message), 0, at);
    }

    Result<Level> read_level(const toml::table& table, std::string_view path, LevelKind kind,
                             RawHost* host, RawGroup* group);
    Result<nlohmann::json> read_setting(std::string_view key, const toml::node& node,
                                        const std::string& path) const;
    Result<std::vector<std::string>> read_names(const toml::node& node, const std::string& path,
                                                std::string_view what) const;
    Result<void> merge_host(const RawHost& raw, InventoryHost& host, JumpSource& jump);
    Result<std::vector<Endpoint>> expand_jumps(const JumpSource& jump,
                                               std::vector<std::string>& stack, int depth) const;
    std::string absolute_path(const std::string& path) const;

    std::string m_source;
    std::filesystem::path m_base_dir;
    const SshConfig* m_ssh_config;
    LocalEnvironment m_env;

    Level m_defaults;
    std::map<std::string, RawGroup> m_groups;
    std::map<std::string, RawHost> m_hosts;
    std::map<std::string, InventoryHost> m_resolved;
    std::map<std::string, JumpSource> m_jumps;
};

std::string Parser::absolute_path(const std::string& path) const {
    std::string expanded = path;
    if (path == "~") {
        expanded = m_env.home;
    } else if (path.starts_with("~/")) {
        expanded = m_env.home + path.substr(1);
    }
    std::filesystem::path p(expanded);
    if (p.is_relative() && !m_base_dir.empty()) {
        p = m_base_dir / p;
    }
    return p.lexically_normal().string();
}

Result<std::vector<std::string>> Parser::read_names(const toml::node& node, const std::string& path,
                                                    std::string_view what) const {
    const toml::array* array = node.as_array();
    if (!array) {
        return fail(node.source(), "'" + path + "' must be an array of " + std::string(what) +
                                       " names, not " + std::string(type_name(node)));
    }
    std::vector<std::string> names;
    for (const auto& element : *array) {
        const auto* s = element.as_string();
        if (!s) {
            return fail(element.source(), "'" + path + "' must hold " + std::string(what) +
                                              " names (strings), not " +
                                              std::string(type_name(element)));
        }
        const std::string& name = s->get();
        if (!is_valid_name(name)) {
            return fail(element.source(), "'" + path + "': '" + name + "' is not a valid " +
                                              std::string(what) +
                                              " name (letters, digits, '.', '_', '-'; starting "
                                              "with a letter or digit)");
        }
        if (std::find(names.begin(), names.end(), name) != names.end()) {
            return fail(element.source(),
                        "'" + path + "': " + std::string(what) + " '" + name + "' is listed twice");
        }
        names.push_back(name);
    }
    return names;
}

Result<nlohmann::json> Parser::read_setting(std::string_view key, const toml::node& node,
                                            const std::string& path) const {
    auto wrong = [&](std::string_view expected) {
        return fail(node.source(), "'" + path + "' must be " + std::string(expected) + ", not " +
                                       std::string(type_name(node)));
    };
    if (key == "port") {
        const auto* i = node.as_integer();
        if (!i) {
            return wrong("an integer port number");
        }
        if (i->get() < 1 || i->get() > 65535) {
            return fail(node.source(), "'" + path + "' = " + std::to_string(i->get()) +
                                           " is out of range (1..65535)");
        }
        return nlohmann::json(i->get());
    }
    if (key == "become" || key == "jump_only") {
        const auto* b = node.as_boolean();
        if (!b) {
            return wrong("true or false");
        }
        return nlohmann::json(b->get());
    }
    if (key == "connect_timeout" || key == "command_timeout") {
        double seconds = 0;
        if (const auto* i = node.as_integer()) {
            seconds = static_cast<double>(i->get());
        } else if (const auto* f = node.as_floating_point()) {
            seconds = f->get();
        } else {
            return wrong("a number of seconds");
        }
        if (!(seconds > 0) || seconds > 7 * 86400) {
            return fail(node.source(),
                        "'" + path + "' must be a number of seconds above 0 and at most 604800");
        }
        return nlohmann::json(static_cast<std::int64_t>(seconds * 1000.0 + 0.5));
    }
    if (key == "identity_file" || key == "jump") {
        std::vector<std::string> items;
        if (const auto* s = node.as_string()) {
            if (key == "jump") {
                std::string_view text = s->get();
                std::size_t start = 0;
                while (start <= text.size()) {
                    std::size_t comma = text.find(',', start);
                    std::string_view part =
                        text.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                           : comma - start);
                    while (!part.empty() && part.front() == ' ') {
                        part.remove_prefix(1);
                    }
                    while (!part.empty() && part.back() == ' ') {
                        part.remove_suffix(1);
                    }
                    items.emplace_back(part);
                    if (comma == std::string_view::npos) {
                        break;
                    }
                    start = comma + 1;
                }
                if (items.size() == 1 && (items[0].empty() || items[0] == "none")) {
                    items.clear();
                }
            } else {
                items.push_back(s->get());
            }
        } else if (const auto* a = node.as_array()) {
            for (const auto& element : *a) {
                const auto* es = element.as_string();
                if (!es) {
                    return fail(element.source(), "'" + path + "' must hold strings, not " +
                                                      std::string(type_name(element)));
                }
                items.push_back(es->get());
            }
        } else {
            return wrong("a string or an array of strings");
        }
        for (const auto& item : items) {
            if (item.empty()) {
                return fail(node.source(), "'" + path + "' holds an empty entry");
            }
            if (key == "jump" &&
                (item.find('@') != std::string::npos || item.find(':') != std::string::npos)) {
                if (auto spec = parse_jump_spec(item); !spec) {
                    return fail(node.source(), "'" + path + "': " + spec.error().message);
                }
            }
        }
        return nlohmann::json(items);
    }
    // The rest are strings.
    const auto* s = node.as_string();
    if (!s) {
        return wrong("a string");
    }
    const std::string& value = s->get();
    if (key == "host_key_policy") {
        if (!parse_host_key_policy(value)) {
            return fail(node.source(), "'" + path + "' = \"" + value +
                                           "\" is not a host-key policy (\"strict\", "
                                           "\"accept-new\" or \"off\")");
        }
    } else if (key == "transport") {
        if (!parse_transport(value)) {
            return fail(node.source(), "'" + path + "' = \"" + value +
                                           "\" is not a transport (\"ssh\" or \"local\")");
        }
    } else if (value.empty()) {
        return fail(node.source(), "'" + path + "' is empty");
    } else if ((key == "address" || key == "user") &&
               value.find_first_of(" \t\r\n/@,") != std::string::npos) {
        return fail(node.source(),
                    "'" + path + "' = \"" + value + "\" contains a space, '/', '@' or ','");
    }
    return nlohmann::json(value);
}

Result<Level> Parser::read_level(const toml::table& table, std::string_view path, LevelKind kind,
                                 RawHost* host, RawGroup* group) {
    Level level;
    level.where = where(m_source, table.source());
    std::vector<std::string_view> allowed = kSettingKeys;
    allowed.push_back("tags");
    allowed.push_back("vars");
    if (kind == LevelKind::Host) {
        allowed.push_back("address");
        allowed.push_back("groups");
    } else if (kind == LevelKind::Group) {
        allowed.push_back("hosts");
    }
    for (const auto& [key_obj, node] : table) {
        const std::string key(key_obj.str());
        const std::string key_path = std::string(path) + "." + key;
        if (is_credential_key(key)) {
            return fail(key_obj.source(),
                        "'" + key_path +
                            "': credentials are not accepted in the inventory; use key files "
                            "(identity_file) or ssh-agent, and a NOPASSWD sudoers rule for become");
        }
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            std::string extra;
            if (key == "address" && kind != LevelKind::Host) {
                extra = " ('address' is per host)";
            } else if (key == "hosts" && kind != LevelKind::Group) {
                extra = " ('hosts' belongs in [groups.NAME])";
            }
            return fail(key_obj.source(), "unknown key '" + key + "' in [" + std::string(path) +
                                              "]" +
                                              (extra.empty() ? suggestion(key, allowed) : extra));
        }
        if (key == "tags") {
            TRY_ASSIGN(level.tags, read_names(node, key_path, "tag"));
        } else if (key == "groups") {
            TRY_ASSIGN(auto names, read_names(node, key_path, "group"));
            host->groups.insert(names.begin(), names.end());
        } else if (key == "hosts") {
            TRY_ASSIGN(auto names, read_names(node, key_path, "host"));
            // Existence is checked once every host is known; keep the element's place.
            const toml::array& array = *node.as_array();
            for (std::size_t i = 0; i < names.size(); ++i) {
                group->members[names[i]] = where(m_source, array[i].source());
            }
        } else if (key == "vars") {
            const toml::table* vars = node.as_table();
            if (!vars) {
                return fail(node.source(), "'" + key_path + "' must be a table, not " +
                                               std::string(type_name(node)));
            }
            for (const auto& [var_key, var_node] : *vars) {
                if (is_credential_key(var_key.str())) {
                    return fail(var_key.source(),
                                "'" + key_path + "." + std::string(var_key.str()) +
                                    "': credentials are not accepted in the inventory (vars end "
                                    "up in reports); use key files or ssh-agent");
                }
                level.vars[std::string(var_key.str())] =
                    Setting{to_json(var_node), where(m_source, var_node.source())};
            }
        } else {
            TRY_ASSIGN(auto value, read_setting(key, node, key_path));
            level.settings[key] = Setting{std::move(value), where(m_source, node.source())};
        }
    }
    return level;
}

Result<Inventory> Parser::run(std::string_view text) {
    toml::table doc;
    try {
        doc = toml::parse(text, m_source);
    } catch (const toml::parse_error& e) {
        return make_error(kCode, std::string(e.description()), 0, where(m_source, e.source()));
    }
    const std::vector<std::string_view> top_keys = {"defaults", "hosts", "groups"};
    for (const auto& [key_obj, node] : doc) {
        const std::string key(key_obj.str());
        if (is_credential_key(key)) {
            return fail(key_obj.source(),
                        "'" + key +
                            "': credentials are not accepted in the inventory; use key "
                            "files (identity_file) or ssh-agent");
        }
        if (key == "defaults") {
            const toml::table* table = node.as_table();
            if (!table) {
                return fail(node.source(), "'defaults' must be a table ([defaults]), not " +
                                               std::string(type_name(node)));
            }
            TRY_ASSIGN(m_defaults,
                       read_level(*table, "defaults", LevelKind::Defaults, nullptr, nullptr));
            continue;
        }
        if (key != "hosts" && key != "groups") {
            return fail(key_obj.source(), "unknown top-level key '" + key +
                                              "' (expected [defaults], [hosts.NAME] or "
                                              "[groups.NAME])" +
                                              suggestion(key, top_keys));
        }
        const toml::table* entries = node.as_table();
        if (!entries) {
            return fail(node.source(), "'" + key + "' must be a table of [" + key +
                                           ".NAME] tables, not " + std::string(type_name(node)));
        }
        const bool is_host = key == "hosts";
        for (const auto& [name_obj, entry] : *entries) {
            const std::string name(name_obj.str());
            const std::string path = key + "." + name;
            if (!is_valid_name(name)) {
                return fail(name_obj.source(),
                            std::string(is_host ? "host" : "group") + " name '" + name +
                                "' is not valid (letters, digits, '.', '_', '-'; starting with a "
                                "letter or digit)");
            }
            const toml::table* table = entry.as_table();
            if (!table) {
                return fail(entry.source(), "'" + path + "' must be a table ([" + path +
                                                "]), not " + std::string(type_name(entry)));
            }
            if (is_host) {
                RawHost raw;
                raw.name = name;
                TRY_ASSIGN(raw.level, read_level(*table, path, LevelKind::Host, &raw, nullptr));
                m_hosts[name] = std::move(raw);
            } else {
                RawGroup group;
                TRY_ASSIGN(group.level,
                           read_level(*table, path, LevelKind::Group, nullptr, &group));
                m_groups[name] = std::move(group);
            }
        }
    }
    if (m_hosts.empty()) {
        return make_error(kCode, "the inventory defines no hosts (add a [hosts.NAME] table)", 0,
                          m_source);
    }

    // Group membership, from both sides.
    std::vector<std::string_view> host_names;
    for (const auto& [name, raw] : m_hosts) {
        host_names.push_back(name);
    }
    for (const auto& [group_name, group] : m_groups) {
        for (const auto& [member, at] : group.members) {
            if (!m_hosts.count(member)) {
                return fail_at(at, "unknown host '" + member + "' in groups." + group_name +
                                       ".hosts" + suggestion(member, host_names));
            }
        }
    }
    for (const auto& [name, raw] : m_hosts) {
        for (const auto& group_name : raw.groups) {
            auto [it, inserted] = m_groups.try_emplace(group_name);
            if (inserted) {
                it->second.implicit = true;
            }
            it->second.members.emplace(name, raw.level.where);
        }
    }

    for (const auto& [name, raw] : m_hosts) {
        InventoryHost host;
        JumpSource jump;
        TRY(merge_host(raw, host, jump));
        m_resolved.emplace(name, std::move(host));
        m_jumps.emplace(name, std::move(jump));
    }

    Inventory inventory;
    inventory.source = m_source;
    for (auto& [name, host] : m_resolved) {
        if (host.transport == Transport::Ssh) {
            std::vector<std::string> stack{name};
            TRY_ASSIGN(host.jump_chain, expand_jumps(m_jumps.at(name), stack, 0));
        }
    }
    for (auto& [name, host] : m_resolved) {
        inventory.hosts.push_back(std::move(host));
    }
    for (const auto& [name, raw] : m_groups) {
        InventoryGroup group;
        group.name = name;
        group.source = raw.implicit ? std::string() : raw.level.where;
        for (const auto& [member, at] : raw.members) {
            group.hosts.push_back(member);
        }
        inventory.groups.push_back(std::move(group));
    }
    if (m_ssh_config) {
        inventory.notes = m_ssh_config->notes();
    }
    return inventory;
}

Result<void> Parser::merge_host(const RawHost& raw, InventoryHost& host, JumpSource& jump) {
    host.name = raw.name;
    host.source = raw.level.where;

    std::vector<std::pair<std::string, const RawGroup*>> groups;
    for (const auto& [name, group] : m_groups) {
        if (group.members.count(raw.name)) {
            groups.emplace_back(name, &group);
            host.groups.push_back(name);
        }
    }

    // An inherited jump that names the host itself is how a bastion inside a
    // group "behind the bastion" is written: it reaches the bastion directly.
    auto inherited_self_jump = [&](const std::string& key, const Setting& s, bool is_var) {
        if (is_var || key != "jump") {
            return false;
        }
        const auto& hops = s.value;
        return std::find(hops.begin(), hops.end(), nlohmann::json(raw.name)) != hops.end();
    };
    struct Picked {
        Setting setting;
        std::string origin;
    };
    auto pick = [&](const std::string& key, auto member) -> Result<std::optional<Picked>> {
        const bool is_var = member == &Level::vars;
        const auto& own = (raw.level.*member);
        if (auto it = own.find(key); it != own.end()) {
            return Picked{it->second, "host"};
        }
        std::optional<Picked> found;
        for (const auto& [group_name, group] : groups) {
            const auto& map = (group->level.*member);
            auto it = map.find(key);
            if (it == map.end() || inherited_self_jump(key, it->second, is_var)) {
                continue;
            }
            if (!found) {
                found = Picked{it->second, "group " + group_name};
            } else if (found->setting.value != it->second.value) {
                return fail_at(raw.level.where,
                               "host '" + raw.name + "' gets '" + key + "' from " + found->origin +
                                   " (" + found->setting.value.dump() + ", " +
                                   found->setting.where + ") and from group " + group_name + " (" +
                                   it->second.value.dump() + ", " + it->second.where +
                                   "); set it on the host or in only one of the groups");
            }
        }
        if (found) {
            return found;
        }
        const auto& defaults = (m_defaults.*member);
        if (auto it = defaults.find(key);
            it != defaults.end() && !inherited_self_jump(key, it->second, is_var)) {
            return Picked{it->second, "defaults"};
        }
        return std::optional<Picked>();
    };

    std::map<std::string, Picked> picked;
    std::vector<std::string> keys(kSettingKeys.begin(), kSettingKeys.end());
    keys.emplace_back("address");
    for (const auto& key : keys) {
        TRY_ASSIGN(auto p, pick(key, &Level::settings));
        if (p) {
            host.origins[key] = p->origin;
            picked.emplace(key, std::move(*p));
        }
    }
    auto value = [&](const char* key) -> const nlohmann::json* {
        auto it = picked.find(key);
        return it == picked.end() ? nullptr : &it->second.setting.value;
    };
    auto set_builtin = [&](const char* key) { host.origins.emplace(key, "built-in"); };

    if (auto* v = value("transport")) {
        host.transport = *parse_transport(v->get<std::string>());
    } else {
        set_builtin("transport");
    }
    const bool ssh = host.transport == Transport::Ssh;
    if (auto* v = value("address")) {
        host.address = v->get<std::string>();
    } else {
        host.address = ssh ? raw.name : "localhost";
        host.origins["address"] = ssh ? "name" : "built-in";
    }
    SshHostConfig from_ssh;
    if (ssh && m_ssh_config) {
        from_ssh = m_ssh_config->resolve(host.address);
        if (from_ssh.host_name) {
            host.address = *from_ssh.host_name;
            host.origins["address"] = "ssh_config";
        }
    }
    auto fill = [&](const char* key, bool from_config) {
        if (!value(key)) {
            host.origins[key] = from_config ? "ssh_config" : "built-in";
        }
    };

    if (auto* v = value("port")) {
        host.port = static_cast<std::uint16_t>(v->get<int>());
    } else {
        host.port = from_ssh.port.value_or(kDefaultPort);
        fill("port", from_ssh.port.has_value());
    }
    if (auto* v = value("user")) {
        host.user = v->get<std::string>();
    } else if (from_ssh.user) {
        host.user = *from_ssh.user;
        fill("user", true);
    }
    if (auto* v = value("identity_file")) {
        for (const auto& path : *v) {
            host.identity_files.push_back(absolute_path(path.get<std::string>()));
        }
    } else if (!from_ssh.identity_files.empty()) {
        host.identity_files = from_ssh.identity_files;
        fill("identity_file", true);
    }
    if (auto it = picked.find("jump"); it != picked.end()) {
        jump.specs = it->second.setting.value.get<std::vector<std::string>>();
        jump.where = it->second.setting.where;
    } else if (from_ssh.proxy_jump) {
        jump.specs = *from_ssh.proxy_jump;
        jump.from_ssh_config = true;
        jump.where = host.source + " (ProxyJump from ssh_config for '" +
                     (from_ssh.host_name ? std::string(host.address) : raw.name) + "')";
        fill("jump", true);
    }
    if (auto* v = value("become")) {
        host.become = v->get<bool>();
    }
    if (auto* v = value("jump_only")) {
        host.jump_only = v->get<bool>();
    }
    if (auto* v = value("host_key_policy")) {
        host.host_key_policy = *parse_host_key_policy(v->get<std::string>());
    } else {
        host.host_key_policy = from_ssh.host_key_policy.value_or(HostKeyPolicy::Strict);
        fill("host_key_policy", from_ssh.host_key_policy.has_value());
    }
    if (auto* v = value("connect_timeout")) {
        host.connect_timeout = std::chrono::milliseconds(v->get<std::int64_t>());
    } else if (from_ssh.connect_timeout && from_ssh.connect_timeout->count() > 0) {
        host.connect_timeout = *from_ssh.connect_timeout;
        fill("connect_timeout", true);
    } else {
        set_builtin("connect_timeout");
    }
    if (auto* v = value("command_timeout")) {
        host.command_timeout = std::chrono::milliseconds(v->get<std::int64_t>());
    } else {
        set_builtin("command_timeout");
    }
    if (auto* v = value("external_btf")) {
        host.external_btf = absolute_path(v->get<std::string>());
    }
    if (auto* v = value("known_hosts")) {
        host.known_hosts = absolute_path(v->get<std::string>());
    }

    // Tags: the union of every level's.
    std::set<std::string> tags(raw.level.tags.begin(), raw.level.tags.end());
    tags.insert(m_defaults.tags.begin(), m_defaults.tags.end());
    for (const auto& [group_name, group] : groups) {
        tags.insert(group->level.tags.begin(), group->level.tags.end());
    }
    host.tags.assign(tags.begin(), tags.end());

    // Vars: per key, host > groups > defaults.
    std::set<std::string> var_keys;
    for (const Level* level : std::initializer_list<const Level*>{&raw.level, &m_defaults}) {
        for (const auto& [key, setting] : level->vars) {
            var_keys.insert(key);
        }
    }
    for (const auto& [group_name, group] : groups) {
        for (const auto& [key, setting] : group->level.vars) {
            var_keys.insert(key);
        }
    }
    for (const auto& key : var_keys) {
        TRY_ASSIGN(auto p, pick(key, &Level::vars));
        if (p) {
            host.vars[key] = p->setting.value;
        }
    }
    return {};
}

Result<std::vector<Endpoint>>
Parser::expand_jumps(const JumpSource& jump, std::vector<std::string>& stack, int depth) const {
    std::vector<Endpoint> chain;
    if (jump.specs.empty()) {
        return chain;
    }
    if (depth >= kMaxJumpDepth) {
        return fail_at(jump.where, "jump chain of '" + stack.front() + "' is longer than " +
                                       std::to_string(kMaxJumpDepth) +
                                       " hops (a ProxyJump loop in ssh_config?)");
    }
    auto cycle = [&](const std::string& name) {
        std::string path;
        for (const auto& s : stack) {
            path += s + " -> ";
        }
        return fail_at(jump.where, "jump cycle: " + path + name);
    };
    for (std::size_t i = 0; i < jump.specs.size(); ++i) {
        const std::string& spec = jump.specs[i];
        const bool outside = jump.from_ssh_config || spec.find_first_of("@:[") != std::string::npos;
        if (!outside) {
            auto it = m_resolved.find(spec);
            if (it == m_resolved.end()) {
                std::vector<std::string_view> names;
                for (const auto& [name, host] : m_resolved) {
                    names.push_back(name);
                }
                return fail_at(jump.where, "unknown jump host '" + spec + "': no [hosts." + spec +
                                               "] in this inventory" + suggestion(spec, names) +
                                               "; write user@host or host:port for a machine "
                                               "outside it");
            }
            if (std::find(stack.begin(), stack.end(), spec) != stack.end()) {
                return cycle(spec);
            }
            const InventoryHost& hop = it->second;
            if (hop.transport != Transport::Ssh) {
                return fail_at(jump.where, "jump host '" + spec +
                                               "' has transport = \"local\"; a jump host must "
                                               "be reached over ssh");
            }
            if (i == 0) {
                stack.push_back(spec);
                TRY_ASSIGN(auto prefix, expand_jumps(m_jumps.at(spec), stack, depth + 1));
                stack.pop_back();
                chain.insert(chain.end(), prefix.begin(), prefix.end());
            }
            chain.push_back(hop.endpoint());
            continue;
        }
        auto parsed = parse_jump_spec(spec);
        if (!parsed) {
            return fail_at(jump.where, parsed.error().message);
        }
        Endpoint hop;
        hop.label = spec;
        hop.address = parsed->host;
        hop.user = parsed->user;
        SshHostConfig from_ssh;
        if (m_ssh_config) {
            from_ssh = m_ssh_config->resolve(parsed->host);
        }
        if (from_ssh.host_name) {
            hop.address = *from_ssh.host_name;
        }
        hop.port = parsed->port.value_or(from_ssh.port.value_or(kDefaultPort));
        if (hop.user.empty() && from_ssh.user) {
            hop.user = *from_ssh.user;
        }
        hop.identity_files = from_ssh.identity_files;
        hop.host_key_policy = HostKeyPolicy::Strict;
        if (from_ssh.host_key_policy) {
            hop.host_key_policy = *from_ssh.host_key_policy;
        } else if (auto it = m_defaults.settings.find("host_key_policy");
                   it != m_defaults.settings.end()) {
            hop.host_key_policy = *parse_host_key_policy(it->second.value.get<std::string>());
        }
        if (auto it = m_defaults.settings.find("known_hosts"); it != m_defaults.settings.end()) {
            hop.known_hosts = absolute_path(it->second.value.get<std::string>());
        }
        if (i == 0 && from_ssh.proxy_jump && !from_ssh.proxy_jump->empty()) {
            JumpSource nested{*from_ssh.proxy_jump, true,
                              jump.where + " (ProxyJump from ssh_config for '" + parsed->host +
                                  "')"};
            TRY_ASSIGN(auto prefix, expand_jumps(nested, stack, depth + 1));
            chain.insert(chain.end(), prefix.begin(), prefix.end());
        }
        chain.push_back(std::move(hop));
    }
    return chain;
}

} // namespace

Endpoint InventoryHost::endpoint() const {
    return Endpoint{name, address, port, user, identity_files, host_key_policy, known_hosts};
}

const InventoryHost* Inventory::find_host(std::string_view name) const {
    auto it =
        std::lower_bound(hosts.begin(), hosts.end(), name,
                         [](const InventoryHost& h, std::string_view n) { return h.name < n; });
    return it != hosts.end() && it->name == name ? &*it : nullptr;
}

const InventoryGroup* Inventory::find_group(std::string_view name) const {
    auto it =
        std::lower_bound(groups.begin(), groups.end(), name,
                         [](const InventoryGroup& g, std::string_view n) { return g.name < n; });
    return it != groups.end() && it->name == name ? &*it : nullptr;
}

Result<Inventory> parse_inventory(std::string_view text, std::string_view source_name,
                                  const SshConfig* ssh_config, const LocalEnvironment& env) {
    Parser parser(source_name, std::filesystem::path(source_name).parent_path(), ssh_config, env);
    return parser.run(text);
}

Result<Inventory> load_inventory(const std::filesystem::path& path,
                                 const InventoryOptions& options) {
    const LocalEnvironment env = options.environment.value_or(LocalEnvironment::current());
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return make_error("INVENTORY_NOT_FOUND", "is a directory, not an inventory file", EISDIR,
                          path.string());
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error("INVENTORY_NOT_FOUND",
                          "can't read the inventory: " + std::string(std::strerror(errno)), errno,
                          path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    std::optional<SshConfig> ssh_config;
    if (options.use_ssh_config) {
        TRY_ASSIGN(
            ssh_config,
            load_ssh_config(options.ssh_config_path.value_or(default_ssh_config_path(env)), env));
    }
    std::filesystem::path base = std::filesystem::absolute(path, ec).parent_path();
    Parser parser(path.string(), base, ssh_config ? &*ssh_config : nullptr, env);
    return parser.run(text.str());
}

Inventory local_inventory() {
    InventoryHost host;
    host.name = "localhost";
    host.address = "localhost";
    host.transport = Transport::Local;
    host.source = "<built-in>";
    for (const char* key :
         {"transport", "address", "host_key_policy", "connect_timeout", "command_timeout"}) {
        host.origins[key] = "built-in";
    }
    Inventory inventory;
    inventory.source = "<built-in>";
    inventory.hosts.push_back(std::move(host));
    return inventory;
}

} // namespace bpfleet::inventory
