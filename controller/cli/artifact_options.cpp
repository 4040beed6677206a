#include "cli/artifact_options.hpp"

#include <spdlog/spdlog.h>

namespace bpfleet::cli {

void add_artifact_options(CLI::App* cmd, ArtifactCliOptions& o, bool multi_arch) {
    if (multi_arch) {
        cmd->add_option(
            "--arch", o.arches,
            "Only this architecture (OCI name like amd64, arm64, or a uname -m); repeatable");
    } else {
        cmd->add_option("--arch", o.arches,
                        "Only this architecture (amd64, arm64, x86_64, aarch64, ...)")
            ->expected(1);
    }
    cmd->add_flag("--offline", o.offline, "Use only the local cache; never touch the network");
    cmd->add_flag(
        "--plain-http", o.plain_http,
        "Talk plain HTTP to the registry (loopback registries fall back to it by themselves)");
    cmd->add_option("--ca-file", o.ca_file, "PEM file of CA certificates to trust for the registry")
        ->check(CLI::ExistingFile);
    cmd->add_option("--cache-dir", o.cache_dir,
                    "Blob cache directory (default $BPFLEET_CACHE_DIR, $XDG_CACHE_HOME/bpfleet, "
                    "~/.cache/bpfleet)");
    cmd->add_option(
        "--creds", o.creds,
        "Registry credentials USER:PASS (prefer $BPFLEET_REGISTRY_CREDS or ~/.docker/config.json: "
        "a command line is visible to other users)");
    cmd->add_option("--timeout", o.timeout_s,
                    "Seconds without progress before a registry request is abandoned")
        ->check(CLI::Range(1.0, 3600.0));
    cmd->add_option("--retries", o.retries, "Retries on 429, 5xx and transport errors")
        ->check(CLI::Range(0, 10));
}

oci::ResolveOptions to_resolve_options(const ArtifactCliOptions& o) {
    oci::ResolveOptions r;
    r.architectures = o.arches;
    r.offline = o.offline;
    r.registry.plain_http = o.plain_http;
    r.registry.ca_file = o.ca_file;
    r.cache_dir = o.cache_dir;
    if (!o.creds.empty()) {
        r.credentials.creds = o.creds;
    }
    r.registry.stall_timeout_s = static_cast<long>(o.timeout_s);
    r.registry.connect_timeout_ms = static_cast<long>(o.timeout_s * 1000);
    r.registry.max_retries = o.retries;
    return r;
}

void print_error(const Error& e) {
    for (const Error* one : all_errors(e)) {
        spdlog::error("{} [{}]", one->describe(), one->code);
    }
}

} // namespace bpfleet::cli
