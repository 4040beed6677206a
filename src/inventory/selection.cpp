// select_hosts, parse_shard and shard (declared in inventory/inventory.hpp).
#include "common/suggest.hpp"
#include "inventory/glob.hpp"
#include "inventory/inventory.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace bpfleet::inventory {
namespace {

constexpr std::size_t kMaxShards = 100000;
constexpr std::uintmax_t kMaxHostListBytes = 4u << 20;

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

tl::unexpected<Error> selector_error(std::string message) {
    return make_error("SELECTOR_INVALID", std::move(message), 0, "--limit");
}

// The names one term selects (jump-only hosts included; they are removed at the end).
Result<std::set<std::string>> match_term(const Inventory& inventory, std::string_view term,
                                         std::vector<std::string>& unknown) {
    std::set<std::string> matched;
    if (term == "all" || term == "*") {
        for (const auto& host : inventory.hosts) {
            matched.insert(host.name);
        }
        return matched;
    }
    if (term.starts_with("tag:")) {
        std::string_view tag = term.substr(4);
        if (tag.empty()) {
            return selector_error("'tag:' needs a tag name");
        }
        for (const auto& host : inventory.hosts) {
            if (std::any_of(host.tags.begin(), host.tags.end(),
                            [&](const std::string& t) { return glob_match(tag, t); })) {
                matched.insert(host.name);
            }
        }
        return matched;
    }
    if (term.starts_with("group:")) {
        std::string_view name = term.substr(6);
        if (name.empty()) {
            return selector_error("'group:' needs a group name");
        }
        bool any = false;
        for (const auto& group : inventory.groups) {
            if (glob_match(name, group.name)) {
                any = true;
                matched.insert(group.hosts.begin(), group.hosts.end());
            }
        }
        if (!any && !has_glob(name)) {
            std::vector<std::string> groups;
            for (const auto& group : inventory.groups) {
                groups.push_back(group.name);
            }
            return selector_error("unknown group '" + std::string(name) + "' in " +
                                  inventory.source + did_you_mean(name, groups));
        }
        return matched;
    }
    if (std::size_t colon = term.find(':'); colon != std::string_view::npos) {
        return selector_error("unknown selector '" + std::string(term.substr(0, colon + 1)) +
                              "' in '" + std::string(term) + "' (expected tag: or group:)");
    }
    if (has_glob(term)) {
        for (const auto& host : inventory.hosts) {
            if (glob_match(term, host.name)) {
                matched.insert(host.name);
            }
        }
        return matched;
    }
    if (!inventory.find_host(term)) {
        unknown.emplace_back(term);
    } else {
        matched.emplace(term);
    }
    return matched;
}

using Term = SelectorTerm;

// @FILE: one host name or pattern per line; blank lines and '#' comments are
// skipped (a list of failed hosts from an earlier run, written by hand or a script).
Result<std::vector<Term>> read_host_list(const std::string& path, Term::Sign sign,
                                         const std::string& context) {
    auto fail = [&](const std::string& why) {
        return make_error("SELECTOR_INVALID", why, 0, context + " @" + path);
    };
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return fail("no such file");
    }
    if (std::filesystem::file_size(path, ec) > kMaxHostListBytes) {
        return fail("larger than 4 MiB");
    }
    std::ifstream in(path);
    if (!in) {
        return fail("cannot be read");
    }
    std::vector<Term> terms;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        std::string_view text = trim(line);
        if (text.empty() || text.starts_with('#')) {
            continue;
        }
        if (text.starts_with('@') || text.starts_with('!') || text.starts_with('&')) {
            return make_error("SELECTOR_INVALID",
                              "a host list holds host names or patterns, not '" +
                                  std::string(text.substr(0, 1)) + "' terms",
                              0, path + ":" + std::to_string(number));
        }
        terms.push_back({sign, std::string(text), path + ":" + std::to_string(number)});
    }
    return terms;
}

} // namespace

