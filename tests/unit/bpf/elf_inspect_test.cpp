// inspect_elf() and inspect_object() on bad input: nothing may crash, every
// refusal is OBJECT_INVALID with a message that names the problem, and good
// objects keep being accepted with the right facts.

#include "bpf/elf_inspect.hpp"
#include "bpf/object.hpp"
#include "support/require.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace bpfleet::bpf {
namespace {

namespace fs = std::filesystem;

using Bytes = std::vector<std::uint8_t>;

Bytes read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

fs::path test_object(const std::string& name) {
    return fs::path(BPFLEET_TEST_BPF_DIR) / name;
}

fs::path hostile_dir() {
    return fs::path(BPFLEET_FIXTURES_DIR) / "hostile-objects";
}

ObjectBytes shared(Bytes bytes) {
    return std::make_shared<const Bytes>(std::move(bytes));
}

// The refusal contract: OBJECT_INVALID, and a message containing `needle`.
template <typename T>
::testing::AssertionResult refused_with(const Result<T>& r, const std::string& needle) {
    if (r) {
        return ::testing::AssertionFailure()
               << "accepted, expected a refusal naming '" << needle << "'";
    }
    if (r.error().code != "OBJECT_INVALID") {
        return ::testing::AssertionFailure()
               << "code " << r.error().code << ": " << r.error().message;
    }
    if (r.error().message.find(needle) == std::string::npos) {
        return ::testing::AssertionFailure()
               << "message does not mention '" << needle << "': " << r.error().message;
    }
    return ::testing::AssertionSuccess();
}

// Whole path the agent runs; either facts or OBJECT_INVALID, never a crash.
void expect_inspect_object_survives(const Bytes& bytes, const std::string& what) {
    auto facts = inspect_object(shared(bytes), what);
    if (!facts) {
        EXPECT_EQ(facts.error().code, "OBJECT_INVALID") << what << ": " << facts.error().message;
        EXPECT_FALSE(facts.error().message.empty()) << what;
    }
}

// A minimal BPF ELF relocatable: `code_sections` sections named "xdp" that
// all share one 8-byte instruction, and a symbol table of `symbols` entries.
Bytes make_wide_object(std::size_t code_sections, std::size_t symbols) {
    const char shstrtab[] = "\0.shstrtab\0.strtab\0.symtab\0xdp";
    const std::size_t kShstrtab = 0, kStrtab = 1, kSymtab = 2;
    Bytes out(sizeof(Elf64_Ehdr));
    auto append = [&](const void* p, std::size_t n) {
        const auto at = out.size();
        out.resize(at + n);
        std::memcpy(out.data() + at, p, n);
        return at;
    };
    const auto names_at = append(shstrtab, sizeof shstrtab);
    const std::uint8_t strtab[1] = {0};
    const auto strtab_at = append(strtab, sizeof strtab);
    const std::uint8_t exit_insn[8] = {0x95, 0, 0, 0, 0, 0, 0, 0};
    const auto code_at = append(exit_insn, sizeof exit_insn);
    out.resize((out.size() + 7) & ~std::size_t{7});
    const auto symtab_at = out.size();
    out.resize(symtab_at + symbols * sizeof(Elf64_Sym), 0);
    const auto shdrs_at = out.size();
    const std::size_t shnum = 1 + 3 + code_sections;
    out.resize(shdrs_at + shnum * sizeof(Elf64_Shdr), 0);

    Elf64_Ehdr ehdr{};
    std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
    ehdr.e_ident[EI_CLASS] = ELFCLASS64;
    ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
    ehdr.e_ident[EI_VERSION] = EV_CURRENT;
    ehdr.e_type = ET_REL;
    ehdr.e_machine = EM_BPF;
    ehdr.e_version = EV_CURRENT;
    ehdr.e_shoff = shdrs_at;
    ehdr.e_ehsize = sizeof(Elf64_Ehdr);
    ehdr.e_shentsize = sizeof(Elf64_Shdr);
    ehdr.e_shnum = static_cast<Elf64_Half>(shnum);
    ehdr.e_shstrndx = 1 + kShstrtab;
    std::memcpy(out.data(), &ehdr, sizeof ehdr);

    auto shdr = [&](std::size_t index, Elf64_Word name, Elf64_Word type, std::uint64_t offset,
                    std::uint64_t size) {
        Elf64_Shdr h{};
        h.sh_name = name;
        h.sh_type = type;
        h.sh_offset = offset;
        h.sh_size = size;
        return std::make_pair(index, h);
    };
    std::vector<std::pair<std::size_t, Elf64_Shdr>> headers = {
        shdr(1 + kShstrtab, 1, SHT_STRTAB, names_at, sizeof shstrtab),
        shdr(1 + kStrtab, 11, SHT_STRTAB, strtab_at, sizeof strtab),
        shdr(1 + kSymtab, 19, SHT_SYMTAB, symtab_at, symbols * sizeof(Elf64_Sym)),
    };
    headers.back().second.sh_link = 1 + kStrtab;
    headers.back().second.sh_entsize = sizeof(Elf64_Sym);
    for (std::size_t i = 0; i < code_sections; ++i) {
        headers.push_back(shdr(4 + i, 27, SHT_PROGBITS, code_at, sizeof exit_insn));
        headers.back().second.sh_flags = SHF_ALLOC | SHF_EXECINSTR;
    }
    for (const auto& [index, h] : headers) {
        std::memcpy(out.data() + shdrs_at + index * sizeof(Elf64_Shdr), &h, sizeof h);
    }
    return out;
}

class ElfInspectObjects : public ::testing::Test {
protected:
    void SetUp() override {
        BPFLEET_REQUIRE(fs::exists(test_object("pass.bpf.o")),
                        "test BPF objects are not built (" BPFLEET_TEST_BPF_DIR ")");
        m_pass = read_file(test_object("pass.bpf.o"));
        ASSERT_GT(m_pass.size(), sizeof(Elf64_Ehdr));
    }
    Bytes m_pass;
};

TEST(ElfInspect, EmptyInputIsRefused) {
    EXPECT_TRUE(refused_with(inspect_elf({}), "empty"));
    EXPECT_TRUE(refused_with(inspect_object(shared({}), "empty.bpf.o"), "empty"));
}

TEST(ElfInspect, RandomBytesAreRefused) {
    std::mt19937_64 rng(0x5eedbf00ULL);
    std::uniform_int_distribution<int> byte(0, 255);
    for (std::size_t size : {1u, 3u, 4u, 15u, 16u, 63u, 64u, 65u, 511u, 4096u, 65536u}) {
        for (int round = 0; round < 8; ++round) {
            Bytes bytes(size);
            for (auto& b : bytes) {
                b = static_cast<std::uint8_t>(byte(rng));
            }
            if (size >= 4 && std::memcmp(bytes.data(), ELFMAG, SELFMAG) == 0) {
                bytes[0] = 0; // astronomically unlikely, but keep the assertion exact
            }
            EXPECT_TRUE(refused_with(inspect_elf(bytes), "not an ELF")) << "size " << size;
        }
    }
}

TEST(ElfInspect, RandomBytesBehindAnElfHeaderNeverCrash) {
    // A plausible 64-bit little-endian BPF ELF header followed by noise:
    // gets past the magic and into libelf and the structural checks.
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int round = 0; round < 200; ++round) {
        Bytes bytes(64 + 64 * (round % 40));
        for (auto& b : bytes) {
            b = static_cast<std::uint8_t>(byte(rng));
        }
        Elf64_Ehdr ehdr{};
        std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
        ehdr.e_ident[EI_CLASS] = ELFCLASS64;
        ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
        ehdr.e_ident[EI_VERSION] = EV_CURRENT;
        ehdr.e_type = ET_REL;
        ehdr.e_machine = EM_BPF;
        ehdr.e_version = EV_CURRENT;
        ehdr.e_ehsize = sizeof(Elf64_Ehdr);
        ehdr.e_shentsize = sizeof(Elf64_Shdr);
        ehdr.e_shoff = 64;
        ehdr.e_shnum = static_cast<Elf64_Half>(round % 7);
        ehdr.e_shstrndx = static_cast<Elf64_Half>(round % 3);
        std::memcpy(bytes.data(), &ehdr, sizeof ehdr);
        auto r = inspect_elf(bytes);
        if (!r) {
            EXPECT_EQ(r.error().code, "OBJECT_INVALID");
            EXPECT_FALSE(r.error().message.empty());
        }
        expect_inspect_object_survives(bytes, "noise-" + std::to_string(round));
    }
}

