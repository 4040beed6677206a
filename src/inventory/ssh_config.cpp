#include "inventory/ssh_config.hpp"

#include "inventory/glob.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace bpfleet::inventory {
namespace {

constexpr const char* kCode = "SSH_CONFIG_INVALID";

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

// Splits the arguments of one line: whitespace-separated, double quotes group,
// an unquoted word that starts with '#' ends the line. Returns nullopt on an
// unterminated quote.
std::optional<std::vector<std::string>> split_args(std::string_view rest) {
    std::vector<std::string> args;
    std::size_t i = 0;
    while (i < rest.size()) {
        while (i < rest.size() && is_space(rest[i])) {
            ++i;
        }
        if (i >= rest.size() || rest[i] == '#') {
            break;
        }
        std::string arg;
        if (rest[i] == '"') {
            std::size_t close = rest.find('"', i + 1);
            if (close == std::string_view::npos) {
                return std::nullopt;
            }
            arg = rest.substr(i + 1, close - i - 1);
            i = close + 1;
        } else {
            while (i < rest.size() && !is_space(rest[i])) {
                arg += rest[i++];
            }
        }
        args.push_back(std::move(arg));
    }
    return args;
}

// ssh's %-tokens. Unknown tokens stay as written.
std::string expand_tokens(std::string_view text, std::string_view host, std::string_view user,
                          const LocalEnvironment& env) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%' || i + 1 >= text.size()) {
            out += text[i];
            continue;
        }
        char token = text[++i];
        switch (token) {
        case '%':
            out += '%';
            break;
        case 'h':
            out += host;
            break;
        case 'r':
            out += user;
            break;
        case 'u':
            out += env.local_user;
            break;
        case 'd':
            out += env.home;
            break;
        default:
            out += '%';
            out += token;
            break;
        }
    }
    return out;
}

std::string expand_tilde(std::string_view path, const LocalEnvironment& env) {
    if (path == "~") {
        return env.home;
    }
    if (path.size() >= 2 && path[0] == '~' && path[1] == '/') {
        return env.home + std::string(path.substr(1));
    }
    return std::string(path);
}

std::optional<HostKeyPolicy> parse_strict_host_key_checking(std::string_view value) {
    std::string v = lower(value);
    if (v == "yes" || v == "ask" || v == "true") {
        return HostKeyPolicy::Strict;
    }
    if (v == "accept-new") {
        return HostKeyPolicy::AcceptNew;
    }
    if (v == "no" || v == "off" || v == "false") {
        return HostKeyPolicy::Off;
    }
    return std::nullopt;
}

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        std::size_t comma = text.find(',', start);
        parts.emplace_back(text.substr(start, comma - start));
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return parts;
}

} // namespace

Result<JumpSpec> parse_jump_spec(std::string_view text) {
    auto fail = [&](const std::string& why) {
        return make_error("JUMP_INVALID", "jump host '" + std::string(text) + "': " + why);
    };
    std::string_view rest = text;
    if (rest.starts_with("ssh://")) {
        rest.remove_prefix(6);
    }
    JumpSpec spec;
    if (std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
        spec.user = rest.substr(0, at);
        rest.remove_prefix(at + 1);
        if (spec.user.empty()) {
            return fail("empty user before '@'");
        }
    }
    std::string_view port_text;
    bool has_port = false;
    if (rest.starts_with("[")) {
        std::size_t close = rest.find(']');
        if (close == std::string_view::npos) {
            return fail("missing ']' after an IPv6 address");
        }
        spec.host = rest.substr(1, close - 1);
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') {
                return fail("unexpected text after ']'");
            }
            port_text = after.substr(1);
            has_port = true;
        }
    } else if (std::count(rest.begin(), rest.end(), ':') == 1) {
        std::size_t colon = rest.find(':');
        spec.host = rest.substr(0, colon);
        port_text = rest.substr(colon + 1);
        has_port = true;
    } else {
        spec.host = rest; // a host name, or a bare IPv6 address without a port
    }
    if (spec.host.empty()) {
        return fail("empty host");
    }
    for (char c : spec.host + spec.user) {
        if (is_space(c) || c == '/' || c == ',' || c == '\n') {
            return fail("unexpected character '" + std::string(1, c) + "'");
        }
    }
    if (has_port) {
        auto port = parse_port(port_text);
        if (!port) {
            return fail("port '" + std::string(port_text) + "' is not a number in 1..65535");
        }
        spec.port = port;
    }
    return spec;
}

bool SshConfig::Block::matches(std::string_view lower_alias) const {
    bool positive = false;
    for (const auto& pattern : patterns) {
        if (pattern.starts_with("!")) {
            if (glob_match(std::string_view(pattern).substr(1), lower_alias)) {
                return false; // a matching negation rules the block out
            }
        } else if (glob_match(pattern, lower_alias)) {
            positive = true;
        }
    }
    return positive;
}

