#include "bpf/external_btf.hpp"

#include "common/file.hpp"
#include "common/sha256.hpp"

#include <bpf/btf.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sys/stat.h>
#include <vector>

namespace bpfleet::bpf {
namespace {

struct BtfDeleter {
    void operator()(btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<btf, BtfDeleter>;

bool has_member(const btf* b, const btf_type* t, std::string_view name) {
    const btf_member* m = btf_members(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i, ++m) {
        const char* n = btf__name_by_offset(b, m->name_off);
        if (n && name == n) {
            return true;
        }
    }
    return false;
}

// struct pt_regs is the one type every kernel's BTF has whose layout is the
// architecture's own: x86_64 names r15, arm64 has orig_x0, 32-bit ARM is one
// array uregs. (Minimised BTF may lack it: then nothing is said.)
std::string arch_of(const btf* b) {
    const int id = btf__find_by_name_kind(b, "pt_regs", BTF_KIND_STRUCT);
    if (id <= 0) {
        return {};
    }
    const btf_type* t = btf__type_by_id(b, static_cast<__u32>(id));
    if (!t) {
        return {};
    }
    if (has_member(b, t, "r15")) {
        return "x86_64";
    }
    if (has_member(b, t, "orig_x0")) {
        return "aarch64";
    }
    if (has_member(b, t, "uregs")) {
        return "armv7l";
    }
    return {};
}

} // namespace

Result<ExternalBtfFacts> inspect_external_btf(std::span<const std::uint8_t> bytes,
                                              std::string_view where) {
    if (bytes.size() > kMaxExternalBtfBytes) {
        return make_error("external_btf", std::string(where) + ": larger than " +
                                              std::to_string(kMaxExternalBtfBytes) +
                                              " bytes, not a kernel's BTF");
    }
    // libbpf keeps its own copy; an empty span still needs a valid pointer.
    static const std::uint8_t kEmpty = 0;
    errno = 0;
    BtfPtr parsed(
        btf__new(bytes.empty() ? &kEmpty : bytes.data(), static_cast<__u32>(bytes.size())));
    if (!parsed) {
        const int err = errno ? errno : EINVAL;
        return make_error("external_btf",
                          std::string(where) + ": not a raw BTF file (libbpf: " +
                              std::strerror(err) + "); give a .btf file, not an ELF or archive",
                          err);
    }
    ExternalBtfFacts facts;
    facts.sha256 = Sha256::hex_of(bytes);
    facts.size = bytes.size();
    facts.types = btf__type_cnt(parsed.get());
    if (btf__find_by_name_kind(parsed.get(), "task_struct", BTF_KIND_STRUCT) <= 0) {
        return make_error("external_btf",
                          std::string(where) +
                              ": BTF without struct task_struct is not a kernel's (vmlinux) BTF");
    }
    facts.arch = arch_of(parsed.get());
    return facts;
}

Result<ExternalBtfFacts> check_external_btf(const std::string& path, std::string_view host_arch) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        const int err = errno;
        return make_error("external_btf", path + ": " + std::strerror(err), err);
    }
    if (!S_ISREG(st.st_mode)) {
        return make_error("external_btf", path + ": not a regular file");
    }
    if (static_cast<std::uint64_t>(st.st_size) > kMaxExternalBtfBytes) {
        return make_error("external_btf", path + ": larger than " +
                                              std::to_string(kMaxExternalBtfBytes) +
                                              " bytes, not a kernel's BTF");
    }
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
    // stdio, not <fstream>: iostreams pull libstdc++'s locale machinery
    // (about 500 KiB) into the static agent.
    FilePtr in = open_file(path.c_str(), "rb");
    if (!in || std::fread(bytes.data(), 1, bytes.size(), in.get()) != bytes.size()) {
        return make_error("external_btf", path + ": cannot be read");
    }
    auto facts = inspect_external_btf(bytes, path);
    if (facts && !host_arch.empty() && !facts->arch.empty() && facts->arch != host_arch) {
        return make_error("external_btf", path + ": BTF of an " + facts->arch +
                                              " kernel, but the host is " + std::string(host_arch));
    }
    return facts;
}

} // namespace bpfleet::bpf