Result<std::vector<SelectorTerm>> parse_selector_terms(std::string_view selector,
                                                       const std::string& context,
                                                       const std::string& base_dir) {
    auto refuse = [&](std::string message) {
        return make_error("SELECTOR_INVALID", std::move(message), 0, context);
    };
    std::vector<Term> terms;
    std::size_t start = 0;
    while (true) {
        std::size_t comma = selector.find(',', start);
        std::string_view text = trim(selector.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        Term::Sign sign = Term::Sign::Include;
        if (text.starts_with('!')) {
            sign = Term::Sign::Exclude;
        } else if (text.starts_with('&')) {
            sign = Term::Sign::Intersect;
        }
        if (sign != Term::Sign::Include) {
            text = trim(text.substr(1));
        }
        if (text.empty()) {
            return refuse("empty term in '" + std::string(selector) + "'");
        }
        const std::size_t set = terms.size();
        if (text.starts_with('@')) {
            std::vector<Term> listed;
            std::filesystem::path file(text.substr(1));
            if (!base_dir.empty() && file.is_relative()) {
                file = std::filesystem::path(base_dir) / file;
            }
            TRY_ASSIGN(listed, read_host_list(file.string(), sign, context));
            for (auto& term : listed) {
                term.set = set;
            }
            terms.insert(terms.end(), listed.begin(), listed.end());
        } else {
            terms.push_back({sign, std::string(text), "", set});
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return terms;
}

Result<std::vector<InventoryHost>> select_hosts(const Inventory& inventory,
                                                std::string_view selector) {
    std::set<std::string> included;
    std::set<std::string> excluded;
    std::map<std::size_t, std::set<std::string>> intersections; // by Term::set
    std::vector<std::string> unknown;
    bool any_positive = false;
    selector = trim(selector);
    std::vector<Term> terms;
    if (!selector.empty()) {
        TRY_ASSIGN(terms, parse_selector_terms(selector));
    }
    for (const Term& term : terms) {
        std::size_t unknown_before = unknown.size();
        TRY_ASSIGN(auto matched, match_term(inventory, term.text, unknown));
        if (!term.origin.empty() && unknown.size() > unknown_before) {
            unknown.back() += " (" + term.origin + ")";
        }
        switch (term.sign) {
        case Term::Sign::Exclude:
            excluded.insert(matched.begin(), matched.end());
            break;
        case Term::Sign::Intersect:
            intersections[term.set].insert(matched.begin(), matched.end());
            break;
        case Term::Sign::Include:
            any_positive = true;
            for (const auto& name : matched) {
                const InventoryHost* host = inventory.find_host(name);
                if (host && host->jump_only && name == term.text) {
                    return selector_error("'" + name +
                                          "' is a jump host only (jump_only = true) and is "
                                          "never checked");
                }
                included.insert(name);
            }
            break;
        }
    }
    if (!unknown.empty()) {
        std::vector<std::string> known;
        for (const auto& host : inventory.hosts) {
            if (!host.jump_only) {
                known.push_back(host.name);
            }
        }
        std::string names;
        for (const auto& name : unknown) {
            std::string bare = name.substr(0, name.find(' '));
            names += (names.empty() ? "" : ", ") + name + did_you_mean(bare, known);
        }
        return selector_error(
            std::string(unknown.size() == 1 ? "unknown host " : "unknown hosts ") + names +
            " (not in " + inventory.source + ")");
    }
    std::vector<InventoryHost> selected;
    for (const auto& host : inventory.hosts) {
        bool in = any_positive ? included.count(host.name) > 0 : true;
        for (const auto& [set, required] : intersections) {
            in = in && required.count(host.name) > 0;
        }
        if (in && !excluded.count(host.name) && !host.jump_only) {
            selected.push_back(host);
        }
    }
    if (selected.empty()) {
        return selector_error("'" + std::string(selector) + "' selects no host in " +
                              inventory.source);
    }
    return selected;
}

Result<ShardSpec> parse_shard(std::string_view text) {
    auto fail = [&](const std::string& why) {
        return make_error("SHARD_INVALID", "'" + std::string(text) + "': " + why, 0, "--shard");
    };
    std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) {
        return fail("expected I/N, e.g. 2/5");
    }
    auto number = [](std::string_view digits) -> std::optional<std::size_t> {
        std::size_t value = 0;
        if (digits.empty() || digits.size() > 9 ||
            !std::all_of(digits.begin(), digits.end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
            return std::nullopt;
        }
        std::from_chars(digits.data(), digits.data() + digits.size(), value);
        return value;
    };
    auto index = number(text.substr(0, slash));
    auto count = number(text.substr(slash + 1));
    if (!index || !count) {
        return fail("expected I/N with decimal numbers, e.g. 2/5");
    }
    if (*count == 0 || *count > kMaxShards) {
        return fail("N must be 1.." + std::to_string(kMaxShards));
    }
    if (*index == 0) {
        return fail("I counts from 1");
    }
    if (*index > *count) {
        return fail("I must not be greater than N");
    }
    return ShardSpec{*index, *count};
}

Result<std::vector<InventoryHost>> shard(std::vector<InventoryHost> hosts, std::size_t index,
                                         std::size_t count) {
    if (count == 0 || index == 0 || index > count) {
        return make_error("SHARD_INVALID",
                          "shard " + std::to_string(index) + "/" + std::to_string(count) +
                              " is not 1 <= I <= N",
                          0, "--shard");
    }
    std::sort(hosts.begin(), hosts.end(),
              [](const InventoryHost& a, const InventoryHost& b) { return a.name < b.name; });
    std::vector<InventoryHost> slice;
    for (std::size_t k = 0; k < hosts.size(); ++k) {
        if (k % count == index - 1) {
            slice.push_back(std::move(hosts[k]));
        }
    }
    return slice;
}

} // namespace bpfleet::inventory
