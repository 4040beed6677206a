#include "identity.hpp"

#include "commands.hpp"
#include "common/arch.hpp"
#include "common/sha256.hpp"
#include "output.hpp"

#include <bpf/libbpf.h>
#include <cstdio>
#include <cstring>
#include <link.h>
#include <sys/utsname.h>

namespace bpfleet::agent {
namespace {

int note_callback(dl_phdr_info* info, size_t, void* data) {
    auto* out = static_cast<std::string*>(data);
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const auto& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_NOTE) {
            continue;
        }
        const auto* p = reinterpret_cast<const std::uint8_t*>(info->dlpi_addr + ph.p_vaddr);
        const auto* end = p + ph.p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const auto* nh = reinterpret_cast<const ElfW(Nhdr)*>(p);
            const auto* name = p + sizeof(ElfW(Nhdr));
            const auto* desc = name + ((nh->n_namesz + 3) & ~3U);
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                std::memcmp(name, "GNU", 4) == 0 && desc + nh->n_descsz <= end) {
                *out = to_hex(std::span(desc, nh->n_descsz));
                return 1;
            }
            p = desc + ((nh->n_descsz + 3) & ~3U);
        }
    }
    return 1; // the executable comes first; stop after it
}

} // namespace

std::string build_id() {
    std::string id;
    dl_iterate_phdr(note_callback, &id);
    return id.empty() ? "unknown" : id;
}

AgentInfo agent_info() {
    AgentInfo info;
    info.version = BPFLEET_VERSION;
    info.libbpf_version =
        std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version());
    info.arch = std::string(compiled_arch());
    return info;
}

KernelInfo kernel_info() {
    KernelInfo k;
    utsname u{};
    if (uname(&u) == 0) {
        k.release = u.release;
        k.arch = u.machine;
    }
    return k;
}

int run_version(std::span<char*> args) {
    static constexpr std::string_view kVersionUsage =
        "usage: bpfleet-agent version   (or --version)\n"
        "\n"
        "Prints the agent's version, the libbpf it was built with, its architecture and\n"
        "its build id.\n";
    if (auto done = help_or_refuse("version", args, kVersionUsage)) {
        return *done;
    }
    auto info = agent_info();
    std::printf("bpfleet-agent %s libbpf %s %s build-id %s\n", info.version.c_str(),
                info.libbpf_version.c_str(), info.arch.c_str(), build_id().c_str());
    return kExitOk;
}

} // namespace bpfleet::agent
