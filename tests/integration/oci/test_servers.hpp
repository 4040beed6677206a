// Real servers for the OCI tests, started on 127.0.0.1 with ephemeral ports
// and stopped (SIGTERM, then SIGKILL) by their destructors: Debian's
// docker-registry (optionally with htpasswd basic auth or TLS), nginx in
// front of it for the bearer-token flow, a test CA made with openssl, and a
// small in-process HTTP server whose answers a test scripts (hangs, drops,
// wrong bytes, 503 + Retry-After).
#pragma once

#include "common/subprocess.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace bpfleet::test {

namespace fs = std::filesystem;

inline constexpr const char* kDockerRegistry = "/usr/bin/docker-registry";
inline constexpr const char* kSkopeo = "/usr/bin/skopeo";
inline constexpr const char* kNginx = "/usr/sbin/nginx";
inline constexpr const char* kHtpasswd = "/usr/bin/htpasswd";
inline constexpr const char* kOpenssl = "/usr/bin/openssl";

bool have_program(const char* path);
int free_port();
// Runs argv to completion (killed after timeout_s); output gets stdout+stderr.
int run_command(const std::vector<std::string>& argv, std::string* output, int timeout_s = 60);
// True once something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port, int timeout_ms);

// A server process whose stdout and stderr go to `log`; stop() (and the
// destructor) ends it with SIGTERM, then SIGKILL after 2 s.
class ChildProcess {
public:
    ChildProcess() = default;
    ChildProcess(const std::vector<std::string>& argv, const fs::path& log);
    ChildProcess(ChildProcess&& o) noexcept = default;
    ChildProcess& operator=(ChildProcess&& o) noexcept {
        if (this != &o) {
            stop();
            m_process = std::move(o.m_process);
        }
        return *this;
    }
    ChildProcess(const ChildProcess&) = delete;
    ~ChildProcess();
    // -1 when it could not be started (the reason is in the log).
    [[nodiscard]] pid_t pid() const { return m_process.pid(); }
    void stop();

private:
    Process m_process;
};

struct RegistryConfig {
    fs::path htpasswd; // basic auth when set
    fs::path tls_cert; // HTTPS when set (with tls_key)
    fs::path tls_key;
};

class RegistryServer {
public:
    RegistryServer(const fs::path& workdir, const RegistryConfig& config = {});
    [[nodiscard]] bool ok() const { return m_error.empty(); }
    [[nodiscard]] const std::string& error() const { return m_error; }
    [[nodiscard]] int port() const { return m_port; }
    [[nodiscard]] std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }
    // skopeo copy --all oci:LAYOUT:TAG docker://HOST/REPO_TAG; "" on success, else the output.
    std::string push(const fs::path& layout, const std::string& layout_tag,
                     const std::string& repo_tag, const std::string& creds = "") const;

private:
    fs::path m_dir;
    int m_port = 0;
    bool m_tls = false;
    std::string m_error;
    ChildProcess m_process;
};

// nginx answering 401 + a Bearer challenge unless the right token is sent;
// /token hands the token out to basic-auth users of `htpasswd`.
class TokenProxy {
public:
    TokenProxy(const fs::path& workdir, int upstream_port, const fs::path& htpasswd);
    [[nodiscard]] bool ok() const { return m_error.empty(); }
    [[nodiscard]] const std::string& error() const { return m_error; }
    [[nodiscard]] std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }
    [[nodiscard]] std::string access_log() const;

private:
    fs::path m_dir;
    int m_port = 0;
    std::string m_error;
    ChildProcess m_process;
};

// "user:pass" into a bcrypt htpasswd file; false when htpasswd failed.
bool make_htpasswd(const fs::path& file, const std::string& user, const std::string& pass);

struct TestCa {
    fs::path ca_cert;
    fs::path server_cert;
    fs::path server_key;
    std::string error; // empty when made
};
// A CA and a server certificate for 127.0.0.1 signed by it.
TestCa make_test_ca(const fs::path& dir);

// A scripted HTTP/1.1 server on 127.0.0.1 (one connection at a time, every
// response closes the connection). The handler gets the request path and the
// socket and writes whatever it wants; `stopping()` tells a hanging handler to
// give up.
class ScriptedServer {
public:
    using Handler =
        std::function<void(const std::string& path, int fd, const ScriptedServer& server)>;
    explicit ScriptedServer(Handler handler);
    ~ScriptedServer();
    [[nodiscard]] int port() const { return m_port; }
    [[nodiscard]] std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }
    [[nodiscard]] bool stopping() const { return m_stop.load(); }
    [[nodiscard]] int requests() const { return m_requests.load(); }
    [[nodiscard]] std::vector<std::string> paths() const;

    static void send_all(int fd, const std::string& data);
    static void respond(int fd, int status, const std::string& body,
                        const std::map<std::string, std::string>& headers = {});

private:
    Handler m_handler;
    int m_listen = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_requests{0};
    mutable std::mutex m_mutex;
    std::vector<std::string> m_paths;
    std::thread m_thread;
};

} // namespace bpfleet::test
