// Registry credentials: from --creds USER:PASS, $BPFLEET_REGISTRY_CREDS, or the
// `auths` of a Docker config file ($REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json,
// ~/.docker/config.json). A Credentials value is never printed, logged or
// written anywhere; error messages name only where credentials came from.
// Errors: CREDENTIALS_INVALID.
#pragma once

#include "common/result.hpp"

#include <optional>
#include <string>

namespace bpfleet::oci {

struct Credentials {
    std::string username;
    std::string password;
    std::string origin; // "--creds", "BPFLEET_REGISTRY_CREDS", "/root/.docker/config.json"
};

struct CredentialOptions {
    std::optional<std::string> creds; // "USER:PASS" from the command line
    bool use_environment = true;      // BPFLEET_REGISTRY_CREDS
    bool use_docker_config = true;
};

// "USER:PASS" → Credentials; `origin` names where the text came from.
Result<Credentials> parse_user_pass(const std::string& text, const std::string& origin);

// The credentials to use for `registry` (host[:port]), or nullopt for anonymous.
Result<std::optional<Credentials>> find_credentials(const std::string& registry,
                                                    const CredentialOptions& options);

std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view data);

} // namespace bpfleet::oci