TEST_F(ElfInspectObjects, EveryTruncationIsRefused) {
    // Every prefix up to 1 KiB, then every 8th length (the odd lengths in
    // between cut the same structures).
    for (std::size_t len = 0; len < m_pass.size(); len += (len < 1024 ? 1 : 8)) {
        const Bytes prefix(m_pass.begin(), m_pass.begin() + static_cast<std::ptrdiff_t>(len));
        auto r = inspect_elf(prefix);
        const char* needle = len == 0 ? "empty" : len < EI_NIDENT ? "not an ELF" : "truncated";
        ASSERT_TRUE(refused_with(r, needle)) << "prefix of " << len << " bytes";
        if (len % 512 == 0) {
            expect_inspect_object_survives(prefix, "prefix-" + std::to_string(len));
        }
    }
    EXPECT_TRUE(inspect_elf(m_pass)) << "the whole object must still be accepted";
}

TEST(ElfInspect, NonBpfElfIsRefusedForItsMachine) {
    const fs::path exe = fs::exists("/bin/true") ? "/bin/true" : "/usr/bin/true";
    BPFLEET_REQUIRE(fs::exists(exe), "no /bin/true to use as a non-BPF ELF");
    const Bytes bytes = read_file(exe);
    EXPECT_TRUE(refused_with(inspect_elf(bytes), "machine"));
    EXPECT_TRUE(refused_with(inspect_elf(bytes), "not a BPF object"));
}

