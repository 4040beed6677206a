// libFuzzer target for the object-inspection path the agent runs on every
// artifact: inspect_elf(), and when it accepts the bytes, libbpf's open (no
// load) plus fact collection through inspect_object(). Any crash, sanitizer
// report or leak here is a structure inspect_elf() must learn to reject.
//
// Besides "does not crash", it checks the contract of the result: refusals are
// OBJECT_INVALID with a message, and the facts read from an accepted object are
// sane.

#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "bpf/elf_inspect.hpp"
#include "bpf/object.hpp"

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

int no_print(enum libbpf_print_level, const char*, va_list) { return 0; }

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // open_bpf_object() installs its own capture callback while it runs; this
    // keeps anything outside a capture quiet too.
    libbpf_set_print(no_print);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    auto elf = bpfleet::inspect_elf(input);
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
    auto facts = bpfleet::inspect_object(bytes, "fuzz.bpf.o");
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
