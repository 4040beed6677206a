#include "oci/registry_client.hpp"

#include "oci/cache.hpp"
#include "oci/manifest.hpp"

#include <chrono>
#include <cstring>
#include <curl/curl.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace bpfleet::oci {
namespace {

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

constexpr std::size_t kErrorBodyBytes = 64 * 1024;
constexpr std::size_t kTokenBodyBytes = 1024 * 1024;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

// Printable, bounded text from a server, for an error message.
std::string sanitise(std::string_view s, std::size_t max = 200) {
    std::string out;
    for (char c : s.substr(0, max)) {
        out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return out;
}

struct Transfer {
    CURL* curl = nullptr;
    std::map<std::string, std::string> headers;
    std::string body;
    std::size_t body_limit = kErrorBodyBytes;
    bool body_over = false;
    const std::function<bool(std::span<const std::uint8_t>)>* sink = nullptr;
    bool sink_refused = false;
    std::uint64_t* bytes_received = nullptr;
};

std::size_t on_header(char* buf, std::size_t size, std::size_t n, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    std::string_view line(buf, size * n);
    if (line.starts_with("HTTP/")) {
        t->headers.clear(); // a new response (after a redirect or a 100)
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
        t->headers[lower(trim(line.substr(0, colon)))] = std::string(trim(line.substr(colon + 1)));
    }
    return size * n;
}

std::size_t on_body(char* buf, std::size_t size, std::size_t n, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    std::size_t len = size * n;
    *t->bytes_received += len;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    bool success = status >= 200 && status < 300;
    if (success && t->sink != nullptr) {
        if (!(*t->sink)(std::span(reinterpret_cast<const std::uint8_t*>(buf), len))) {
            t->sink_refused = true;
            return 0;
        }
        return len;
    }
    if (t->body.size() + len > t->body_limit) {
        if (success) {
            t->body_over = true;
            return 0; // a document over its limit: stop the transfer
        }
        t->body.append(buf, t->body_limit - t->body.size()); // error text: keep the head
        return len;
    }
    t->body.append(buf, len);
    return len;
}

struct HttpResult {
    CURLcode code = CURLE_OK;
    std::string curl_error;
    long status = 0;
    std::map<std::string, std::string> headers;
    std::string body;
    bool body_over = false;
    bool sink_refused = false;
    std::string effective_url;
};

bool retryable_transport(CURLcode c) {
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

std::string registry_error_text(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
        auto errors = j.find("errors");
        if (errors != j.end() && errors->is_array() && !errors->empty() &&
            (*errors)[0].is_object()) {
            const auto& e = (*errors)[0];
            std::string code =
                e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
            std::string msg = e.contains("message") && e["message"].is_string()
                                  ? e["message"].get<std::string>()
                                  : "";
            return sanitise(code + (msg.empty() ? "" : ": " + msg));
        }
    }
    return sanitise(trim(body), 120);
}

// The end of "... none were found for REGISTRY": where they were looked for.
std::string missing_credentials_hint(const RegistryOptions& options) {
    if (options.credentials_searched.empty()) {
        return " (give them with --creds or $BPFLEET_REGISTRY_CREDS)";
    }
    return " (looked in " + options.credentials_searched +
           "; docs/artifacts.md#registry-credentials)";
}

} // namespace

std::optional<AuthChallenge> parse_www_authenticate(std::string_view header) {
    header = trim(header);
    auto space = header.find(' ');
    if (header.empty()) {
        return std::nullopt;
    }
    AuthChallenge ch;
    ch.scheme = lower(header.substr(0, space));
    if (space == std::string_view::npos) {
        return ch;
    }
    std::string_view rest = header.substr(space + 1);
    std::size_t i = 0;
    while (i < rest.size()) {
        while (i < rest.size() && (rest[i] == ' ' || rest[i] == ',')) {
            ++i;
        }
        auto eq = rest.find('=', i);
        if (eq == std::string_view::npos) {
            break;
        }
        std::string key = lower(trim(rest.substr(i, eq - i)));
        i = eq + 1;
        std::string value;
        if (i < rest.size() && rest[i] == '"') {
            ++i;
            while (i < rest.size() && rest[i] != '"') {
                if (rest[i] == '\\' && i + 1 < rest.size()) {
                    ++i;
                }
                value.push_back(rest[i]);
                ++i;
            }
            ++i; // closing quote
        } else {
            auto comma = rest.find(',', i);
            value = std::string(
                trim(rest.substr(i, comma == std::string_view::npos ? comma : comma - i)));
            i = comma == std::string_view::npos ? rest.size() : comma;
        }
        if (!key.empty() && ch.params.size() < 16) {
            ch.params[key] = value;
        }
    }
    return ch;
}

struct RegistryClient::Impl {
    std::string registry;
    bool loopback = false;
    RegistryOptions options;
    CurlPtr curl;
    std::string scheme = "https";
    bool scheme_confirmed = false;
    std::map<std::string, std::string> auth_by_repo; // repository → Authorization value
    RegistryStats stats;
    char error_buffer[CURL_ERROR_SIZE] = {};

