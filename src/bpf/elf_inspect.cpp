// inspect_elf() as a sequence of named steps, each a pass over one part of
// the file in the order libbpf would trust it: the identification bytes, the
// ELF header, the section headers, what the sections are, the symbols, the
// relocations, the BTF (btf_inspect.cpp) and the work libbpf's open would do.
// The first problem found is the error.

#include "bpf/elf_inspect.hpp"

#include "bpf/btf_inspect.hpp"
#include "bpf/elf_reading.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <libelf.h>
#include <memory>
#include <optional>
#include <vector>

#ifndef EM_BPF
#define EM_BPF 247
#endif

namespace bpfleet::bpf {
namespace {

struct ElfDeleter {
    void operator()(Elf* e) const { elf_end(e); }
};
using ElfHandle = std::unique_ptr<Elf, ElfDeleter>;

std::string hex_prefix(std::span<const std::uint8_t> bytes) {
    std::string out;
    char buf[8];
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 4); ++i) {
        std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", bytes[i]);
        out += buf;
    }
    return out;
}

// The identification bytes and the raw section header table's extent, before
// libelf sees the file: magic, 64-bit class, the host's byte order (libbpf
// only opens those, and everything here reads host-order structures), a whole
// ELF header, and (libelf quietly reports no sections when it is cut off) a
// section header table inside the file.
Result<void> check_identity(std::span<const std::uint8_t> bytes) {
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
    constexpr bool kHostLittle = std::endian::native == std::endian::little;
    const auto host_data = kHostLittle ? ELFDATA2LSB : ELFDATA2MSB;
    if (bytes[EI_DATA] != host_data) {
        const auto d = bytes[EI_DATA];
        return invalid(std::string("ELF byte order is ") +
                       (d == ELFDATA2LSB   ? "little-endian"
                        : d == ELFDATA2MSB ? "big-endian"
                                           : "invalid (" + num(d) + ")") +
                       " but this host is " + (kHostLittle ? "little" : "big") +
                       "-endian; libbpf only opens BPF objects built for the host's byte order");
    }
    if (bytes.size() < sizeof(Elf64_Ehdr)) {
        return invalid("truncated ELF: " + std::to_string(bytes.size()) +
                       " bytes, shorter than the 64-byte ELF header");
    }
    const auto raw_ehdr = load<Elf64_Ehdr>(bytes, 0);
    if (raw_ehdr.e_shoff != 0 &&
        !range_ok(raw_ehdr.e_shoff,
                  std::uint64_t{std::max<Elf64_Half>(raw_ehdr.e_shnum, 1)} * sizeof(Elf64_Shdr),
                  bytes.size())) {
        return invalid("truncated ELF: the section header table at offset " +
                       num(raw_ehdr.e_shoff) + " (" + num(raw_ehdr.e_shnum) +
                       " entries) runs past the end of the file (" + num(bytes.size()) + " bytes)");
    }
    return {};
}

// The file through libelf, and where its section headers and their names are.
struct OpenElf {
    ElfHandle elf;
    std::size_t shnum = 0;
    std::size_t shstrndx = 0;
};

// libelf's view of the header: a BPF relocatable with sections, whose
// section header table and name table index are inside the file.
Result<OpenElf> open_elf(std::span<const std::uint8_t> bytes) {
    if (elf_version(EV_CURRENT) == EV_NONE) {
        return make_error("internal", "libelf initialisation failed");
    }
    OpenElf out;
    // ELF_C_READ_MEMORY never writes to the image.
    out.elf.reset(
        elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size()));
    if (!out.elf || elf_kind(out.elf.get()) != ELF_K_ELF) {
        return invalid(std::string("libelf cannot parse the file: ") + elf_errmsg(-1));
    }
    GElf_Ehdr ehdr;
    if (!gelf_getehdr(out.elf.get(), &ehdr)) {
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
    if (elf_getshdrnum(out.elf.get(), &out.shnum) != 0 ||
        elf_getshdrstrndx(out.elf.get(), &out.shstrndx) != 0) {
        return invalid(std::string("unreadable section header table: ") + elf_errmsg(-1));
    }
    if (out.shnum == 0) {
        return invalid("the ELF file has no sections");
    }
    if (!range_ok(ehdr.e_shoff, std::uint64_t{out.shnum} * sizeof(Elf64_Shdr), bytes.size())) {
        return invalid("truncated ELF: the section header table at offset " +
                       std::to_string(ehdr.e_shoff) + " runs past the end of the file (" +
                       std::to_string(bytes.size()) + " bytes)");
    }
    if (out.shstrndx >= out.shnum) {
        return invalid("section name table index " + std::to_string(out.shstrndx) +
                       " is out of range");
    }
    return out;
}