TEST(ElfInspect, Elf32HeaderIsRefused) {
    Bytes bytes(sizeof(Elf32_Ehdr) + 64, 0);
    Elf32_Ehdr ehdr{};
    std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
    ehdr.e_ident[EI_CLASS] = ELFCLASS32;
    ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
    ehdr.e_ident[EI_VERSION] = EV_CURRENT;
    ehdr.e_type = ET_REL;
    ehdr.e_machine = EM_BPF;
    std::memcpy(bytes.data(), &ehdr, sizeof ehdr);
    EXPECT_TRUE(refused_with(inspect_elf(bytes), "32-bit"));
}

TEST_F(ElfInspectObjects, OtherByteOrderIsRefused) {
    Bytes bytes = m_pass;
    bytes[EI_DATA] = ELFDATA2MSB;
    EXPECT_TRUE(refused_with(inspect_elf(bytes), "byte order"));
    EXPECT_TRUE(refused_with(inspect_elf(bytes), "big-endian"));
    bytes[EI_DATA] = 7;
    EXPECT_TRUE(refused_with(inspect_elf(bytes), "invalid"));
}

TEST_F(ElfInspectObjects, WrongTypeIsRefused) {
    Bytes bytes = m_pass;
    const Elf64_Half exec = ET_EXEC;
    std::memcpy(bytes.data() + offsetof(Elf64_Ehdr, e_type), &exec, sizeof exec);
    EXPECT_TRUE(refused_with(inspect_elf(bytes), "ET_REL"));
}

TEST_F(ElfInspectObjects, SectionTablePastTheEndIsRefused) {
    Bytes bytes = m_pass;
    const Elf64_Off far = bytes.size() - 8;
    std::memcpy(bytes.data() + offsetof(Elf64_Ehdr, e_shoff), &far, sizeof far);
    auto r = inspect_elf(bytes);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "OBJECT_INVALID");
    expect_inspect_object_survives(bytes, "shoff-past-end");
}

TEST(ElfInspect, LegacyMapsSectionIsRefused) {
    const auto path = test_object("legacy_maps.bpf.o");
    BPFLEET_REQUIRE(fs::exists(path), "legacy_maps.bpf.o is not built");
    const Bytes bytes = read_file(path);
    EXPECT_TRUE(refused_with(inspect_elf(bytes), "legacy"));
    auto facts = inspect_object(shared(bytes), "legacy_maps.bpf.o");
    ASSERT_FALSE(facts);
    EXPECT_EQ(facts.error().code, "OBJECT_INVALID");
    EXPECT_NE(facts.error().message.find("legacy"), std::string::npos) << facts.error().message;
}

// Regression inputs (tests/fixtures/hostile-objects/README.md): each crashed,
// hung or corrupted libbpf 1.1 before inspect_elf() learnt to refuse it. The
// message must say what is wrong; the table maps each file to the words that
// do, so that losing a check is noticed.
TEST(ElfInspect, HostileObjectsAreRefusedWithoutCrashing) {
    BPFLEET_REQUIRE(fs::is_directory(hostile_dir()), "no tests/fixtures/hostile-objects directory");
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"fuzz-btf-map-var-type-out-of-range.o", "(VAR) refers to type"},
        {"fuzz-btf-map-member-type-out-of-range.o", "member 4 refers to type"},
        {"btf-modifier-loop.o", "loop"},
        {"btf-struct-contains-itself.o", "contains itself"},
        {"struct-ops-var-offset-wraps.o", "overflows 32 bits"},
        {"struct-ops-symbol-outside-section.o", "lies outside section"},
        {"struct-ops-type-larger-than-var.o", "smaller than its type"},
        {"func-symbol-wraps-section.o", "is not a whole run of 8-byte instructions"},
        {"ld-imm64-cut-by-function-end.o", "middle of the 16-byte ld_imm64"},
        {"kconfig-extern-type-over-2gib.o", "which libbpf cannot hold"},
    };
    for (const auto& [file, needle] : expected) {
        SCOPED_TRACE(file);
        const auto path = hostile_dir() / file;
        ASSERT_TRUE(fs::exists(path)) << "regression input missing";
        const Bytes bytes = read_file(path);
        EXPECT_LE(bytes.size(), 8u << 10) << "regression inputs are meant to be small";
        EXPECT_TRUE(refused_with(inspect_elf(bytes), needle));
        EXPECT_TRUE(refused_with(inspect_object(shared(bytes), file), needle));
    }
    // Any other input added there: refused or opened, never a crash.
    for (const auto& entry : fs::directory_iterator(hostile_dir())) {
        if (entry.is_regular_file() && entry.path().extension() == ".o") {
            SCOPED_TRACE(entry.path().filename().string());
            const Bytes bytes = read_file(entry.path());
            auto r = inspect_elf(bytes);
            if (!r) {
                EXPECT_EQ(r.error().code, "OBJECT_INVALID");
                EXPECT_FALSE(r.error().message.empty());
            }
            expect_inspect_object_survives(bytes, entry.path().filename().string());
        }
    }
}

