// The artifact options shared by every command that reads artifacts
// (inspect, pull, and later run): --arch, --offline, --plain-http,
// --ca-file, --cache-dir, --creds, --timeout. Plain values; the CLI11 binding
// keeps references to an ArtifactCliOptions that must outlive the parse.
#pragma once

#include "oci/resolve.hpp"

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace bpfleet::cli {

struct ArtifactCliOptions {
    std::vector<std::string> arches;
    bool offline = false;
    bool plain_http = false;
    std::string ca_file;
    std::string cache_dir;
    std::string creds; // USER:PASS; never printed
    double timeout_s = 30;
    int retries = 3;
};

// Adds the options to `cmd`; `multi_arch` allows --arch more than once.
void add_artifact_options(CLI::App* cmd, ArtifactCliOptions& options, bool multi_arch);

oci::ResolveOptions to_resolve_options(const ArtifactCliOptions& options);

// "bpfleet: <context>: <message> [CODE]" on stderr.
void print_error(const Error& e);

} // namespace bpfleet::cli
