// bpfleet inspect ARTIFACT [--arch ARCH] [--json]: per architecture, the
// programs, maps, BTF and license of each object, opened with libbpf and never
// loaded, plus the digests and gadget metadata (docs/artifacts.md).
#include "bpf/object.hpp"
#include "cli/artifact_options.hpp"
#include "cli/commands.hpp"
#include "logging/log.hpp"
#include "model/check_result.hpp"

#include <cstdio>
#include <memory>

namespace bpfleet::cli {
namespace {

struct InspectOptions {
    std::string artifact;
    bool json = false;
    int verbose = 0; // -vv: libbpf's own messages
    ArtifactCliOptions artifact_options;
};

Json gadget_json(const oci::GadgetMetadata& g) {
    Json j;
    j["name"] = g.name;
    j["description"] = g.description;
    j["source_url"] = g.source_url;
    j["homepage_url"] = g.homepage_url;
    j["documentation_url"] = g.documentation_url;
    j["annotations"] = g.annotations;
    return j;
}

std::string arch_label(const oci::ResolvedObject& o) {
    if (o.arch.empty()) {
        return "any";
    }
    return o.variant.empty() ? o.arch : o.arch + "/" + o.variant;
}

void print_text(
    const oci::ResolvedArtifact& art,
    const std::vector<std::pair<const oci::ResolvedObject*, Result<ObjectFacts>>>& facts) {
    std::printf("artifact:     %s (%s)\n", art.spec.c_str(),
                std::string(oci::to_string(art.kind)).c_str());
    if (!art.image_digest.empty()) {
        std::printf("image digest: %s\n", art.image_digest.c_str());
    }
    if (art.gadget) {
        const auto& g = *art.gadget;
        std::printf("gadget:       %s%s%s\n", g.name.c_str(), g.description.empty() ? "" : " - ",
                    g.description.c_str());
        if (!g.source_url.empty()) {
            std::printf("source:       %s\n", g.source_url.c_str());
        }
        if (!g.homepage_url.empty()) {
            std::printf("homepage:     %s\n", g.homepage_url.c_str());
        }
    }
    for (const auto& [o, f] : facts) {
        std::printf("\n[%s] %s\n", arch_label(*o).c_str(), o->name.c_str());
        if (!o->manifest_digest.empty()) {
            std::printf("  manifest: %s\n  layer:    %s\n", o->manifest_digest.c_str(),
                        o->layer_digest.c_str());
        }
        std::printf("  object:   sha256:%s (%zu bytes)\n", o->object_sha256.c_str(),
                    o->bytes->size());
        if (o->btfgen) {
            std::printf("  btfgen:   %s (%llu bytes)\n", o->btfgen->digest.c_str(),
                        static_cast<unsigned long long>(o->btfgen->size));
        }
        if (!f) {
            std::printf("  error:    %s [%s]\n", f.error().describe().c_str(),
                        f.error().code.c_str());
            continue;
        }
        std::printf("  license:  %s\n  btf:      %s%s\n",
                    f->license.empty() ? "(none)" : f->license.c_str(), f->has_btf ? "yes" : "no",
                    f->has_btf_ext ? " (+ .BTF.ext)" : "");
        std::printf("  programs: %zu\n", f->programs.size());
        for (const auto& p : f->programs) {
            std::printf("    %-24s %-28s %-16s%s%s\n", p.name.c_str(), p.section.c_str(),
                        p.type.c_str(), p.expected_attach_type.empty() ? "" : " attach ",
                        p.expected_attach_type.c_str());
        }
        std::size_t shown = 0;
        for (const auto& m : f->maps) {
            shown += m.internal ? 0 : 1;
        }
        std::printf("  maps:     %zu\n", shown);
        for (const auto& m : f->maps) {
            if (m.internal) {
                continue;
            }
            std::printf("    %-24s %-20s key %u value %u max_entries %u%s\n", m.name.c_str(),
                        m.type.c_str(), m.key_size, m.value_size, m.max_entries,
                        m.max_entries == 0 ? "  (zero-sized: the loader sets it)" : "");
        }
    }
    for (const auto& m : art.missing) {
        std::printf("\n[%s] no program: %s\n", m.arch.empty() ? "any" : m.arch.c_str(),
                    m.reason.c_str());
    }
    for (const auto& n : art.notes) {
        std::printf("note: %s\n", n.c_str());
    }
}

Json to_inspect_json(
    const oci::ResolvedArtifact& art,
    const std::vector<std::pair<const oci::ResolvedObject*, Result<ObjectFacts>>>& facts) {
    Json j;
    j["schema"] = "bpfleet.inspect/v1";
    j["artifact"] = art.spec;
    j["kind"] = std::string(oci::to_string(art.kind));
    j["image_digest"] = art.image_digest;
    j["reference"] = art.reference;
    j["gadget"] = art.gadget ? gadget_json(*art.gadget) : Json(nullptr);
    Json objects = Json::array();
    for (const auto& [o, f] : facts) {
        Json jo;
        jo["arch"] = o->arch;
        jo["variant"] = o->variant;
        jo["name"] = o->name;
        jo["manifest_digest"] = o->manifest_digest;
        jo["layer_digest"] = o->layer_digest;
        jo["media_type"] = o->media_type;
        jo["sha256"] = o->object_sha256;
        jo["size"] = o->bytes->size();
        jo["btfgen"] = o->btfgen ? Json{{"digest", o->btfgen->digest}, {"size", o->btfgen->size}}
                                 : Json(nullptr);
        if (f) {
            jo["facts"] = *f;
            Json zero = Json::array();
            for (const auto& m : f->maps) {
                if (!m.internal && m.max_entries == 0) {
                    zero.push_back(m.name);
                }
            }
            jo["zero_sized_maps"] = zero;
        } else {
            jo["error"] = Json{{"code", f.error().code}, {"message", f.error().describe()}};
        }
        objects.push_back(std::move(jo));
    }
    j["objects"] = std::move(objects);
    Json missing = Json::array();
    for (const auto& m : art.missing) {
        missing.push_back(Json{{"arch", m.arch}, {"reason", m.reason}});
    }
    j["missing"] = std::move(missing);
    j["notes"] = art.notes;
    return j;
}

} // namespace

Action register_inspect(CLI::App& app) {
    auto opts = std::make_shared<InspectOptions>();
    auto* cmd = app.add_subcommand(
        "inspect", "Show the programs, maps, BTF and license of an artifact's objects per "
                   "architecture (opened with libbpf, never loaded)");
    cmd->add_option(
           "ARTIFACT", opts->artifact,
           "a .bpf.o, an OCI layout dir, a .tar/.tar.gz, oci:DIR[:TAG], oci-archive:FILE[:TAG], "
           "docker-archive:FILE, docker://HOST/REPO:TAG or HOST/REPO:TAG|@sha256:...")
        ->required();
    cmd->add_flag("--json", opts->json, "Print a bpfleet.inspect/v1 JSON document");
    cmd->add_flag("-v,--verbose", opts->verbose,
                  "-vv: libbpf's own messages while opening the objects, on stderr");
    add_artifact_options(cmd, opts->artifact_options, false);
    return [opts] {
        logging::init(logging::verbosity_of(false, opts->verbose));
        auto art =
            oci::resolve_artifact(opts->artifact, to_resolve_options(opts->artifact_options));
        if (!art) {
            print_error(art.error());
            return kExitUsage;
        }
        std::vector<std::pair<const oci::ResolvedObject*, Result<ObjectFacts>>> facts;
        bool all_ok = true;
        for (const auto& o : art->objects) {
            auto f = bpf::inspect_object(o.bytes, o.name);
            all_ok = all_ok && f.has_value();
            facts.emplace_back(&o, std::move(f));
        }
        if (opts->json) {
            std::printf("%s\n", to_inspect_json(*art, facts)
                                    .dump(2, ' ', false, Json::error_handler_t::replace)
                                    .c_str());
        } else {
            print_text(*art, facts);
        }
        return all_ok ? kExitOk : kExitUsage;
    };
}

} // namespace bpfleet::cli
