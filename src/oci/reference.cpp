#include "oci/reference.hpp"

#include "oci/archive.hpp"
#include "oci/digest.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

namespace bpfleet::oci {
namespace {

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// path-component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool valid_repo_component(std::string_view c) {
    if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) {
        return false;
    }
    for (std::size_t i = 0; i < c.size(); ++i) {
        char ch = c[i];
        if (is_lower_alnum(ch)) {
            continue;
        }
        if (ch == '.') {
            if (!is_lower_alnum(c[i + 1])) {
                return false;
            }
        } else if (ch == '_') {
            if (c[i + 1] == '_') {
                ++i;
            }
            if (!is_lower_alnum(c[i + 1])) {
                return false;
            }
        } else if (ch == '-') {
            while (c[i + 1] == '-') {
                ++i;
            }
            if (!is_lower_alnum(c[i + 1])) {
                return false;
            }
        } else {
            return false;
        }
    }
    return true;
}

// tag: [\w][\w.-]{0,127}
bool valid_tag(std::string_view t) {
    if (t.empty() || t.size() > 128) {
        return false;
    }
    auto word = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    };
    if (!word(t.front())) {
        return false;
    }
    for (char c : t) {
        if (!word(c) && c != '.' && c != '-') {
            return false;
        }
    }
    return true;
}

// host[:port], host being a DNS name, IPv4 or a bracketed IPv6 address.
bool valid_registry_host(std::string_view h) {
    if (h.empty() || h.size() > 255) {
        return false;
    }
    std::string_view host = h;
    std::string_view port;
    if (h.front() == '[') {
        auto close = h.find(']');
        if (close == std::string_view::npos) {
            return false;
        }
        for (char c : h.substr(1, close - 1)) {
            if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
                return false;
            }
        }
        std::string_view rest = h.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return false;
            }
            port = rest.substr(1);
            if (port.empty()) {
                return false;
            }
        }
        host = {};
    } else {
        auto colon = h.find(':');
        if (colon != std::string_view::npos) {
            host = h.substr(0, colon);
            port = h.substr(colon + 1);
            if (port.empty()) {
                return false;
            }
        }
    }
    if (port.size() > 5) {
        return false;
    }
    for (char c : port) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    for (char c : host) {
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
        if (!ok) {
            return false;
        }
    }
    if (!host.empty() && (host.front() == '.' || host.front() == '-' || host.back() == '.')) {
        return false;
    }
    return h.front() == '[' || !host.empty();
}

bool looks_like_host(std::string_view first) {
    return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
           first == "localhost" || (!first.empty() && first.front() == '[');
}

Result<void> fail(std::string_view text, const std::string& why) {
    return make_error("ARTIFACT_INVALID", why, 0,
                      "reference '" + std::string(text.substr(0, 300)) + "'");
}

// Splits "PATH[:TAG]" at the first ':' the way skopeo does for oci: and
// oci-archive: (a path therefore cannot contain ':').
void split_path_tag(std::string_view rest, std::string& path, std::string& tag) {
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) {
        path = std::string(rest);
        tag.clear();
    } else {
        path = std::string(rest.substr(0, colon));
        tag = std::string(rest.substr(colon + 1));
    }
}

enum class FileKind { Elf, Archive, Other };

// What a file is, by its first bytes: an ELF header, or what libarchive reads.
FileKind file_kind(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> head(512);
    in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (head.size() >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') {
        return FileKind::Elf;
    }
    return looks_like_archive(head) ? FileKind::Archive : FileKind::Other;
}

// trace_exec, trace_open:v0.30.0, top_file@sha256:...: one word, no '/', no '.'.
bool is_gadget_short_name(std::string_view text) {
    std::string_view name = text.substr(0, text.find_first_of(":@"));
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return is_lower_alnum(c) || c == '_' || c == '-';
    });
}

} // namespace

