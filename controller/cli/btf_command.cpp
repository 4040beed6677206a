// `bpfleet btf gen`: kernel BTF from a debug vmlinux (btf/btf_gen.hpp).

#include "btf/btf_gen.hpp"
#include "cli/commands.hpp"

#include <cstdio>
#include <memory>

namespace bpfleet::cli {

Action register_btf(CLI::App& app) {
    auto options = std::make_shared<btf::GenOptions>();
    CLI::App* cmd = app.add_subcommand("btf", "Kernel BTF for kernels built without it");
    cmd->require_subcommand(1);
    CLI::App* gen = cmd->add_subcommand(
        "gen", "Make a kernel's BTF from its debug vmlinux (pahole --btf_encode_detached), "
               "optionally minimised for given objects (bpftool gen min_core_btf)");
    gen->add_option("--vmlinux", options->vmlinux, "A vmlinux with DWARF debug info");
    gen->add_option("--deb", options->deb,
                    "A linux-image-*-dbg package to take the debug vmlinux from");
    gen->add_option("-o,--output", options->output, "The .btf file to write")->required();
    gen->add_option("--min-core", options->min_core,
                    "BPF objects to minimise the BTF for (repeatable); without: the full BTF");
    return [options] {
        auto r = btf::generate_btf(*options);
        if (!r) {
            std::fprintf(stderr, "bpfleet: btf gen: %s\n", r.error().message.c_str());
            return kExitUsage;
        }
        std::printf("%s: %llu bytes (from %llu of full BTF), sha256 %s, arch %s, from %s\n",
                    options->output.c_str(), static_cast<unsigned long long>(r->bytes),
                    static_cast<unsigned long long>(r->full_bytes), r->sha256.c_str(),
                    r->arch.empty() ? "not told" : r->arch.c_str(), r->vmlinux.c_str());
        return kExitOk;
    };
}

} // namespace bpfleet::cli
