#include "bpf/elf_inspect.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <gelf.h>
#include <libelf.h>
#include <memory>
#include <string_view>
#include <vector>

#ifndef EM_BPF
#define EM_BPF 247
#endif

namespace bpfleet {
namespace {

struct ElfDeleter {
    void operator()(Elf* e) const { elf_end(e); }
};
using ElfHandle = std::unique_ptr<Elf, ElfDeleter>;

tl::unexpected<Error> invalid(std::string message) {
    return make_error("OBJECT_INVALID", std::move(message));
}

std::string hex_prefix(std::span<const std::uint8_t> bytes) {
    std::string out;
    char buf[8];
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 4); ++i) {
        std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", bytes[i]);
        out += buf;
    }
    return out;
}

bool range_ok(std::uint64_t offset, std::uint64_t size, std::uint64_t limit) {
    return offset <= limit && size <= limit - offset;
}

struct Section {
    std::size_t index = 0;
    GElf_Shdr hdr{};
    std::string name;
};

} // namespace

Result<ElfFacts> inspect_elf(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) {
        return invalid("the file is empty (0 bytes)");
    }
    if (bytes.size() < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) {
        return invalid("not an ELF file: it starts with bytes " + hex_prefix(bytes) +
                       ", not the ELF magic 7f 45 4c 46");
    }
    if (bytes[EI_CLASS] != ELFCLASS64) {
        return invalid("ELF class is " +
                       std::string(bytes[EI_CLASS] == ELFCLASS32 ? "32-bit" : "invalid") +
                       "; BPF objects are 64-bit ELF");
    }
    if (bytes.size() < sizeof(Elf64_Ehdr)) {
        return invalid("truncated ELF: " + std::to_string(bytes.size()) +
                       " bytes, shorter than the 64-byte ELF header");
    }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        return make_error("internal", "libelf initialisation failed");
    }
    // ELF_C_READ_MEMORY never writes to the image.
    ElfHandle elf(elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())),
                             bytes.size()));
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF) {
        return invalid(std::string("libelf cannot parse the file: ") + elf_errmsg(-1));
    }
    GElf_Ehdr ehdr;
    if (!gelf_getehdr(elf.get(), &ehdr)) {
        return invalid(std::string("unreadable ELF header: ") + elf_errmsg(-1));
    }
    if (ehdr.e_machine != EM_BPF) {
        return invalid("ELF machine is " + std::to_string(ehdr.e_machine) +
                       ", not BPF (247): this is not a BPF object (built for another CPU?)");
    }
    if (ehdr.e_type != ET_REL) {
        return invalid("ELF type is " + std::to_string(ehdr.e_type) +
                       ", not ET_REL (1): BPF objects are relocatable files");
    }
    std::size_t shnum = 0;
    std::size_t shstrndx = 0;
    if (elf_getshdrnum(elf.get(), &shnum) != 0 || elf_getshdrstrndx(elf.get(), &shstrndx) != 0) {
        return invalid(std::string("unreadable section header table: ") + elf_errmsg(-1));
    }
    if (shnum == 0) {
        return invalid("the ELF file has no sections");
    }
    if (!range_ok(ehdr.e_shoff, std::uint64_t{shnum} * sizeof(Elf64_Shdr), bytes.size())) {
        return invalid("truncated ELF: the section header table at offset " +
                       std::to_string(ehdr.e_shoff) + " runs past the end of the file (" +
                       std::to_string(bytes.size()) + " bytes)");
    }
    if (shstrndx >= shnum) {
        return invalid("section name table index " + std::to_string(shstrndx) +
                       " is out of range");
    }

    std::vector<Section> sections;
    sections.reserve(shnum);
    for (std::size_t i = 0; i < shnum; ++i) {
        Elf_Scn* scn = elf_getscn(elf.get(), i);
        Section s;
        s.index = i;
        if (!scn || !gelf_getshdr(scn, &s.hdr)) {
            return invalid("section " + std::to_string(i) + " has an unreadable header");
        }
        if (i != 0) {
            const char* name = elf_strptr(elf.get(), shstrndx, s.hdr.sh_name);
            if (!name) {
                return invalid("section " + std::to_string(i) +
                               " has a name offset outside the section name table");
            }
            s.name = name;
        }
        if (s.hdr.sh_type != SHT_NOBITS && s.hdr.sh_type != SHT_NULL &&
            !range_ok(s.hdr.sh_offset, s.hdr.sh_size, bytes.size())) {
            return invalid("truncated ELF: section " + std::to_string(i) + " '" + s.name +
                           "' (offset " + std::to_string(s.hdr.sh_offset) + ", size " +
                           std::to_string(s.hdr.sh_size) + ") runs past the end of the file (" +
                           std::to_string(bytes.size()) + " bytes)");
        }
        sections.push_back(std::move(s));
    }

    ElfFacts facts;
    const Section* symtab = nullptr;
    for (const auto& s : sections) {
        if (s.hdr.sh_type == SHT_SYMTAB) {
            if (symtab) {
                return invalid("the object has more than one symbol table (sections " +
                               std::to_string(symtab->index) + " and " +
                               std::to_string(s.index) + ")");
            }
            symtab = &s;
        }
        if (s.name == "maps" && s.hdr.sh_type != SHT_NOBITS) {
            return invalid("section 'maps' holds legacy map definitions (struct bpf_map_def), "
                           "which libbpf 1.0+ no longer loads: declare maps in '.maps' with "
                           "BTF (__uint/__type) instead");
        }
        if (s.name == ".BTF") {
            facts.has_btf = true;
        } else if (s.name == ".BTF.ext") {
            facts.has_btf_ext = true;
        } else if (s.name == "license" && s.hdr.sh_type == SHT_PROGBITS) {
            auto data = bytes.subspan(s.hdr.sh_offset, s.hdr.sh_size);
            for (std::uint8_t c : data) {
                if (c == 0 || facts.license.size() >= 128) {
                    break;
                }
                facts.license.push_back((c >= 0x20 && c < 0x7f) ? char(c) : '?');
            }
        }
        if (s.hdr.sh_type == SHT_PROGBITS && (s.hdr.sh_flags & SHF_EXECINSTR) &&
            s.hdr.sh_size > 0) {
            if (s.hdr.sh_size % 8 != 0) {
                return invalid("program section '" + s.name + "' is " +
                               std::to_string(s.hdr.sh_size) +
                               " bytes, not a whole number of 8-byte BPF instructions");
            }
            ++facts.program_sections;
        }
    }
    if (!symtab) {
        return invalid("the object has no symbol table (was it stripped?); libbpf needs one");
    }
    if (symtab->hdr.sh_entsize != sizeof(Elf64_Sym) || symtab->hdr.sh_link >= shnum ||
        sections[symtab->hdr.sh_link].hdr.sh_type != SHT_STRTAB) {
        return invalid("the symbol table (section " + std::to_string(symtab->index) +
                       ") has a bad entry size or string table link");
    }
    const auto& strtab = sections[symtab->hdr.sh_link];
    const std::uint64_t nsyms = symtab->hdr.sh_size / sizeof(Elf64_Sym);
    for (std::uint64_t i = 0; i < nsyms; ++i) {
        Elf64_Sym sym;
        std::memcpy(&sym, bytes.data() + symtab->hdr.sh_offset + i * sizeof(Elf64_Sym),
                    sizeof sym);
        if (ehdr.e_ident[EI_DATA] != ELFDATA2LSB) {
            // Big-endian objects are only structurally checked by libelf below.
            break;
        }
        if (sym.st_name >= strtab.hdr.sh_size) {
            return invalid("symbol " + std::to_string(i) +
                           " has a name offset outside the string table");
        }
        if (sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE && sym.st_shndx >= shnum) {
            return invalid("symbol " + std::to_string(i) + " points to section " +
                           std::to_string(sym.st_shndx) + ", which does not exist");
        }
    }
    for (const auto& s : sections) {
        if (s.hdr.sh_type == SHT_RELA) {
            return invalid("section '" + s.name +
                           "' is a RELA relocation section; BPF objects use REL");
        }
        if (s.hdr.sh_type != SHT_REL) {
            continue;
        }
        if (s.hdr.sh_entsize != sizeof(Elf64_Rel) || s.hdr.sh_info >= shnum ||
            s.hdr.sh_link != symtab->index) {
            return invalid("relocation section '" + s.name +
                           "' has a bad entry size, target section or symbol table link");
        }
        const auto& target = sections[s.hdr.sh_info];
        const std::uint64_t nrels = s.hdr.sh_size / sizeof(Elf64_Rel);
        if (ehdr.e_ident[EI_DATA] != ELFDATA2LSB) {
            continue;
        }
        for (std::uint64_t i = 0; i < nrels; ++i) {
            Elf64_Rel rel;
            std::memcpy(&rel, bytes.data() + s.hdr.sh_offset + i * sizeof(Elf64_Rel),
                        sizeof rel);
            if (ELF64_R_SYM(rel.r_info) >= nsyms) {
                return invalid("relocation " + std::to_string(i) + " in '" + s.name +
                               "' refers to symbol " + std::to_string(ELF64_R_SYM(rel.r_info)) +
                               ", past the " + std::to_string(nsyms) + "-entry symbol table");
            }
            if (target.hdr.sh_type != SHT_NOBITS && rel.r_offset >= target.hdr.sh_size) {
                return invalid("relocation " + std::to_string(i) + " in '" + s.name +
                               "' points past the end of section '" + target.name + "'");
            }
        }
    }
    return facts;
}

} // namespace bpfleet
