#include "inventory/document.hpp"

#include "inventory/names.hpp"
#include "inventory/ssh_config.hpp"
#include "inventory/toml_values.hpp"
#include "inventory/types.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace bpfleet::inventory {
namespace {

enum class LevelKind { Defaults, Group, Host };

class DocumentReader {
public:
    explicit DocumentReader(std::string_view source) : m_source(source) {}

    Result<Document> run(std::string_view text);

private:
    tl::unexpected<Error> fail(const toml::source_region& region, std::string message) const {
        return inventory_error(where(m_source, region), std::move(message));
    }

    // Each reader below records what is wrong in m_errors and goes on with
    // the next key, so that one pass names every mistake in the file.
    Result<void> read_top(const toml::key& key_obj, const toml::node& node);
    Result<void> read_entry(const toml::key& name_obj, const toml::node& entry,
                            const std::string& key, bool is_host);
    Level read_level(const toml::table& table, std::string_view path, LevelKind kind, RawHost* host,
                     RawGroup* group);
    Result<void> read_key(const toml::key& key_obj, const toml::node& node, std::string_view path,
                          const std::vector<std::string_view>& allowed, Level& level,
                          LevelKind kind, RawHost* host, RawGroup* group);
    Result<Document> finish();
    tl::unexpected<Error> sorted_errors();
    Result<nlohmann::json> read_setting(std::string_view key, const toml::node& node,
                                        const std::string& path) const;
    Result<std::vector<std::string>> read_names(const toml::node& node, const std::string& path,
                                                std::string_view what) const;

    std::string m_source;
    Document m_doc;
    ErrorList m_errors;
};

Result<std::vector<std::string>> DocumentReader::read_names(const toml::node& node,
                                                            const std::string& path,
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

Result<nlohmann::json> DocumentReader::read_setting(std::string_view key, const toml::node& node,
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

Level DocumentReader::read_level(const toml::table& table, std::string_view path, LevelKind kind,
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
        m_errors.check(read_key(key_obj, node, path, allowed, level, kind, host, group));
    }
    return level;
}

Result<void> DocumentReader::read_key(const toml::key& key_obj, const toml::node& node,
                                      std::string_view path,
                                      const std::vector<std::string_view>& allowed, Level& level,
                                      LevelKind kind, RawHost* host, RawGroup* group) {
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
        return fail(key_obj.source(), "unknown key '" + key + "' in [" + std::string(path) + "]" +
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
            return fail(node.source(),
                        "'" + key_path + "' must be a table, not " + std::string(type_name(node)));
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
    return {};
}

Result<Document> DocumentReader::run(std::string_view text) {
    toml::table doc;
    try {
        doc = toml::parse(text, m_source);
    } catch (const toml::parse_error& e) {
        return make_error(kInventoryInvalid, std::string(e.description()), 0,
                          where(m_source, e.source()));
    }
    for (const auto& [key_obj, node] : doc) {
        m_errors.check(read_top(key_obj, node));
    }
    if (!m_errors.empty()) {
        return sorted_errors();
    }
    return finish();
}

tl::unexpected<Error> DocumentReader::sorted_errors() {
    // TOML tables iterate by key: put the mistakes back in the file's order.
    auto place = [](const Error& e) {
        unsigned line = 0;
        unsigned column = 0;
        const auto colon = e.context.rfind(':');
        const auto before = colon == std::string::npos || colon == 0
                                ? std::string::npos
                                : e.context.rfind(':', colon - 1);
        if (before != std::string::npos) {
            line = static_cast<unsigned>(std::strtoul(e.context.c_str() + before + 1, nullptr, 10));
            column =
                static_cast<unsigned>(std::strtoul(e.context.c_str() + colon + 1, nullptr, 10));
        }
        return std::pair{line, column};
    };
    m_errors.sort([&](const Error& a, const Error& b) { return place(a) < place(b); });
    return std::move(m_errors).combined();
}

Result<void> DocumentReader::read_top(const toml::key& key_obj, const toml::node& node) {
    const std::vector<std::string_view> top_keys = {"defaults", "hosts", "groups"};
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
        m_doc.defaults = read_level(*table, "defaults", LevelKind::Defaults, nullptr, nullptr);
        return {};
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
        m_errors.check(read_entry(name_obj, entry, key, is_host));
    }
    return {};
}

Result<void> DocumentReader::read_entry(const toml::key& name_obj, const toml::node& entry,
                                        const std::string& key, bool is_host) {
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
        return fail(entry.source(), "'" + path + "' must be a table ([" + path + "]), not " +
                                        std::string(type_name(entry)));
    }
    if (is_host) {
        RawHost raw;
        raw.name = name;
        raw.level = read_level(*table, path, LevelKind::Host, &raw, nullptr);
        m_doc.hosts[name] = std::move(raw);
    } else {
        RawGroup group;
        group.level = read_level(*table, path, LevelKind::Group, nullptr, &group);
        m_doc.groups[name] = std::move(group);
    }
    return {};
}

Result<Document> DocumentReader::finish() {
    if (m_doc.hosts.empty()) {
        return make_error(kInventoryInvalid,
                          "the inventory defines no hosts (add a [hosts.NAME] table)", 0, m_source);
    }

    // Group membership, from both sides.
    std::vector<std::string_view> host_names;
    for (const auto& [name, raw] : m_doc.hosts) {
        host_names.push_back(name);
    }
    for (const auto& [group_name, group] : m_doc.groups) {
        for (const auto& [member, at] : group.members) {
            if (!m_doc.hosts.count(member)) {
                m_errors.add(inventory_error(at, "unknown host '" + member + "' in groups." +
                                                     group_name + ".hosts" +
                                                     suggestion(member, host_names))
                                 .value());
            }
        }
    }
    if (!m_errors.empty()) {
        return sorted_errors();
    }
    for (const auto& [name, raw] : m_doc.hosts) {
        for (const auto& group_name : raw.groups) {
            auto [it, inserted] = m_doc.groups.try_emplace(group_name);
            if (inserted) {
                it->second.implicit = true;
            }
            it->second.members.emplace(name, raw.level.where);
        }
    }
    m_doc.source = m_source;
    return std::move(m_doc);
}

} // namespace

Result<Document> read_document(std::string_view text, std::string_view source) {
    return DocumentReader(source).run(text);
}

std::string PathContext::absolute(const std::string& path) const {
    std::string expanded = path;
    if (path == "~") {
        expanded = home;
    } else if (path.starts_with("~/")) {
        expanded = home + path.substr(1);
    }
    std::filesystem::path p(expanded);
    if (p.is_relative() && !base_dir.empty()) {
        p = base_dir / p;
    }
    return p.lexically_normal().string();
}

} // namespace bpfleet::inventory