std::string_view to_string(SourceKind kind) {
    switch (kind) {
    case SourceKind::ObjectFile:
        return "object";
    case SourceKind::LayoutDir:
        return "oci-layout";
    case SourceKind::Archive:
        return "archive";
    case SourceKind::DockerArchive:
        return "docker-archive";
    case SourceKind::Registry:
        return "registry";
    }
    return "unknown";
}

std::string RegistryReference::str() const {
    std::string s = registry + "/" + repository;
    if (!tag.empty()) {
        s += ":" + tag;
    }
    if (!digest.empty()) {
        s += "@" + digest;
    }
    return s;
}

bool RegistryReference::is_loopback() const {
    std::string_view h = registry;
    std::string_view host = h;
    if (h.starts_with('[')) {
        host = h.substr(1, h.find(']') - 1);
        return host == "::1";
    }
    host = h.substr(0, h.find(':'));
    return host == "localhost" || host.starts_with("127.");
}

Result<RegistryReference> parse_registry_reference(std::string_view text, bool default_docker_hub) {
    if (text.empty() || text.size() > 1024) {
        TRY(fail(text, "a registry reference is 1 to 1024 characters"));
    }
    RegistryReference ref;
    std::string_view name = text;
    auto at = name.find('@');
    if (at != std::string_view::npos) {
        auto digest = parse_digest(name.substr(at + 1));
        if (!digest) {
            TRY(fail(text, digest.error().message));
        }
        ref.digest = digest->str();
        name = name.substr(0, at);
    }
    auto slash = name.find('/');
    std::string_view first =
        slash == std::string_view::npos ? std::string_view{} : name.substr(0, slash);
    if (slash != std::string_view::npos && looks_like_host(first)) {
        if (!valid_registry_host(first)) {
            TRY(fail(text, "'" + std::string(first) + "' is not a valid registry host[:port]"));
        }
        ref.registry = std::string(first);
        name = name.substr(slash + 1);
    } else if (default_docker_hub) {
        ref.registry = "docker.io";
    } else {
        TRY(fail(text, "not an existing file, not a gadget short name and not a registry "
                       "reference HOST/REPO[:TAG] (a registry host has a '.' or a ':port', or "
                       "is localhost)"));
    }
    // The tag follows the last ':' after the last '/'.
    auto last_slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon != std::string_view::npos &&
        (last_slash == std::string_view::npos || colon > last_slash)) {
        ref.tag = std::string(name.substr(colon + 1));
        name = name.substr(0, colon);
        if (!valid_tag(ref.tag)) {
            TRY(fail(text, "'" + ref.tag.substr(0, 200) + "' is not a valid tag"));
        }
    }
    if (name.empty() || name.size() > 255) {
        TRY(fail(text, "the repository name is empty or longer than 255 characters"));
    }
    std::size_t start = 0;
    while (start <= name.size()) {
        auto end = name.find('/', start);
        std::string_view comp =
            name.substr(start, end == std::string_view::npos ? end : end - start);
        if (!valid_repo_component(comp)) {
            TRY(fail(text, "repository component '" + std::string(comp) +
                               "' is not valid (lowercase letters, digits, '.', '_', '-')"));
        }
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    ref.repository = std::string(name);
    if (ref.registry == "docker.io" || ref.registry == "index.docker.io") {
        ref.registry = "registry-1.docker.io";
        if (ref.repository.find('/') == std::string::npos) {
            ref.repository = "library/" + ref.repository;
        }
    }
    if (ref.tag.empty() && ref.digest.empty()) {
        ref.tag = "latest";
    }
    return ref;
}

