#include "oci/credentials.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <vector>

namespace bpfleet::oci {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> auth_files() {
    std::vector<fs::path> files;
    if (const char* f = std::getenv("REGISTRY_AUTH_FILE"); f && *f) {
        files.emplace_back(f);
    }
    if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) {
        files.push_back(fs::path(d) / "config.json");
    }
    if (const char* home = std::getenv("HOME"); home && *home) {
        files.push_back(fs::path(home) / ".docker" / "config.json");
    }
    return files;
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
        std::error_code ec;
        if (!fs::is_regular_file(file, ec) || fs::file_size(file, ec) > 1024 * 1024) {
            continue;
        }
        std::ifstream in(file);
        auto j = nlohmann::json::parse(in, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            return make_error("CREDENTIALS_INVALID", "not valid JSON", 0, file.string());
        }
        auto auths = j.find("auths");
        if (auths == j.end() || !auths->is_object()) {
            continue;
        }
        for (auto& [key, entry] : auths->items()) {
            if (!key_matches(key, registry) || !entry.is_object()) {
                continue;
            }
            if (auto a = entry.find("auth"); a != entry.end() && a->is_string()) {
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
    }
    return std::optional<Credentials>{};
}

} // namespace bpfleet::oci
