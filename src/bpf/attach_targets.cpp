#include "bpf/attach_targets.hpp"

#include "common/file.hpp"

#include <cstdio>
#include <link.h>

namespace bpfleet::bpf {

std::string read_kallsyms_candidate(const std::vector<std::string>& names) {
    FilePtr f = open_file("/proc/kallsyms", "r");
    if (!f) {
        return {};
    }
    char line[512];
    std::string found;
    std::size_t best = names.size();
    while (std::fgets(line, sizeof line, f.get())) {
        char type;
        char sym[256];
        if (std::sscanf(line, "%*s %c %255s", &type, sym) != 2) {
            continue;
        }
        for (std::size_t i = 0; i < best; ++i) {
            if (names[i] == sym) {
                found = sym;
                best = i;
                break;
            }
        }
    }
    return found;
}

std::optional<std::uint64_t> own_function_offset(const void* fn) {
    struct Search {
        std::uintptr_t addr;
        std::optional<std::uint64_t> offset;
    } search{reinterpret_cast<std::uintptr_t>(fn), std::nullopt};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) -> int {
            auto* s = static_cast<Search*>(data);
            const std::uintptr_t vaddr = s->addr - info->dlpi_addr;
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const auto& ph = info->dlpi_phdr[i];
                if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && vaddr >= ph.p_vaddr &&
                    vaddr < ph.p_vaddr + ph.p_memsz) {
                    s->offset = vaddr - ph.p_vaddr + ph.p_offset;
                }
            }
            return 1; // the executable is first
        },
        &search);
    return search.offset;
}

} // namespace bpfleet::bpf
