#include "oci/credentials.hpp"

#include "common/subprocess.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <vector>

namespace bpfleet::oci {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kAuthFileBytes = 1024 * 1024;
constexpr std::size_t kHelperOutputBytes = 64 * 1024;
constexpr std::chrono::seconds kHelperTimeout{30};

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// Keys a Docker config may use for `registry`.
bool key_matches(std::string key, const std::string& registry) {
    for (const char* prefix : {"https://", "http://"}) {
        if (key.starts_with(prefix)) {
            key = key.substr(std::string_view(prefix).size());
        }
    }
    if (auto slash = key.find('/'); slash != std::string::npos) {
        key = key.substr(0, slash);
    }
    if (registry == "registry-1.docker.io") {
        return key == "index.docker.io" || key == "docker.io" || key == registry;
    }
    return key == registry;
}

// What a helper is asked for: docker keeps Docker Hub's login under its v1
// URL; every other registry under its host[:port].
std::string helper_server(const std::string& registry) {
    return registry == "registry-1.docker.io" ? "https://index.docker.io/v1/" : registry;
}

// A helper's name must be a plain word: it becomes part of a program name
// looked up in PATH.
bool helper_name_ok(const std::string& name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

// `docker-credential-NAME get`, the server on stdin. nullopt: the helper has
// nothing for this server (it says so on stdout, docker's wording, and exits 1).
Result<std::optional<Credentials>> ask_helper(const std::string& name, const std::string& registry,
                                              const std::string& where) {
    std::string program = "docker-credential-" + name;
    std::string origin = program + " (" + where + ")";
    if (!helper_name_ok(name)) {
        return make_error("CREDENTIALS_INVALID", "the credential helper's name is not a plain word",
                          0, where);
    }
    std::string server = helper_server(registry);
    RunOptions run;
    run.input = server;
    run.timeout = kHelperTimeout;
    run.max_output = kHelperOutputBytes;
    auto out = run_process({program, "get"}, run);
    if (!out) {
        return make_error("CREDENTIAL_HELPER",
                          "cannot run " + program + ": " + out.error().message +
                              " (is it installed and in PATH?)",
                          0, where);
    }
    if (out->timed_out) {
        return make_error("CREDENTIAL_HELPER",
                          program + " did not answer within " +
                              std::to_string(kHelperTimeout.count()) + " s",
                          0, where);
    }
    if (!out->status.success()) {
        // The helper protocol's "not found" answer; anything else is a failure,
        // quoted only from stderr (stdout could hold part of a secret).
        if (out->out.find("credentials not found") != std::string::npos) {
            return std::optional<Credentials>{};
        }
        std::string reason = out->err.substr(0, out->err.find('\n'));
        return make_error("CREDENTIAL_HELPER",
                          program + " get " + out->status.describe() +
                              (reason.empty() ? std::string() : ": " + reason.substr(0, 200)),
                          0, where);
    }
    auto j = nlohmann::json::parse(out->out, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("Username") || !j.contains("Secret") ||
        !j["Username"].is_string() || !j["Secret"].is_string()) {
        return make_error("CREDENTIALS_INVALID",
                          program + " answered something other than {\"Username\": ..., "
                                    "\"Secret\": ...}",
                          0, where);
    }
    std::string user = j["Username"].get<std::string>();
    if (user == "<token>") {
        return make_error("CREDENTIAL_HELPER",
                          program + " holds an identity token for " + server +
                              ", which bpfleet cannot use: log in with a user name and password "
                              "or token",
                          0, where);
    }
    return std::optional<Credentials>(Credentials{user, j["Secret"].get<std::string>(), origin});
}

// One auth file's answer for `registry`: its credHelpers entry, then its
// credsStore, then its auths entry (docker's order; podman's files have no
// credsStore). nullopt: this file has nothing for the registry.
Result<std::optional<Credentials>> from_auth_file(const fs::path& file,
                                                  const std::string& registry) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        return std::optional<Credentials>{};
    }
    if (fs::file_size(file, ec) > kAuthFileBytes) {
        return make_error("CREDENTIALS_INVALID", "larger than 1 MiB", 0, file.string());
    }
    std::ifstream in(file);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return make_error("CREDENTIALS_INVALID", "not valid JSON", 0, file.string());
    }
    if (auto helpers = j.find("credHelpers"); helpers != j.end() && helpers->is_object()) {
        for (auto& [key, name] : helpers->items()) {
            if (key_matches(key, registry) && name.is_string()) {
                return ask_helper(name.get<std::string>(), registry,
                                  file.string() + ": credHelpers." + key);
            }
        }
    }
    if (auto store = j.find("credsStore");
        store != j.end() && store->is_string() && !store->get<std::string>().empty()) {
        std::optional<Credentials> found;
        TRY_ASSIGN(found,
                   ask_helper(store->get<std::string>(), registry, file.string() + ": credsStore"));
        if (found) {
            return found;
        }
    }
    auto auths = j.find("auths");
    if (auths == j.end() || !auths->is_object()) {
        return std::optional<Credentials>{};
    }
    for (auto& [key, entry] : auths->items()) {
        if (!key_matches(key, registry) || !entry.is_object()) {
            continue;
        }
        if (auto a = entry.find("auth");
            a != entry.end() && a->is_string() && !a->get<std::string>().empty()) {
            auto decoded = base64_decode(a->get<std::string>());
            if (!decoded) {
                return make_error("CREDENTIALS_INVALID",
                                  "the \"auth\" entry for " + registry + " is not base64", 0,
                                  file.string());
            }
            Credentials c;
            TRY_ASSIGN(c, parse_user_pass(*decoded, file.string()));
            return std::optional<Credentials>(std::move(c));
        }
        auto u = entry.find("username");
        auto p = entry.find("password");
        if (u != entry.end() && p != entry.end() && u->is_string() && p->is_string()) {
            return std::optional<Credentials>(
                Credentials{u->get<std::string>(), p->get<std::string>(), file.string()});
        }
    }
    return std::optional<Credentials>{};
}

} // namespace