    [[nodiscard]] std::string base() const { return scheme + "://" + registry; }

    HttpResult perform(const std::string& url, const std::vector<std::string>& headers,
                       const std::function<bool(std::span<const std::uint8_t>)>* sink,
                       std::size_t body_limit) {
        CURL* h = curl.get();
        curl_easy_reset(h); // keeps live connections
        Transfer t;
        t.curl = h;
        t.sink = sink;
        t.body_limit = body_limit;
        t.bytes_received = &stats.bytes_received;
        SlistPtr list;
        for (const auto& header : headers) {
            curl_slist* next = curl_slist_append(list.get(), header.c_str());
            if (next == nullptr) {
                throw std::bad_alloc();
            }
            (void)list.release();
            list.reset(next);
        }
        error_buffer[0] = '\0';
        bool https_only = url.starts_with("https://");
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get());
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, https_only ? "https" : "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, options.request_timeout_ms);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "bpfleet/" BPFLEET_VERSION);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (!options.ca_file.empty()) {
            curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
        }
        ++stats.requests;
        HttpResult r;
        r.code = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
        char* eff = nullptr;
        curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
        r.effective_url = eff ? eff : url;
        r.curl_error = error_buffer[0] ? error_buffer : curl_easy_strerror(r.code);
        r.headers = std::move(t.headers);
        r.body = std::move(t.body);
        r.body_over = t.body_over;
        r.sink_refused = t.sink_refused;
        return r;
    }

    void wait_before_retry(int attempt, const std::map<std::string, std::string>& headers) {
        long ms = options.initial_backoff_ms << std::min(attempt, 6);
        if (auto it = headers.find("retry-after"); it != headers.end()) {
            const std::string& v = it->second;
            long seconds = -1;
            if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos &&
                v.size() < 9) {
                seconds = std::stol(v);
            } else if (time_t when = curl_getdate(v.c_str(), nullptr); when > 0) {
                seconds = std::max<long>(0, static_cast<long>(when - std::time(nullptr)));
            }
            if (seconds >= 0) {
                ms = std::min(seconds, options.max_retry_after_s) * 1000;
            }
        }
        ++stats.retries;
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::min(ms, options.max_retry_after_s * 1000)));
    }

    Result<void> fetch_token(const AuthChallenge& ch, const std::string& repository) {
        auto realm_it = ch.params.find("realm");
        if (realm_it == ch.params.end() || realm_it->second.empty()) {
            return make_error("AUTH_FAILED", "Bearer challenge without a realm", 0, base());
        }
        const std::string& realm = realm_it->second;
        if (!realm.starts_with("https://") && !realm.starts_with("http://")) {
            return make_error("AUTH_FAILED",
                              "token realm is not an http(s) URL: " + sanitise(realm), 0, base());
        }
        if (realm.starts_with("http://") && scheme == "https") {
            return make_error("AUTH_FAILED",
                              "token realm " + sanitise(realm) +
                                  " is plain HTTP while the registry is HTTPS: refusing to send "
                                  "credentials there",
                              0, base());
        }
        std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
        auto escape = [&](const std::string& s) {
            char* e = curl_easy_escape(curl.get(), s.c_str(), static_cast<int>(s.size()));
            std::string out = e ? e : "";
            curl_free(e);
            return out;
        };
        bool first = true;
        if (auto s = ch.params.find("service"); s != ch.params.end()) {
            url += "service=" + escape(s->second);
            first = false;
        }
        auto scope_it = ch.params.find("scope");
        std::string scope =
            scope_it != ch.params.end() ? scope_it->second : "repository:" + repository + ":pull";
        url += std::string(first ? "" : "&") + "scope=" + escape(scope);
        std::vector<std::string> headers{"Accept: application/json"};
        if (options.credentials) {
            headers.push_back(
                "Authorization: Basic " +
                base64_encode(options.credentials->username + ":" + options.credentials->password));
        }
        ++stats.token_requests;
        HttpResult r = perform(url, headers, nullptr, kTokenBodyBytes);
        std::string where = "token endpoint " + sanitise(realm);
        if (r.code != CURLE_OK) {
            return make_error("NETWORK", sanitise(r.curl_error), 0, where);
        }
        if (r.status == 401 || r.status == 403) {
            return make_error("AUTH_FAILED",
                              options.credentials
                                  ? "the token endpoint refused the credentials from " +
                                        options.credentials->origin
                                  : "the token endpoint wants credentials and none were found "
                                    "for " +
                                        registry + missing_credentials_hint(options),
                              0, where);
        }
        if (r.status != 200) {
            return make_error("AUTH_FAILED", "HTTP " + std::to_string(r.status), 0, where);
        }
        auto j = nlohmann::json::parse(r.body, nullptr, false);
        std::string token;
        if (!j.is_discarded() && j.is_object()) {
            for (const char* key : {"token", "access_token"}) {
                if (auto it = j.find(key);
                    it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
                    token = it->get<std::string>();
                    break;
                }
            }
        }
        if (token.empty() || token.size() > 16 * 1024 ||
            token.find_first_of("\r\n") != std::string::npos) {
            return make_error("AUTH_FAILED", "the token endpoint's answer has no usable token", 0,
                              where);
        }
        auth_by_repo[repository] = "Bearer " + token;
        return {};
    }

    // A GET with auth, retries and the loopback TLS → HTTP fallback.
    Result<HttpResult> request(const std::string& repository, const std::string& path,
                               const std::string& accept,
                               const std::function<bool(std::span<const std::uint8_t>)>* sink,
                               const std::function<void()>& reset_sink, std::size_t body_limit) {
        bool auth_tried = false;
        int attempt = 0;
        for (;;) {
            std::string url = base() + path;
            std::vector<std::string> headers;
            if (!accept.empty()) {
                headers.push_back("Accept: " + accept);
            }
            if (auto it = auth_by_repo.find(repository); it != auth_by_repo.end()) {
                headers.push_back("Authorization: " + it->second);
            }
            if (reset_sink) {
                reset_sink();
            }
            HttpResult r = perform(url, headers, sink, body_limit);
            if (r.sink_refused) {
                return make_error("SINK_REFUSED", "the blob was refused while streaming", 0, url);
            }
            if (r.body_over) {
                return make_error(
                    "LIMIT_EXCEEDED",
                    "response is over the " + std::to_string(body_limit) + "-byte limit", 0, url);
            }
            if (r.code != CURLE_OK) {
                if (loopback && !scheme_confirmed && scheme == "https" && !options.plain_http &&
                    r.code == CURLE_SSL_CONNECT_ERROR) {
                    scheme = "http"; // a loopback registry without TLS
                    continue;
                }
                if (retryable_transport(r.code) && attempt < options.max_retries) {
                    wait_before_retry(attempt++, {});
                    continue;
                }
                return make_error("NETWORK",
                                  sanitise(r.curl_error) +
                                      (attempt > 0
                                           ? " (after " + std::to_string(attempt + 1) + " attempts)"
                                           : ""),
                                  0, url);
            }
            scheme_confirmed = true;
            if (r.status == 401) {
                if (!auth_tried) {
                    auth_tried = true;
                    auto ch = parse_www_authenticate(r.headers["www-authenticate"]);
                    if (!ch) {
                        return make_error("AUTH_FAILED",
                                          "HTTP 401 without a WWW-Authenticate challenge", 0, url);
                    }
                    if (ch->scheme == "bearer") {
                        TRY(fetch_token(*ch, repository));
                        continue;
                    }
                    if (ch->scheme == "basic") {
                        if (!options.credentials) {
                            return make_error(
                                "AUTH_FAILED",
                                "the registry wants credentials (basic auth) and none were "
                                "found for " +
                                    registry + missing_credentials_hint(options),
                                0, url);
                        }
                        auth_by_repo[repository] =
                            "Basic " + base64_encode(options.credentials->username + ":" +
                                                     options.credentials->password);
                        continue;
                    }
                    return make_error("AUTH_FAILED",
                                      "unsupported auth scheme '" + sanitise(ch->scheme, 40) + "'",
                                      0, url);
                }
                return make_error("AUTH_FAILED",
                                  options.credentials
                                      ? "the registry refused the credentials from " +
                                            options.credentials->origin
                                      : "the registry refused anonymous access",
                                  0, url);
            }
            if (r.status == 403) {
                return make_error("AUTH_FAILED",
                                  "access denied (HTTP 403): " + registry_error_text(r.body), 0,
                                  url);
            }
            if (r.status == 404) {
                return make_error("NOT_FOUND",
                                  "not found (HTTP 404): " + registry_error_text(r.body), 0, url);
            }
            if ((r.status == 429 || r.status >= 500) && attempt < options.max_retries) {
                wait_before_retry(attempt++, r.headers);
                continue;
            }
            if (r.status < 200 || r.status >= 300) {
                return make_error(
                    "REGISTRY_ERROR",
                    "HTTP " + std::to_string(r.status) + ": " + registry_error_text(r.body) +
                        (attempt > 0 ? " (after " + std::to_string(attempt + 1) + " attempts)"
                                     : ""),
                    0, url);
            }
            return r;
        }
    }
};