Result<SshConfig> parse_ssh_config(std::string_view text, std::string_view source_name,
                                   const LocalEnvironment& env) {
    SshConfig config;
    config.m_env = env;
    config.m_blocks.push_back(SshConfig::Block{{"*"}, {}});
    int line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t eol = text.find('\n', pos);
        std::string_view line =
            text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
        pos = eol == std::string_view::npos ? text.size() + 1 : eol + 1;
        ++line_no;
        const std::string where = std::string(source_name) + ":" + std::to_string(line_no);

        std::size_t i = 0;
        while (i < line.size() && is_space(line[i])) {
            ++i;
        }
        if (i >= line.size() || line[i] == '#') {
            continue;
        }
        std::size_t kw_end = i;
        while (kw_end < line.size() && !is_space(line[kw_end]) && line[kw_end] != '=') {
            ++kw_end;
        }
        std::string keyword = lower(line.substr(i, kw_end - i));
        std::size_t j = kw_end;
        while (j < line.size() && is_space(line[j])) {
            ++j;
        }
        if (j < line.size() && line[j] == '=') {
            ++j;
        }
        auto args = split_args(line.substr(j));
        if (!args) {
            return make_error(kCode, "unterminated quote", 0, where);
        }
        if (args->empty()) {
            return make_error(
                kCode, "'" + std::string(line.substr(i, kw_end - i)) + "' needs a value", 0, where);
        }

        if (keyword == "host") {
            SshConfig::Block block;
            for (const auto& arg : *args) {
                block.patterns.push_back(lower(arg));
            }
            config.m_blocks.push_back(std::move(block));
            continue;
        }
        if (keyword == "match") {
            SshConfig::Block block;
            if (args->size() == 1 && lower((*args)[0]) == "all") {
                block.patterns.emplace_back("*");
            } else {
                config.m_notes.push_back(where +
                                         ": 'Match' blocks are not evaluated; their options "
                                         "are ignored");
            }
            config.m_blocks.push_back(std::move(block));
            continue;
        }
        if (keyword == "include") {
            config.m_notes.push_back(where + ": 'Include' is not followed");
            continue;
        }

        // Validate the options we honour now, so that a bad value is reported
        // with its line even if no host ever resolves through it.
        const std::string& value = (*args)[0];
        if (keyword == "port" && !parse_port(value)) {
            return make_error(kCode, "Port '" + value + "' is not a number in 1..65535", 0, where);
        }
        if (keyword == "stricthostkeychecking" && !parse_strict_host_key_checking(value)) {
            return make_error(kCode,
                              "StrictHostKeyChecking '" + value +
                                  "' is not one of yes, accept-new, no, off, ask",
                              0, where);
        }
        if (keyword == "connecttimeout") {
            unsigned seconds = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
            if (ec != std::errc() || end != value.data() + value.size()) {
                return make_error(
                    kCode, "ConnectTimeout '" + value + "' is not a number of seconds", 0, where);
            }
        }
        if (keyword == "proxyjump" && lower(value) != "none") {
            for (const auto& hop : split_commas(value)) {
                if (auto spec = parse_jump_spec(hop); !spec) {
                    return make_error(kCode, "ProxyJump: " + spec.error().message, 0, where);
                }
            }
        }
        if (keyword == "hostname" || keyword == "port" || keyword == "user" ||
            keyword == "identityfile" || keyword == "proxyjump" ||
            keyword == "stricthostkeychecking" || keyword == "connecttimeout") {
            config.m_blocks.back().options.push_back(
                SshConfig::Option{std::move(keyword), std::move(*args), line_no});
        }
    }
    // Only the implicit global block and nothing in it: an empty config.
    if (config.m_blocks.size() == 1 && config.m_blocks[0].options.empty()) {
        config.m_blocks.clear();
    }
    return config;
}

SshHostConfig SshConfig::resolve(std::string_view alias) const {
    SshHostConfig out;
    std::vector<std::string> raw_identity_files;
    const std::string lower_alias = lower(alias);
    for (const auto& block : m_blocks) {
        if (!block.matches(lower_alias)) {
            continue;
        }
        for (const auto& option : block.options) {
            const std::string& value = option.args[0];
            if (option.keyword == "identityfile") {
                raw_identity_files.push_back(value);
            } else if (option.keyword == "hostname" && !out.host_name) {
                out.host_name = expand_tokens(value, alias, "", m_env);
            } else if (option.keyword == "port" && !out.port) {
                out.port = parse_port(value);
            } else if (option.keyword == "user" && !out.user) {
                out.user = value;
            } else if (option.keyword == "proxyjump" && !out.proxy_jump) {
                out.proxy_jump.emplace();
                if (lower(value) != "none") {
                    *out.proxy_jump = split_commas(value);
                }
            } else if (option.keyword == "stricthostkeychecking" && !out.host_key_policy) {
                out.host_key_policy = parse_strict_host_key_checking(value);
            } else if (option.keyword == "connecttimeout" && !out.connect_timeout) {
                out.connect_timeout = std::chrono::seconds(std::stoul(value));
            }
        }
    }
    const std::string host = out.host_name.value_or(std::string(alias));
    const std::string user = out.user.value_or(m_env.local_user);
    for (const auto& raw : raw_identity_files) {
        out.identity_files.push_back(expand_tilde(expand_tokens(raw, host, user, m_env), m_env));
    }
    return out;
}

Result<SshConfig> load_ssh_config(const std::filesystem::path& path, const LocalEnvironment& env) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return parse_ssh_config("", path.string(), env);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error(kCode, "can't read the file", errno, path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_ssh_config(text.str(), path.string(), env);
}

std::filesystem::path default_ssh_config_path(const LocalEnvironment& env) {
    return std::filesystem::path(env.home) / ".ssh" / "config";
}

} // namespace bpfleet::inventory