// Every section's header, name and bytes; the bytes must lie inside the file.
Result<std::vector<Section>> read_sections(const OpenElf& file,
                                           std::span<const std::uint8_t> bytes) {
    std::vector<Section> sections;
    sections.reserve(file.shnum);
    for (std::size_t i = 0; i < file.shnum; ++i) {
        Elf_Scn* scn = elf_getscn(file.elf.get(), i);
        Section s;
        s.index = i;
        if (!scn || !gelf_getshdr(scn, &s.hdr)) {
            return invalid("section " + std::to_string(i) + " has an unreadable header");
        }
        if (i != 0) {
            const char* name = elf_strptr(file.elf.get(), file.shstrndx, s.hdr.sh_name);
            if (!name) {
                return invalid("section " + std::to_string(i) +
                               " has a name offset outside the section name table");
            }
            s.name = name;
        }
        if (s.hdr.sh_type != SHT_NOBITS && s.hdr.sh_type != SHT_NULL) {
            if (!range_ok(s.hdr.sh_offset, s.hdr.sh_size, bytes.size())) {
                return invalid("truncated ELF: section " + std::to_string(i) + " '" + s.name +
                               "' (offset " + std::to_string(s.hdr.sh_offset) + ", size " +
                               std::to_string(s.hdr.sh_size) + ") runs past the end of the file (" +
                               std::to_string(bytes.size()) + " bytes)");
            }
            s.data = bytes.subspan(s.hdr.sh_offset, s.hdr.sh_size);
        }
        sections.push_back(std::move(s));
    }
    return sections;
}

// The sections that matter to libbpf, found in one pass.
struct SectionRoles {
    const Section* symtab = nullptr;
    std::vector<const Section*> btf;
    std::vector<const Section*> btf_ext;
};

