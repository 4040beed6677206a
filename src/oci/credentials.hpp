// Registry credentials, found where docker and podman keep them: --creds
// USER:PASS, $BPFLEET_REGISTRY_CREDS, then the auth files (auth_files()) in
// order. In each file `credHelpers` (the registry's own helper), `credsStore`
// (the default helper) and `auths` are asked in turn; a helper is the program
// `docker-credential-NAME`, run with `get` and the server on its stdin (the
// docker credential-helper protocol). A Credentials value is never printed,
// logged or written anywhere; error messages name only where credentials came
// from. Errors: CREDENTIALS_INVALID (a file or a helper's answer that cannot
// be read), CREDENTIAL_HELPER (a helper that cannot be run or fails).
#pragma once

#include "common/result.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

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

// The auth files, in the order they are read: $REGISTRY_AUTH_FILE alone when
// it is set; otherwise $XDG_RUNTIME_DIR/containers/auth.json,
// ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json and
// $DOCKER_CONFIG/config.json (or ~/.docker/config.json). Files that do not
// exist are listed too.
std::vector<std::filesystem::path> auth_files();

// Where credentials are looked for, for a message when a registry wants them
// and none were found: "--creds, $BPFLEET_REGISTRY_CREDS, FILE, FILE".
std::string describe_credential_sources(const CredentialOptions& options);

// The credentials to use for `registry` (host[:port]), or nullopt for anonymous.
Result<std::optional<Credentials>> find_credentials(const std::string& registry,
                                                    const CredentialOptions& options);

std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view data);

} // namespace bpfleet::oci
