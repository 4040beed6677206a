#include "ssh/test_inventory.hpp"

#include "oci/image_builder.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace bpfleet::test {
namespace {

std::string toml_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

std::string toml_array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += (i ? ", " : "") + toml_string(items[i]);
    }
    return out + "]";
}

std::string toml_number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

std::string toml_key(const std::string& name) {
    bool bare = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
    return bare ? name : toml_string(name);
}

} // namespace

HostSpec host_spec(const std::string& name, const SshdFixture& sshd, const ClientKey& key) {
    HostSpec h;
    h.name = name;
    h.port = sshd.port();
    h.identity_files = {key.private_key};
    return h;
}

std::string inventory_toml(const std::vector<HostSpec>& hosts) {
    std::ostringstream t;
    t << "# written by tests/integration/ssh\n";
    for (const auto& h : hosts) {
        t << "\n[hosts." << toml_key(h.name) << "]\n";
        if (!h.address.empty()) {
            t << "address = " << toml_string(h.address) << "\n";
        }
        if (h.port) {
            t << "port = " << h.port << "\n";
        }
        if (!h.user.empty()) {
            t << "user = " << toml_string(h.user) << "\n";
        }
        if (!h.identity_files.empty()) {
            std::vector<std::string> files;
            for (const auto& f : h.identity_files) {
                files.push_back(f.string());
            }
            t << "identity_file = " << toml_array(files) << "\n";
        }
        if (!h.host_key_policy.empty()) {
            t << "host_key_policy = " << toml_string(h.host_key_policy) << "\n";
        }
        if (!h.jump.empty()) {
            t << "jump = " << toml_array(h.jump) << "\n";
        }
        if (h.become) {
            t << "become = " << (*h.become ? "true" : "false") << "\n";
        }
        if (h.jump_only) {
            t << "jump_only = true\n";
        }
        if (!h.tags.empty()) {
            t << "tags = " << toml_array(h.tags) << "\n";
        }
        if (h.connect_timeout > 0) {
            t << "connect_timeout = " << toml_number(h.connect_timeout) << "\n";
        }
        if (h.command_timeout > 0) {
            t << "command_timeout = " << toml_number(h.command_timeout) << "\n";
        }
        for (const auto& line : h.extra_lines) {
            t << line << "\n";
        }
    }
    return t.str();
}

fs::path write_inventory(const fs::path& file, const std::vector<HostSpec>& hosts) {
    fs::create_directories(file.parent_path());
    write_text(file, inventory_toml(hosts));
    return file;
}

} // namespace bpfleet::test
