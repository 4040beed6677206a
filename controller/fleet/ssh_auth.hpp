// Trust and login on a link that has finished its handshake: the host key
// against known_hosts under the hop's policy (strict, accept-new, off), then
// public-key authentication (the hop's identity files, else ssh-agent and
// ~/.ssh/id_{ed25519,ecdsa,rsa}). Never prompts: a key with a passphrase is
// passed over with the reason. Failures are HostFailures at stage "hostkey"
// (hostkey_mismatch) or "auth" (auth_failed), never retried.
#pragma once

#include "fleet/deadline.hpp"
#include "fleet/host_failure.hpp"

#include <boost/asio/awaitable.hpp>
#include <string>

namespace bpfleet::fleet {

class SshLink;

// The controller user's ~/.ssh: $HOME/.ssh, or the passwd home's when $HOME
// is unset (the same home the inventory expands `~` with). The default
// known_hosts file and the default keys are both taken from it, so that they
// never come from two different homes.
std::string user_ssh_dir();

HostExpected<void> check_host_key(SshLink& link);

asio::awaitable<HostExpected<void>> authenticate(SshLink& link, Deadline deadline);

} // namespace bpfleet::fleet