RegistryClient::RegistryClient(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
RegistryClient::RegistryClient(RegistryClient&&) noexcept = default;
RegistryClient& RegistryClient::operator=(RegistryClient&&) noexcept = default;
RegistryClient::~RegistryClient() = default;

Result<RegistryClient> RegistryClient::make(std::string registry, bool loopback,
                                            RegistryOptions options) {
    global_init();
    auto impl = std::make_unique<Impl>();
    impl->curl.reset(curl_easy_init());
    if (!impl->curl) {
        return make_error("NETWORK", "curl_easy_init failed");
    }
    impl->registry = std::move(registry);
    impl->loopback = loopback;
    impl->scheme = options.plain_http ? "http" : "https";
    impl->options = std::move(options);
    return RegistryClient(std::move(impl));
}

Result<FetchedManifest> RegistryClient::get_manifest(const std::string& repository,
                                                     const std::string& reference,
                                                     std::uint64_t max_bytes) {
    ++m_impl->stats.manifest_requests;
    HttpResult r;
    TRY_ASSIGN(r, m_impl->request(repository, "/v2/" + repository + "/manifests/" + reference,
                                  std::string(media_type::kAcceptManifests) + ", */*;q=0.1",
                                  nullptr, {}, static_cast<std::size_t>(max_bytes)));
    FetchedManifest m;
    m.bytes.assign(r.body.begin(), r.body.end());
    m.media_type = r.headers["content-type"];
    if (auto semi = m.media_type.find(';'); semi != std::string::npos) {
        m.media_type = std::string(trim(std::string_view(m.media_type).substr(0, semi)));
    }
    std::string where = "manifest " + m_impl->registry + "/" + repository + "@" + reference;
    if (reference.find(':') != std::string::npos) {
        Digest expected;
        TRY_ASSIGN(expected, parse_digest(reference));
        DigestHasher h(expected.algorithm);
        h.update(m.bytes);
        m.digest = h.finish();
        if (m.digest != expected) {
            return make_error("DIGEST_MISMATCH",
                              "content does not match its digest: expected " + expected.str() +
                                  ", got " + m.digest.str(),
                              0, where);
        }
    } else {
        m.digest = sha256_digest(m.bytes);
    }
    if (auto it = r.headers.find("docker-content-digest"); it != r.headers.end()) {
        auto claimed = parse_digest(it->second);
        if (claimed && claimed->algorithm == m.digest.algorithm && *claimed != m.digest) {
            return make_error("DIGEST_MISMATCH",
                              "Docker-Content-Digest " + claimed->str() +
                                  " does not match the content (" + m.digest.str() + ")",
                              0, where);
        }
    }
    return m;
}

Result<void> RegistryClient::get_blob(const std::string& repository, const Digest& digest,
                                      BlobWriter& writer) {
    ++m_impl->stats.blob_requests;
    std::function<bool(std::span<const std::uint8_t>)> sink =
        [&writer](std::span<const std::uint8_t> data) { return writer.write(data); };
    std::function<void()> reset = [&writer] { (void)writer.reset(); };
    auto r = m_impl->request(repository, "/v2/" + repository + "/blobs/" + digest.str(), "", &sink,
                             reset, kErrorBodyBytes);
    if (!r) {
        if (r.error().code == "SINK_REFUSED") {
            TRY(writer.commit()); // yields the writer's own error (size, digest, I/O)
        }
        return tl::unexpected(r.error());
    }
    return {};
}

const RegistryStats& RegistryClient::stats() const {
    return m_impl->stats;
}

std::string RegistryClient::base_url() const {
    return m_impl->base();
}

} // namespace bpfleet::oci