Result<ArtifactSpec> parse_artifact_spec(std::string_view text) {
    ArtifactSpec spec;
    spec.original = std::string(text);
    auto invalid = [&](const std::string& why) {
        return make_error("ARTIFACT_INVALID", why, 0,
                          "artifact '" + std::string(text.substr(0, 300)) + "'");
    };
    if (text.empty()) {
        return invalid("empty artifact");
    }
    if (text.find('\0') != std::string_view::npos) {
        return invalid("artifact contains a NUL byte");
    }
    if (text.starts_with("docker://")) {
        TRY_ASSIGN(spec.registry, parse_registry_reference(text.substr(9), true));
        spec.kind = SourceKind::Registry;
        return spec;
    }
    if (text.starts_with("oci:") || text.starts_with("oci-archive:")) {
        bool archive = text.starts_with("oci-archive:");
        split_path_tag(text.substr(archive ? 12 : 4), spec.path, spec.tag);
        if (spec.path.empty()) {
            return invalid("no path after the transport");
        }
        if (!spec.tag.empty() && !valid_tag(spec.tag) && spec.tag.find('/') == std::string::npos) {
            return invalid("'" + spec.tag + "' is not a valid tag");
        }
        spec.kind = archive ? SourceKind::Archive : SourceKind::LayoutDir;
        return spec;
    }
    if (text.starts_with("docker-archive:")) {
        std::string ignored;
        split_path_tag(text.substr(15), spec.path, ignored);
        if (spec.path.empty()) {
            return invalid("no path after the transport");
        }
        spec.kind = SourceKind::DockerArchive;
        return spec;
    }
    std::error_code ec;
    std::filesystem::path p{std::string(text)};
    auto status = std::filesystem::status(p, ec);
    if (!ec && std::filesystem::is_directory(status)) {
        spec.kind = SourceKind::LayoutDir;
        spec.path = spec.original;
        return spec;
    }
    if (!ec && std::filesystem::is_regular_file(status)) {
        spec.path = spec.original;
        switch (file_kind(spec.path)) {
        case FileKind::Elf:
            spec.kind = SourceKind::ObjectFile;
            return spec;
        case FileKind::Archive:
            spec.kind = SourceKind::Archive;
            return spec;
        case FileKind::Other:
            break;
        }
        return invalid("not an eBPF object (no ELF header) and not an OCI artifact (an image "
                       "layout directory, or a tar, tar.gz, tar.xz or tar.zst archive)");
    }
    if (!ec && std::filesystem::exists(status)) {
        return invalid("not a regular file or directory");
    }
    // Not on disk: a bare registry reference, or a path that does not exist.
    bool pathish = text.starts_with("/") || text.starts_with("./") || text.starts_with("../") ||
                   text.ends_with(".o") || text.ends_with(".tar") || text.ends_with(".tar.gz") ||
                   text.ends_with(".tgz");
    if (pathish) {
        return invalid("no such file or directory");
    }
    if (is_gadget_short_name(text)) {
        std::string prefix;
        TRY_ASSIGN(prefix, gadget_prefix());
        TRY_ASSIGN(spec.registry,
                   parse_registry_reference(prefix + "/" + std::string(text), false));
        spec.kind = SourceKind::Registry;
        spec.short_name = true;
        return spec;
    }
    TRY_ASSIGN(spec.registry, parse_registry_reference(text, false));
    spec.kind = SourceKind::Registry;
    return spec;
}

Result<std::string> gadget_prefix() {
    const char* env = std::getenv("BPFLEET_GADGET_PREFIX");
    if (env == nullptr || *env == '\0') {
        return std::string(kDefaultGadgetPrefix);
    }
    std::string prefix = env;
    while (prefix.ends_with('/')) {
        prefix.pop_back();
    }
    auto ref = parse_registry_reference(prefix, false);
    if (!ref || prefix.find_first_of(":@", prefix.find('/')) != std::string::npos) {
        return make_error("ARTIFACT_INVALID",
                          "'" + prefix.substr(0, 300) +
                              "' is not a registry HOST/REPOSITORY prefix for gadget short names",
                          0, "$BPFLEET_GADGET_PREFIX");
    }
    return prefix;
}

} // namespace bpfleet::oci