// What each section is: one symbol table, no legacy maps, BTF sections of
// the right type, whole instructions in code sections; the license and the
// counts go into `facts`.
Result<SectionRoles> survey_sections(const std::vector<Section>& sections, ElfFacts& facts) {
    SectionRoles roles;
    for (const auto& s : sections) {
        if (s.hdr.sh_type == SHT_SYMTAB) {
            if (roles.symtab) {
                return invalid("the object has more than one symbol table (sections " +
                               std::to_string(roles.symtab->index) + " and " +
                               std::to_string(s.index) + ")");
            }
            roles.symtab = &s;
        }
        if (s.name == "maps" && s.hdr.sh_type != SHT_NOBITS) {
            return invalid("section 'maps' holds legacy map definitions (struct bpf_map_def), "
                           "which libbpf 1.0+ no longer loads: declare maps in '.maps' with "
                           "BTF (__uint/__type) instead");
        }
        if (s.name == ".BTF" || s.name == ".BTF.ext") {
            if (s.hdr.sh_type != SHT_PROGBITS) {
                return invalid(label(s) + " has ELF type " + num(s.hdr.sh_type) +
                               ", not SHT_PROGBITS");
            }
            (s.name == ".BTF" ? roles.btf : roles.btf_ext).push_back(&s);
        }
        if (s.name == ".BTF") {
            facts.has_btf = true;
        } else if (s.name == ".BTF.ext") {
            facts.has_btf_ext = true;
        } else if (s.name == "license" && s.hdr.sh_type == SHT_PROGBITS) {
            for (std::uint8_t c : s.data) {
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
    if (!roles.symtab) {
        return invalid("the object has no symbol table (was it stripped?); libbpf needs one");
    }
    return roles;
}

bool is_code(const Section& s) {
    return s.hdr.sh_type == SHT_PROGBITS && (s.hdr.sh_flags & SHF_EXECINSTR);
}

// A function symbol in a code section: libbpf makes a program of it and
// copies st_size bytes from st_value without an overflow check; and a
// 16-byte ld_imm64 cut by the function's end would have its second half
// written past the program's instruction buffer when libbpf relocates it.
Result<void> check_function_symbol(std::uint64_t i, const Elf64_Sym& sym, const Section& in) {
    if (!range_ok(sym.st_value, sym.st_size, in.hdr.sh_size) || sym.st_value % 8 != 0 ||
        sym.st_size % 8 != 0) {
        return invalid("function symbol " + num(i) + " (offset " + num(sym.st_value) + ", size " +
                       num(sym.st_size) + ") is not a whole run of 8-byte instructions inside " +
                       label(in) + " (" + num(in.hdr.sh_size) + " bytes)");
    }
    constexpr std::uint8_t kLdImm64 = 0x18; // BPF_LD | BPF_IMM | BPF_DW
    const std::uint64_t end = sym.st_value + sym.st_size;
    for (std::uint64_t at = sym.st_value; at < end;) {
        if (in.data[at] != kLdImm64) {
            at += 8;
        } else if (end - at < 16) {
            return invalid("function symbol " + num(i) +
                           " ends in the middle of the "
                           "16-byte ld_imm64 instruction at offset " +
                           num(at) + " of " + label(in));
        } else {
            at += 16;
        }
    }
    return {};
}

struct SymbolCounts {
    std::uint64_t symbols = 0;
    std::uint64_t undefined = 0; // the candidates for libbpf's externs
};

// The symbol table: its shape, and every symbol's name and section, and its
// extent inside that section.
Result<SymbolCounts> check_symbols(const std::vector<Section>& sections, const Section& symtab) {
    const std::size_t shnum = sections.size();
    if (symtab.hdr.sh_entsize != sizeof(Elf64_Sym) || symtab.hdr.sh_link >= shnum ||
        sections[symtab.hdr.sh_link].hdr.sh_type != SHT_STRTAB) {
        return invalid("the symbol table (section " + std::to_string(symtab.index) +
                       ") has a bad entry size or string table link");
    }
    const auto& strtab = sections[symtab.hdr.sh_link];
    SymbolCounts counts;
    counts.symbols = symtab.hdr.sh_size / sizeof(Elf64_Sym);
    for (std::uint64_t i = 0; i < counts.symbols; ++i) {
        const auto sym = load<Elf64_Sym>(symtab.data, i * sizeof(Elf64_Sym));
        if (sym.st_shndx == SHN_UNDEF && sym.st_name != 0) {
            ++counts.undefined;
        }
        if (sym.st_name >= strtab.hdr.sh_size) {
            return invalid("symbol " + std::to_string(i) +
                           " has a name offset outside the string table");
        }
        if (sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE && sym.st_shndx >= shnum) {
            return invalid("symbol " + std::to_string(i) + " points to section " +
                           std::to_string(sym.st_shndx) + ", which does not exist");
        }
        if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= shnum) {
            continue;
        }
        const auto& in = sections[sym.st_shndx];
        const auto type = ELF64_ST_TYPE(sym.st_info);
        if (type == STT_FUNC && is_code(in)) {
            TRY(check_function_symbol(i, sym, in));
        }
        // Variables: libbpf takes a variable's offset in its section (map,
        // global data, struct_ops) from st_value, truncated to 32 bits.
        if (!range_ok(sym.st_value, type == STT_OBJECT ? sym.st_size : 0, in.hdr.sh_size)) {
            return invalid("symbol " + num(i) + " (offset " + num(sym.st_value) + ", size " +
                           num(sym.st_size) + ") lies outside " + label(in) + " (" +
                           num(in.hdr.sh_size) + " bytes)");
        }
    }
    return counts;
}

// Relocation sections: REL only, linked to the symbol table, each entry
// naming a symbol that exists and a place inside its target section.
Result<void> check_relocations(const std::vector<Section>& sections, const Section& symtab,
                               std::uint64_t nsyms) {
    for (const auto& s : sections) {
        if (s.hdr.sh_type == SHT_RELA) {
            return invalid("section '" + s.name +
                           "' is a RELA relocation section; BPF objects use REL");
        }
        if (s.hdr.sh_type != SHT_REL) {
            continue;
        }
        if (s.hdr.sh_entsize != sizeof(Elf64_Rel) || s.hdr.sh_info >= sections.size() ||
            s.hdr.sh_link != symtab.index) {
            return invalid("relocation section '" + s.name +
                           "' has a bad entry size, target section or symbol table link");
        }
        const auto& target = sections[s.hdr.sh_info];
        const std::uint64_t nrels = s.hdr.sh_size / sizeof(Elf64_Rel);
        for (std::uint64_t i = 0; i < nrels; ++i) {
            const auto rel = load<Elf64_Rel>(s.data, i * sizeof(Elf64_Rel));
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
    return {};
}

// libbpf parses the last '.BTF' and '.BTF.ext'; every one is checked, the
// .BTF.ext ones against the last .BTF.
Result<std::optional<BtfSummary>> check_btf_sections(const SectionRoles& roles) {
    std::optional<BtfSummary> btf;
    for (const auto* s : roles.btf) {
        TRY_ASSIGN(btf, check_btf(*s));
    }
    if (btf) {
        for (const auto* s : roles.btf_ext) {
            TRY(check_btf_ext(*s, *btf));
        }
    }
    return btf;
}

// libbpf's open has loops that are quadratic in counts a file controls
// (every symbol scanned once per code section, per extern and per DATASEC
// variable). Real objects stay far below this bound; a crafted one would
// keep the parser busy for minutes.
Result<void> check_open_work(const ElfFacts& facts, const SymbolCounts& symbols,
                             const std::optional<BtfSummary>& btf) {
    constexpr std::uint64_t kOpenWorkLimit = 1ull << 28;
    const std::uint64_t nsyms = symbols.symbols;
    const std::uint64_t types = btf ? btf->kinds.size() : 0;
    const std::uint64_t vars = btf ? btf->datasec_vars : 0;
    const std::pair<std::uint64_t, std::string> work[] = {
        {facts.program_sections * nsyms,
         num(facts.program_sections) + " code sections x " + num(nsyms) + " symbols"},
        {symbols.undefined * types,
         num(symbols.undefined) + " undefined symbols x " + num(types) + " BTF types"},
        {vars * nsyms, num(vars) + " BTF DATASEC variables x " + num(nsyms) + " symbols"},
    };
    for (const auto& [amount, what] : work) {
        if (amount > kOpenWorkLimit) {
            return invalid("the object is shaped to make libbpf's open do " + what +
                           " lookups, over the limit of " + num(kOpenWorkLimit));
        }
    }
    return {};
}

} // namespace

Result<ElfFacts> inspect_elf(std::span<const std::uint8_t> bytes) {
    TRY(check_identity(bytes));
    TRY_ASSIGN(const OpenElf file, open_elf(bytes));
    TRY_ASSIGN(const std::vector<Section> sections, read_sections(file, bytes));
    ElfFacts facts;
    TRY_ASSIGN(const SectionRoles roles, survey_sections(sections, facts));
    TRY_ASSIGN(const SymbolCounts symbols, check_symbols(sections, *roles.symtab));
    TRY(check_relocations(sections, *roles.symtab, symbols.symbols));
    TRY_ASSIGN(const std::optional<BtfSummary> btf, check_btf_sections(roles));
    TRY(check_open_work(facts, symbols, btf));
    return facts;
}

} // namespace bpfleet::bpf