// libbpf 1.1 returns an int-overflowed error code as if it were the object;
// open_bpf_object() must not hand it on even when inspect_elf() was skipped.
TEST(ElfInspect, LibbpfErrorOutsideErrnoRangeIsNotAnObject) {
    const auto path = hostile_dir() / "kconfig-extern-type-over-2gib.o";
    BPFLEET_REQUIRE(fs::exists(path), "no " + path.string());
    auto opened = open_bpf_object(shared(read_file(path)), "kconfig.o");
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error().code, "OBJECT_INVALID");
    EXPECT_NE(opened.error().message.find("errno range"), std::string::npos)
        << opened.error().message;
}

TEST_F(ElfInspectObjects, GoodObjectIsAcceptedWithItsFacts) {
    auto elf = inspect_elf(m_pass);
    ASSERT_TRUE(elf) << elf.error().message;
    EXPECT_EQ(elf->license, "GPL");
    EXPECT_TRUE(elf->has_btf);
    EXPECT_TRUE(elf->has_btf_ext);
    EXPECT_GT(elf->program_sections, 0u);

    auto facts = inspect_object(shared(m_pass), "pass.bpf.o");
    ASSERT_TRUE(facts) << facts.error().message;
    EXPECT_EQ(facts->license, "GPL");
    EXPECT_TRUE(facts->has_btf);
    EXPECT_TRUE(facts->has_btf_ext);
    EXPECT_EQ(facts->size, m_pass.size());
    EXPECT_FALSE(facts->programs.empty());
}

TEST_F(ElfInspectObjects, EveryBuiltTestObjectButLegacyMapsIsAccepted) {
    for (const auto& entry : fs::directory_iterator(BPFLEET_TEST_BPF_DIR)) {
        const auto name = entry.path().filename().string();
        if (!name.ends_with(".bpf.o") || name.starts_with("legacy_maps")) {
            continue;
        }
        auto facts = inspect_object(shared(read_file(entry.path())), name);
        EXPECT_TRUE(facts) << name << ": " << facts.error().message;
    }
}

TEST(ElfInspect, ThirdPartyObjectsAreAccepted) {
    std::vector<fs::path> objects;
    for (const char* dir : {"/usr/lib/x86_64-linux-gnu/bpf", "/usr/lib/aarch64-linux-gnu/bpf",
                            "/usr/libexec/xdp-tools"}) {
        if (!fs::is_directory(dir)) {
            continue;
        }
        for (const auto& entry : fs::directory_iterator(dir)) {
            if (entry.path().extension() == ".o") {
                objects.push_back(entry.path());
            }
        }
    }
    BPFLEET_REQUIRE(!objects.empty(), "no libxdp1/xdp-tests BPF objects installed");
    for (const auto& path : objects) {
        auto facts = inspect_object(shared(read_file(path)), path.filename().string());
        EXPECT_TRUE(facts) << path << ": " << facts.error().message;
        if (facts) {
            EXPECT_EQ(facts->license, "GPL") << path;
            EXPECT_TRUE(facts->has_btf) << path;
        }
    }
}

TEST(ElfInspect, ObjectShapedForQuadraticWorkIsRefused) {
    // libbpf scans the whole symbol table once per code section.
    const Bytes small = make_wide_object(4, 16);
    auto ok = inspect_elf(small);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->program_sections, 4u);

    const Bytes wide = make_wide_object(20000, 16384);
    EXPECT_TRUE(refused_with(inspect_elf(wide), "20000 code sections x 16384 symbols"));
}

TEST(ElfInspect, HundredMegabytesOfZerosAreRefusedQuickly) {
    const Bytes zeros(100u << 20, 0);
    const auto start = std::chrono::steady_clock::now();
    auto r = inspect_elf(zeros);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(refused_with(r, "not an ELF"));
    EXPECT_LT(took, std::chrono::milliseconds(200))
        << "refusing a non-ELF must not scan the whole buffer";
}

} // namespace
} // namespace bpfleet::bpf