std::string base64_encode(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()),
                            static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view data) {
    if (data.size() % 4 != 0 || data.size() > 64 * 1024) {
        return std::nullopt;
    }
    std::string out(3 * (data.size() / 4) + 1, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()),
                            static_cast<int>(data.size()));
    if (n < 0) {
        return std::nullopt;
    }
    std::size_t len = static_cast<std::size_t>(n);
    // EVP_DecodeBlock counts padding as zero bytes.
    for (std::size_t i = data.size(); i > 0 && data[i - 1] == '='; --i) {
        --len;
    }
    out.resize(len);
    return out;
}

std::vector<fs::path> auth_files() {
    if (std::string f = env("REGISTRY_AUTH_FILE"); !f.empty()) {
        return {fs::path(f)};
    }
    std::vector<fs::path> files;
    std::string home = env("HOME");
    if (std::string run = env("XDG_RUNTIME_DIR"); !run.empty()) {
        files.push_back(fs::path(run) / "containers" / "auth.json");
    }
    std::string config = env("XDG_CONFIG_HOME");
    if (config.empty() && !home.empty()) {
        config = home + "/.config";
    }
    if (!config.empty()) {
        files.push_back(fs::path(config) / "containers" / "auth.json");
    }
    if (std::string docker = env("DOCKER_CONFIG"); !docker.empty()) {
        files.push_back(fs::path(docker) / "config.json");
    } else if (!home.empty()) {
        files.push_back(fs::path(home) / ".docker" / "config.json");
    }
    return files;
}

std::string describe_credential_sources(const CredentialOptions& options) {
    std::string text = "--creds";
    if (options.use_environment) {
        text += ", $BPFLEET_REGISTRY_CREDS";
    }
    if (options.use_docker_config) {
        for (const auto& f : auth_files()) {
            text += ", " + f.string();
        }
    }
    return text;
}

Result<Credentials> parse_user_pass(const std::string& text, const std::string& origin) {
    auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0) {
        return make_error("CREDENTIALS_INVALID", "credentials must be USER:PASS", 0, origin);
    }
    return Credentials{text.substr(0, colon), text.substr(colon + 1), origin};
}

Result<std::optional<Credentials>> find_credentials(const std::string& registry,
                                                    const CredentialOptions& options) {
    if (options.creds) {
        Credentials c;
        TRY_ASSIGN(c, parse_user_pass(*options.creds, "--creds"));
        return std::optional<Credentials>(std::move(c));
    }
    if (options.use_environment) {
        if (const char* env = std::getenv("BPFLEET_REGISTRY_CREDS"); env && *env) {
            Credentials c;
            TRY_ASSIGN(c, parse_user_pass(env, "BPFLEET_REGISTRY_CREDS"));
            return std::optional<Credentials>(std::move(c));
        }
    }
    if (!options.use_docker_config) {
        return std::optional<Credentials>{};
    }
    for (const auto& file : auth_files()) {
        std::optional<Credentials> found;
        TRY_ASSIGN(found, from_auth_file(file, registry));
        if (found) {
            return found;
        }
    }
    return std::optional<Credentials>{};
}

} // namespace bpfleet::oci
