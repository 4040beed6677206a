#include "fleet/ssh_auth.hpp"

#include "fleet/ssh_link.hpp"
#include "inventory/types.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <libssh/libssh.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace bpfleet::fleet {
namespace {

// Asked for a key's passphrase: refuses. Without a callback libssh lets
// OpenSSL prompt on the terminal for PEM keys, which would stall every host.
int refuse_passphrase(const char*, char*, size_t, int, int, void*) {
    return -1;
}

// "SHA256:..." for a key, "?" when libssh cannot hash it.
std::string fingerprint(ssh_key key) {
    unsigned char* raw_hash = nullptr;
    size_t len = 0;
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &raw_hash, &len) != 0) {
        return "?";
    }
    const SshHashPtr hash(raw_hash);
    const SshTextPtr text(ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash.get(), len));
    return text ? text.get() : "?";
}

} // namespace

std::string user_ssh_dir() {
    const std::string home = inventory::LocalEnvironment::current().home;
    return home.empty() ? std::string() : home + "/.ssh";
}

HostExpected<void> check_host_key(SshLink& link) {
    const inventory::Endpoint& hop = link.hop();
    ssh_session session = link.session();
    if (hop.host_key_policy == inventory::HostKeyPolicy::Off) {
        return {};
    }
    ssh_key raw_key = nullptr;
    if (ssh_get_server_publickey(session, &raw_key) != SSH_OK) {
        return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                            link.describe() +
                                " sent no usable host key: " + ssh_get_error(session));
    }
    const SshKeyPtr key(raw_key);
    const std::string offered =
        std::string(ssh_key_type_to_char(ssh_key_type(key.get()))) + " " + fingerprint(key.get());
    const std::string& known = link.known_hosts();
    const std::string file = known.empty() ? user_ssh_dir() + "/known_hosts" : known;
    const std::string known_name =
        hop.port == 22 ? hop.address : "[" + hop.address + "]:" + std::to_string(hop.port);
    switch (ssh_session_is_known_server(session)) {
    case SSH_KNOWN_HOSTS_OK:
        return {};
    case SSH_KNOWN_HOSTS_CHANGED:
        return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                            "host key for " + known_name + " changed: the host offers " + offered +
                                ", " + file +
                                " holds another key. Someone may be intercepting the "
                                "connection; if the host was reinstalled, remove the old key with "
                                "ssh-keygen -R '" +
                                known_name + "' -f " + file);
    case SSH_KNOWN_HOSTS_OTHER:
        return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                            "host key for " + known_name + " changed type: the host offers " +
                                offered + ", " + file + " holds a key of another type for it");
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
        if (hop.host_key_policy == inventory::HostKeyPolicy::Strict) {
            return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                                "unknown host key for " + known_name + " (" + offered +
                                    ", not in " + file + "): add it (ssh-keyscan -p " +
                                    std::to_string(hop.port) + " " + hop.address + " >> " + file +
                                    ") or set host_key_policy = \"accept-new\"");
        }
        {
            // ~/.ssh is made private, as ssh makes it; an inventory's own
            // folder for a known_hosts file is made like any other.
            const std::filesystem::path parent = std::filesystem::path(file).parent_path();
            std::error_code ec;
            if (parent.filename() == ".ssh") {
                std::filesystem::create_directories(parent.parent_path(), ec);
                ::mkdir(parent.c_str(), 0700);
            } else {
                std::filesystem::create_directories(parent, ec);
            }
        }
        if (ssh_session_update_known_hosts(session) != SSH_OK) {
            return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                                "cannot record the host key of " + known_name + " in " + file +
                                    ": " + ssh_get_error(session));
        }
        link.set_added_host_key(AddedHostKey{known_name,
                                             ssh_key_type_to_char(ssh_key_type(key.get())),
                                             fingerprint(key.get()), file});
        return {};
    case SSH_KNOWN_HOSTS_ERROR:
        break;
    }
    return host_failure(HostStatus::HostkeyMismatch, "hostkey",
                        "cannot check the host key of " + known_name + " against " + file + ": " +
                            ssh_get_error(session));
}

asio::awaitable<HostExpected<void>> authenticate(SshLink& link, Deadline deadline) {
    ssh_session session = link.session();
    std::vector<std::string> keys = link.hop().identity_files;
    std::vector<std::string> tried;
    std::string key_problems;
    bool defaults = keys.empty();
    WaitResult why;
    if (defaults) {
        if (const char* sock = std::getenv("SSH_AUTH_SOCK"); sock && *sock) {
            int rc = co_await link.retry([&] { return ssh_userauth_agent(session, nullptr); },
                                         deadline, why, SSH_AUTH_AGAIN);
            if (why != WaitResult::Ready) {
                co_return tl::unexpected(
                    link.stopped(why, "auth", "authenticating with ssh-agent"));
            }
            if (rc == SSH_AUTH_SUCCESS) {
                co_return HostExpected<void>{};
            }
            if (rc == SSH_AUTH_ERROR) {
                co_return tl::unexpected(link.ssh_failure(HostStatus::AuthFailed, "auth",
                                                          "ssh-agent authentication", false));
            }
            tried.emplace_back("ssh-agent");
        }
        if (const std::string dir = user_ssh_dir(); !dir.empty()) {
            for (const char* name : {"id_ed25519", "id_ecdsa", "id_rsa"}) {
                std::string path = dir + "/" + name;
                if (access(path.c_str(), R_OK) == 0) {
                    keys.push_back(path);
                }
            }
        }
    }
    for (const auto& path : keys) {
        ssh_key raw_key = nullptr;
        if (ssh_pki_import_privkey_file(path.c_str(), nullptr, refuse_passphrase, nullptr,
                                        &raw_key) != SSH_OK) {
            key_problems +=
                "; cannot use " + path +
                (access(path.c_str(), R_OK) != 0 ? " (" + std::string(std::strerror(errno)) + ")"
                                                 : " (not a key, or protected by a passphrase: "
                                                   "load it into ssh-agent)");
            continue;
        }
        const SshKeyPtr key(raw_key);
        int rc =
            co_await link.retry([&] { return ssh_userauth_publickey(session, nullptr, key.get()); },
                                deadline, why, SSH_AUTH_AGAIN);
        if (why != WaitResult::Ready) {
            co_return tl::unexpected(link.stopped(why, "auth", "authenticating with " + path));
        }
        if (rc == SSH_AUTH_SUCCESS) {
            co_return HostExpected<void>{};
        }
        if (rc == SSH_AUTH_ERROR) {
            co_return tl::unexpected(link.ssh_failure(HostStatus::AuthFailed, "auth",
                                                      "public-key authentication", false));
        }
        tried.push_back(path);
    }
    if (tried.empty()) {
        co_return host_failure(HostStatus::AuthFailed, "auth",
                               key_problems.empty()
                                   ? "no key to offer " + link.describe() +
                                         " (no identity_file, no ssh-agent, no ~/.ssh/id_* key)"
                                   : "no usable key to offer " + link.describe() + ": " +
                                         key_problems.substr(2));
    }
    std::string list;
    for (const auto& t : tried) {
        list += (list.empty() ? "" : ", ") + t;
    }
    co_return host_failure(HostStatus::AuthFailed, "auth",
                           link.describe() + " refused every key tried: " + list + key_problems);
}

} // namespace bpfleet::fleet
