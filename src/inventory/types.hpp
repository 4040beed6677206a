// Small value types shared by the inventory and the ssh_config reader: the
// host-key policy, the transport, and the local facts ("~", the login name)
// that path expansion needs. Header-only; every function is pure except
// LocalEnvironment::current(), which reads $HOME, $USER and the passwd entry.
#pragma once

#include <cstdlib>
#include <optional>
#include <pwd.h>
#include <string>
#include <string_view>
#include <unistd.h>

namespace bpfleet::inventory {

// What to do with a host key that is not (yet) in known_hosts.
enum class HostKeyPolicy {
    Strict,    // unknown or changed key: refuse (the default)
    AcceptNew, // unknown key: record it and go on; changed key: refuse
    Off,       // no checking at all (throwaway VMs only)
};

enum class Transport {
    Ssh,   // libssh session, optionally through jump hosts
    Local, // the agent runs as a subprocess on the controller's machine
};

inline std::string_view to_string(HostKeyPolicy policy) {
    switch (policy) {
    case HostKeyPolicy::Strict:
        return "strict";
    case HostKeyPolicy::AcceptNew:
        return "accept-new";
    case HostKeyPolicy::Off:
        return "off";
    }
    return "strict";
}

inline std::optional<HostKeyPolicy> parse_host_key_policy(std::string_view text) {
    if (text == "strict") {
        return HostKeyPolicy::Strict;
    }
    if (text == "accept-new") {
        return HostKeyPolicy::AcceptNew;
    }
    if (text == "off") {
        return HostKeyPolicy::Off;
    }
    return std::nullopt;
}

inline std::string_view to_string(Transport transport) {
    return transport == Transport::Local ? "local" : "ssh";
}

inline std::optional<Transport> parse_transport(std::string_view text) {
    if (text == "ssh") {
        return Transport::Ssh;
    }
    if (text == "local") {
        return Transport::Local;
    }
    return std::nullopt;
}

// The controller's side of path expansion: what "~" (and ssh's %d) and %u
// stand for. Injected so that tests never depend on the real home.
struct LocalEnvironment {
    std::string home;       // without a trailing slash
    std::string local_user; // the controller's login name

    static LocalEnvironment current() {
        LocalEnvironment env;
        const passwd* pw = ::getpwuid(::getuid());
        if (const char* h = std::getenv("HOME"); h && *h) {
            env.home = h;
        } else if (pw && pw->pw_dir) {
            env.home = pw->pw_dir;
        }
        if (const char* u = std::getenv("USER"); u && *u) {
            env.local_user = u;
        } else if (pw && pw->pw_name) {
            env.local_user = pw->pw_name;
        }
        while (env.home.size() > 1 && env.home.back() == '/') {
            env.home.pop_back();
        }
        return env;
    }
};

} // namespace bpfleet::inventory
