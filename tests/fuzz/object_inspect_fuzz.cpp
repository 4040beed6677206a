// libFuzzer target for the object-inspection path the agent runs on every
// artifact: inspect_elf(), and when it accepts the bytes, libbpf's open (no
// load) plus fact collection through inspect_object(). Any crash, sanitizer
// report or leak here is a structure inspect_elf() must learn to reject.
//
// Besides "does not crash", it checks the contract of the result: refusals are
// OBJECT_INVALID with a message, and the facts read from an accepted object are
// sane.

#include "bpf/elf_inspect.hpp"
#include "bpf/object.hpp"

#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace {

[[noreturn]] void contract_broken(const char* what, const std::string& detail) {
    std::fprintf(stderr, "object_inspect_fuzz: %s: %s\n", what, detail.c_str());
    std::abort();
}

void check_refusal(const bpfleet::Error& err) {
    if (err.code != "OBJECT_INVALID") {
        contract_broken("refusal with a code other than OBJECT_INVALID", err.code);
    }
    if (err.message.empty()) {
        contract_broken("refusal without a message", err.code);
    }
}

int no_print(enum libbpf_print_level, const char*, va_list) {
    return 0;
}

struct Region {
    std::size_t offset;
    std::size_t size;
};

// The byte ranges of a 64-bit ELF worth mutating in place: the header, the
// section header table and each section's contents. Empty when the input is
// not a plausible ELF.
std::vector<Region> elf_regions(const std::uint8_t* data, std::size_t size) {
    std::vector<Region> regions;
    Elf64_Ehdr ehdr;
    if (size < sizeof ehdr || std::memcmp(data, ELFMAG, SELFMAG) != 0 ||
        data[EI_CLASS] != ELFCLASS64) {
        return regions;
    }
    std::memcpy(&ehdr, data, sizeof ehdr);
    regions.push_back({0, sizeof ehdr});
    const std::uint64_t table = std::uint64_t{ehdr.e_shnum} * sizeof(Elf64_Shdr);
    if (ehdr.e_shoff > size || table > size - ehdr.e_shoff) {
        return regions;
    }
    regions.push_back({static_cast<std::size_t>(ehdr.e_shoff), static_cast<std::size_t>(table)});
    for (unsigned i = 1; i < ehdr.e_shnum; ++i) {
        Elf64_Shdr shdr;
        std::memcpy(&shdr, data + ehdr.e_shoff + i * sizeof shdr, sizeof shdr);
        if (shdr.sh_type != SHT_NOBITS && shdr.sh_size > 0 && shdr.sh_offset <= size &&
            shdr.sh_size <= size - shdr.sh_offset) {
            regions.push_back(
                {static_cast<std::size_t>(shdr.sh_offset), static_cast<std::size_t>(shdr.sh_size)});
        }
    }
    return regions;
}

} // namespace

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

// Byte-level mutations of a whole ELF mostly break its offsets and stop at the
// first header check. Three times in four, mutate inside one section (or the
// headers) in place, size unchanged, so that the structure stays intact and
// libbpf gets to parse BTF, symbols and relocations that are subtly wrong.
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
    std::minstd_rand rng(seed);
    const auto regions = elf_regions(data, size);
    if (regions.empty() || rng() % 4 == 0) {
        return LLVMFuzzerMutate(data, size, max_size);
    }
    const Region r = regions[rng() % regions.size()];
    std::vector<std::uint8_t> original(data + r.offset, data + r.offset + r.size);
    const std::size_t n = LLVMFuzzerMutate(data + r.offset, r.size, r.size);
    if (n < r.size) { // keep the file's layout: refill what the mutation dropped
        std::memcpy(data + r.offset + n, original.data() + n, r.size - n);
    }
    return size;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // open_bpf_object() installs its own capture callback while it runs; this
    // keeps anything outside a capture quiet too.
    libbpf_set_print(no_print);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    auto elf = bpfleet::bpf::inspect_elf(input);
    if (!elf) {
        check_refusal(elf.error());
        return 0;
    }
    for (char c : elf->license) {
        if (c < 0x20 || c > 0x7e) {
            contract_broken("license fact is not printable ASCII", elf->license);
        }
    }

    // A heap copy of exactly `size` bytes, so that ASan catches a read past
    // the end of the object by anything that is instrumented.
    auto bytes = std::make_shared<const std::vector<std::uint8_t>>(data, data + size);
    auto facts = bpfleet::bpf::inspect_object(bytes, "fuzz.bpf.o");
    if (!facts) {
        check_refusal(facts.error());
        return 0;
    }
    if (facts->size != size) {
        contract_broken("object size fact differs from the input size",
                        std::to_string(facts->size));
    }
    return 0;
}
