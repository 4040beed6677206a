#include "btf/btf_gen.hpp"

#include "bpf/external_btf.hpp"
#include "common/subprocess.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace bpfleet::btf {
namespace {

namespace fs = std::filesystem;

// pahole over a distribution kernel's DWARF takes a minute or two on a slow
// machine; unpacking a 600 MB package about as long.
constexpr std::chrono::minutes kToolTimeout{20};

// The tool's path, or an error naming the package that has it.
Result<std::string> find_tool(const std::string& name, const std::string& package) {
    for (const char* dir :
         {"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin"}) {
        const std::string p = std::string(dir) + "/" + name;
        if (access(p.c_str(), X_OK) == 0) {
            return p;
        }
    }
    return make_error("tool_missing", name + " is not installed (Debian package " + package + ")");
}

Result<void> run_tool(const std::vector<std::string>& argv) {
    auto r = run_process(argv, {.timeout = kToolTimeout});
    if (!r) {
        return make_error("btf_gen", argv[0] + ": " + r.error().message);
    }
    if (r->timed_out) {
        return make_error("btf_gen", argv[0] + " ran for more than 20 minutes");
    }
    if (!r->status.exited() || r->status.code() != 0) {
        std::string err = r->err.empty() ? r->out : r->err;
        if (err.size() > 2000) {
            err = err.substr(err.size() - 2000);
        }
        return make_error("btf_gen", argv[0] + " failed: " + err);
    }
    return {};
}

// A temporary folder removed with this object.
class ScratchDir {
public:
    static Result<ScratchDir> make() {
        std::string tmpl = (fs::temp_directory_path() / "bpfleet-btf-gen.XXXXXX").string();
        if (!mkdtemp(tmpl.data())) {
            return make_error("btf_gen", "mkdtemp: cannot make a scratch folder");
        }
        return ScratchDir(tmpl);
    }
    ScratchDir(ScratchDir&& other) noexcept : m_path(std::move(other.m_path)) {
        other.m_path.clear();
    }
    ScratchDir& operator=(ScratchDir&&) = delete;
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() {
        if (!m_path.empty()) {
            std::error_code ec;
            fs::remove_all(m_path, ec);
        }
    }
    [[nodiscard]] const fs::path& path() const { return m_path; }

private:
    explicit ScratchDir(fs::path p) : m_path(std::move(p)) {}
    fs::path m_path;
};

// The debug vmlinux in an unpacked linux-image-*-dbg package.
Result<std::string> vmlinux_in(const fs::path& root, const std::string& deb) {
    std::error_code ec;
    const fs::path boot = root / "usr/lib/debug/boot";
    for (auto it = fs::directory_iterator(boot, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        if (it->path().filename().string().starts_with("vmlinux-")) {
            return it->path().string();
        }
    }
    return make_error("btf_gen", deb + ": no usr/lib/debug/boot/vmlinux-* in the package (a "
                                       "linux-image-*-dbg package has it)");
}

} // namespace

Result<GenResult> generate_btf(const GenOptions& options) {
    if (options.vmlinux.empty() == options.deb.empty()) {
        return make_error("usage", "give one of --vmlinux FILE and --deb FILE");
    }
    if (options.output.empty()) {
        return make_error("usage", "--output FILE is required");
    }
    TRY_ASSIGN(const std::string pahole, find_tool("pahole", "dwarves"));
    TRY_ASSIGN(auto scratch, ScratchDir::make());
    GenResult result;
    result.vmlinux = options.vmlinux;
    if (!options.deb.empty()) {
        TRY_ASSIGN(const std::string dpkg_deb, find_tool("dpkg-deb", "dpkg"));
        const fs::path root = scratch.path() / "deb";
        TRY(run_tool({dpkg_deb, "-x", options.deb, root.string()}));
        TRY_ASSIGN(result.vmlinux, vmlinux_in(root, options.deb));
    }
    std::error_code ec;
    if (!fs::is_regular_file(result.vmlinux, ec)) {
        return make_error("usage", result.vmlinux + ": no such file");
    }
    const fs::path full =
        options.min_core.empty() ? fs::path(options.output) : scratch.path() / "full.btf";
    TRY(run_tool({pahole, "--btf_encode_detached=" + full.string(), result.vmlinux}));
    result.full_bytes = fs::file_size(full, ec);
    if (!options.min_core.empty()) {
        TRY_ASSIGN(const std::string bpftool, find_tool("bpftool", "bpftool"));
        std::vector<std::string> argv = {bpftool, "gen", "min_core_btf", full.string(),
                                         options.output};
        argv.insert(argv.end(), options.min_core.begin(), options.min_core.end());
        TRY(run_tool(argv));
    }
    auto facts = bpf::check_external_btf(options.output, "");
    if (!facts) {
        return tl::unexpected(facts.error());
    }
    result.bytes = facts->size;
    result.sha256 = facts->sha256;
    result.arch = facts->arch;
    return result;
}

} // namespace bpfleet::btf
