#include "oci/test_servers.hpp"

#include "oci/image_builder.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace bpfleet::test {
namespace {

// argv with stdout and stderr appended to `log` (a file, not a pipe: a
// daemon the command leaves behind must not keep the caller waiting).
Result<Process> spawn(const std::vector<std::string>& argv, const fs::path& log) {
    Fd out(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!out) {
        return make_error("system", "cannot open " + log.string(), errno);
    }
    auto process = Process::spawn(argv, {.out = Stdio::use(out.get()), .err_to_out = true});
    if (!process) {
        std::string why = process.error().describe() + "\n";
        (void)!::write(out.get(), why.data(), why.size());
    }
    return process;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

bool have_program(const char* path) {
    return ::access(path, X_OK) == 0;
}

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

bool wait_for_port(int port, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::close(fd);
        if (rc == 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
}

int run_command(const std::vector<std::string>& argv, std::string* output, int timeout_s) {
    TempDir tmp;
    auto log = tmp.path() / "out.log";
    auto process = spawn(argv, log);
    if (!process) {
        if (output) {
            *output = slurp(log);
        }
        return 127;
    }
    auto status = process->wait_for(std::chrono::seconds(timeout_s));
    if (!status) {
        process->kill_and_wait();
        if (output) {
            *output = slurp(log) + "\n(timed out)";
        }
        return -1;
    }
    if (output) {
        *output = slurp(log);
    }
    return status->exited() ? status->code() : -1;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const fs::path& log) {
    if (auto process = spawn(argv, log)) {
        m_process = std::move(*process);
    }
}

ChildProcess::~ChildProcess() {
    stop();
}

void ChildProcess::stop() {
    if (!m_process.running()) {
        return;
    }
    m_process.kill(SIGTERM);
    if (!m_process.wait_for(std::chrono::seconds(2))) {
        m_process.kill_and_wait();
    }
}

RegistryServer::RegistryServer(const fs::path& workdir, const RegistryConfig& config)
    : m_dir(workdir / "registry"), m_tls(!config.tls_cert.empty()) {
    fs::create_directories(m_dir / "storage");
    m_port = free_port();
    std::ostringstream yml;
    yml << "version: 0.1\n"
        << "log:\n  level: warn\n"
        << "storage:\n  filesystem:\n    rootdirectory: " << (m_dir / "storage").string() << "\n"
        << "  delete:\n    enabled: true\n"
        << "http:\n  addr: 127.0.0.1:" << m_port << "\n";
    if (m_tls) {
        yml << "  tls:\n    certificate: " << config.tls_cert.string()
            << "\n    key: " << config.tls_key.string() << "\n";
    }
    if (!config.htpasswd.empty()) {
        yml << "auth:\n  htpasswd:\n    realm: bpfleet-test\n    path: " << config.htpasswd.string()
            << "\n";
    }
    write_text(m_dir / "config.yml", yml.str());
    m_process = ChildProcess({kDockerRegistry, "serve", (m_dir / "config.yml").string()},
                             m_dir / "registry.log");
    if (!wait_for_port(m_port, 10000)) {
        m_error = "docker-registry did not listen on port " + std::to_string(m_port) + ": " +
                  slurp(m_dir / "registry.log");
    }
}

std::string RegistryServer::push(const fs::path& layout, const std::string& layout_tag,
                                 const std::string& repo_tag, const std::string& creds) const {
    std::vector<std::string> argv{kSkopeo, "--insecure-policy", "copy",
                                  "--all", "--quiet",           "--dest-tls-verify=false"};
    if (!creds.empty()) {
        argv.push_back("--dest-creds=" + creds);
    }
    argv.push_back("oci:" + layout.string() + ":" + layout_tag);
    argv.push_back("docker://" + host() + "/" + repo_tag);
    std::string out;
    int rc = run_command(argv, &out, 60);
    return rc == 0 ? std::string{} : "skopeo failed (" + std::to_string(rc) + "): " + out;
}

TokenProxy::TokenProxy(const fs::path& workdir, int upstream_port, const fs::path& htpasswd)
    : m_dir(workdir / "nginx") {
    fs::create_directories(m_dir / "tmp");
    m_port = free_port();
    std::string d = m_dir.string();
    std::string token_url = "http://127.0.0.1:" + std::to_string(m_port) + "/token";
    std::ostringstream conf;
    conf << "daemon off;\nmaster_process off;\nworker_processes 1;\npid " << d << "/nginx.pid;\n"
         << "error_log " << d << "/error.log warn;\n"
         << "events { worker_connections 64; }\n"
         << "http {\n  access_log " << d << "/access.log;\n"
         << "  client_body_temp_path " << d << "/tmp/body;\n  proxy_temp_path " << d
         << "/tmp/proxy;\n"
         << "  fastcgi_temp_path " << d << "/tmp/fcgi;\n  uwsgi_temp_path " << d << "/tmp/uwsgi;\n"
         << "  scgi_temp_path " << d << "/tmp/scgi;\n"
         << "  server {\n    listen 127.0.0.1:" << m_port << ";\n"
         << "    location = /token {\n      auth_basic \"bpfleet-token\";\n      "
            "auth_basic_user_file "
         << htpasswd.string()
         << ";\n      default_type application/json;\n"
         // `return` would run before auth_basic (rewrite phase): serve a file instead.
         << "      alias " << d << "/token.json;\n    }\n"
         << "    location /v2/ {\n"
         << "      if ($http_authorization != \"Bearer tok-bpfleet-test\") {\n"
         << "        add_header WWW-Authenticate 'Bearer realm=\"" << token_url
         << "\",service=\"bpfleet-test\"' always;\n"
         << "        return 401 '{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"token "
            "required\"}]}';\n"
         << "      }\n"
         << "      proxy_pass http://127.0.0.1:" << upstream_port << ";\n"
         << "      proxy_set_header Host $http_host;\n    }\n  }\n}\n";
    write_text(m_dir / "nginx.conf", conf.str());
    write_text(m_dir / "token.json", R"({"token":"tok-bpfleet-test","expires_in":300})");
    m_process = ChildProcess({kNginx, "-p", d, "-e", d + "/error.log", "-c", d + "/nginx.conf"},
                             m_dir / "nginx.out");
    if (!wait_for_port(m_port, 10000)) {
        m_error =
            "nginx did not listen: " + slurp(m_dir / "nginx.out") + slurp(m_dir / "error.log");
    }
}

std::string TokenProxy::access_log() const {
    return slurp(m_dir / "access.log");
}

bool make_htpasswd(const fs::path& file, const std::string& user, const std::string& pass) {
    std::string out;
    return run_command({kHtpasswd, "-Bbc", file.string(), user, pass}, &out, 30) == 0;
}

TestCa make_test_ca(const fs::path& dir) {
    TestCa ca;
    fs::create_directories(dir);
    ca.ca_cert = dir / "ca.pem";
    ca.server_cert = dir / "server.pem";
    ca.server_key = dir / "server.key";
    auto key = dir / "ca.key";
    auto csr = dir / "server.csr";
    auto ext = dir / "server.ext";
    write_text(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
    std::string out;
    std::vector<std::vector<std::string>> steps = {
        {kOpenssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key.string(), "-out", ca.ca_cert.string(), "-days", "2", "-subj",
         "/CN=bpfleet test CA"},
        {kOpenssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", ca.server_key.string(), "-out", csr.string(), "-subj", "/CN=127.0.0.1"},
        {kOpenssl, "x509", "-req", "-in", csr.string(), "-CA", ca.ca_cert.string(), "-CAkey",
         key.string(), "-CAcreateserial", "-out", ca.server_cert.string(), "-days", "2", "-extfile",
         ext.string()},
    };
    for (const auto& step : steps) {
        if (run_command(step, &out, 30) != 0) {
            ca.error = "openssl failed: " + out;
            return ca;
        }
    }
    return ca;
}

ScriptedServer::ScriptedServer(Handler handler) : m_handler(std::move(handler)) {
    m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(m_listen, 16);
    socklen_t len = sizeof addr;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] {
        while (!m_stop) {
            pollfd p{m_listen, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) {
                continue;
            }
            int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            std::string req;
            char buf[4096];
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            while (req.find("\r\n\r\n") == std::string::npos &&
                   std::chrono::steady_clock::now() < deadline) {
                pollfd c{fd, POLLIN, 0};
                if (::poll(&c, 1, 50) <= 0) {
                    continue;
                }
                ssize_t n = ::recv(fd, buf, sizeof buf, 0);
                if (n <= 0) {
                    break;
                }
                req.append(buf, static_cast<std::size_t>(n));
            }
            auto sp1 = req.find(' ');
            auto sp2 = req.find(' ', sp1 + 1);
            std::string path = sp1 == std::string::npos || sp2 == std::string::npos
                                   ? std::string{}
                                   : req.substr(sp1 + 1, sp2 - sp1 - 1);
            ++m_requests;
            {
                std::lock_guard lock(m_mutex);
                m_paths.push_back(path);
            }
            m_handler(path, fd, *this);
            ::close(fd);
        }
    });
}

ScriptedServer::~ScriptedServer() {
    m_stop = true;
    if (m_thread.joinable()) {
        m_thread.join();
    }
    ::close(m_listen);
}

std::vector<std::string> ScriptedServer::paths() const {
    std::lock_guard lock(m_mutex);
    return m_paths;
}

void ScriptedServer::send_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            return;
        }
        off += static_cast<std::size_t>(n);
    }
}

void ScriptedServer::respond(int fd, int status, const std::string& body,
                             const std::map<std::string, std::string>& headers) {
    std::string out = "HTTP/1.1 " + std::to_string(status) +
                      " X\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n";
    for (const auto& [k, v] : headers) {
        out += k + ": " + v + "\r\n";
    }
    out += "\r\n" + body;
    send_all(fd, out);
}

} // namespace bpfleet::test
