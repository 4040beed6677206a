// `bpfleet-agent serve`: the agent end of the controller protocol
// (docs/protocol.md) on stdin/stdout, for the whole run of one host. Requests
// are read with the typed parsers of protocol/messages.hpp; a request that
// does not parse is answered (an error reply, or a check report whose error
// says what was wrong), never acted on.

#include "bpf/external_btf.hpp"
#include "bpf/fixups.hpp"
#include "check_runner.hpp"
#include "commands.hpp"
#include "common/fd.hpp"
#include "common/sha256.hpp"
#include "identity.hpp"
#include "input.hpp"
#include "output.hpp"
#include "probe.hpp"
#include "protocol/messages.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sys/mman.h>
#include <unistd.h>

namespace bpfleet::agent {
namespace {

template <typename Message> void reply(const Message& message) {
    write_stdout(protocol::encode(message));
}

// External BTF the controller sent in this conversation, by sha256. Held in
// memory files (memfd): libbpf reads them by /proc/self/fd path, the check
// process inherits them, and nothing is left on the host.
struct KeptBtf {
    Fd fd;
    std::string name;
};
std::map<std::string, KeptBtf>& kept_btf() {
    static std::map<std::string, KeptBtf> kept;
    return kept;
}

// At most this many different files per conversation: a host has one kernel.
constexpr std::size_t kMaxKeptBtf = 4;

protocol::BtfReply handle_btf(const protocol::Frame& frame) {
    protocol::BtfReply out;
    auto upload = protocol::parse_btf_upload(frame.message);
    if (!upload) {
        out.error = "bad btf message: " + upload.error().message;
        return out;
    }
    out.sha256 = upload->sha256;
    const std::string got = Sha256::hex_of(frame.payload);
    if (got != upload->sha256) {
        out.error =
            "the BTF arrived damaged: sha256 " + got + ", the controller sent " + upload->sha256;
        return out;
    }
    if (kept_btf().contains(got)) {
        return out;
    }
    if (kept_btf().size() >= kMaxKeptBtf) {
        out.error = "more than " + std::to_string(kMaxKeptBtf) + " BTF files in one conversation";
        return out;
    }
    auto facts = bpf::inspect_external_btf(frame.payload, upload->name);
    if (!facts) {
        out.error = facts.error().message;
        return out;
    }
    const std::string arch = kernel_info().arch;
    if (!facts->arch.empty() && facts->arch != arch) {
        out.error =
            upload->name + ": BTF of an " + facts->arch + " kernel, but the host is " + arch;
        return out;
    }
    Fd fd(memfd_create("bpfleet-btf", MFD_CLOEXEC));
    if (!fd) {
        out.error = std::string("memfd_create: ") + std::strerror(errno);
        return out;
    }
    std::size_t done = 0;
    while (done < frame.payload.size()) {
        const ssize_t n = write(fd.get(), frame.payload.data() + done, frame.payload.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            out.error = std::string("keeping the BTF: ") + std::strerror(errno);
            return out;
        }
        done += static_cast<std::size_t>(n);
    }
    kept_btf().emplace(got, KeptBtf{std::move(fd), upload->name});
    return out;
}

// The reply to a check request: always a report for the request's id, with
// the reason in its error when the object could not be checked.
protocol::CheckReply handle_check(const protocol::Frame& frame) {
    protocol::CheckReply out;
    CheckReport& report = out.report;
    report.agent = agent_info();
    report.kernel = kernel_info();
    report.object.name = "object";
    report.object.size = frame.payload.size();
    // The id first, so that even a request that does not parse is answered
    // under the id the controller waits for.
    if (auto id = frame.message.find("id"); id != frame.message.end() && id->is_number_unsigned()) {
        out.id = id->get<std::uint64_t>();
    }
    auto request = protocol::parse_check_request(frame.message);
    if (!request) {
        report.object_error =
            ObjectError{FailureCode::Unknown, 0, "bad check request: " + request.error().message};
        return out;
    }
    report.object.name = request->name;
    const std::string got = Sha256::hex_of(frame.payload);
    if (request->sha256 != got) {
        report.object_error = ObjectError{FailureCode::ObjectInvalid, 0,
                                          "the object arrived damaged: sha256 " + got +
                                              ", the controller sent " + request->sha256};
        return out;
    }
    const protocol::CheckOptions& options = request->options;
    CheckRunOptions run;
    run.name = report.object.name;
    run.log_cap = options.log_cap;
    run.load_only = options.load_only;
    run.fire = options.fire;
    run.timeout_seconds = options.timeout_seconds;
    run.hangup_fd = STDIN_FILENO;
    run.ignore_kernel_btf = options.ignore_kernel_btf;
    run.force_external_btf = options.force_btf;
    if (options.btf) {
        auto kept = kept_btf().find(*options.btf);
        if (kept == kept_btf().end()) {
            report.object_error =
                ObjectError{FailureCode::MissingKernelBtf, 0,
                            "the controller named BTF " + *options.btf + " that it did not send"};
            return out;
        }
        run.external_btf = "/proc/self/fd/" + std::to_string(kept->second.fd.get());
        run.external_btf_name = kept->second.name;
    }
    if (options.fixups) {
        // Checked by the controller; this libbpf may still not know a type.
        if (auto known = bpf::check_fixup_rules(*options.fixups); !known) {
            report.object_error =
                ObjectError{FailureCode::LoaderContract, 0, known.error().describe()};
            return out;
        }
        run.rules = *options.fixups;
    }
    auto bytes = std::make_shared<const std::vector<std::uint8_t>>(frame.payload);
    if (auto parsed = parse_in_child(bytes, run.name, 10); !parsed) {
        report.object_error = ObjectError{FailureCode::ObjectInvalid, 0, parsed.error().message};
    } else {
        run_check_supervised(bytes, run, report);
    }
    return out;
}

protocol::Hello hello() {
    protocol::Hello h;
    h.agent = agent_info();
    h.build_id = build_id();
    h.kernel = kernel_info();
    h.capabilities = {"btf"};
    return h;
}

// Answers one request; false when the conversation is over.
bool handle(const protocol::Frame& frame) {
    const auto type = protocol::message_type(frame.message);
    if (!type) {
        reply(protocol::ErrorReply{std::nullopt, "unknown message type '" +
                                                     frame.message.at("type").get<std::string>() +
                                                     "'"});
        return true;
    }
    switch (*type) {
    case protocol::MessageType::Hello:
        return true; // the controller's hello: our own was sent first
    case protocol::MessageType::Probe:
        if (auto request = protocol::parse_probe_request(frame.message); !request) {
            reply(protocol::ErrorReply{std::nullopt, request.error().message});
        } else {
            reply(protocol::ProbeReply{probe_host(request->features)});
        }
        return true;
    case protocol::MessageType::Check:
        reply(handle_check(frame));
        return true;
    case protocol::MessageType::Btf:
        reply(handle_btf(frame));
        return true;
    case protocol::MessageType::Bye:
        reply(protocol::Bye{});
        return false;
    case protocol::MessageType::Error:
        break;
    }
    reply(protocol::ErrorReply{std::nullopt, "unexpected message type 'error'"});
    return true;
}

constexpr std::string_view kServeUsage =
    "usage: bpfleet-agent serve\n"
    "\n"
    "Speaks the controller protocol on stdin/stdout (docs/protocol.md): one hello,\n"
    "then a reply to each probe, check and bye. bpfleet run starts it on each host;\n"
    "a person has no need to.\n"
    "\n"
    "exit status: 0 the controller said bye or hung up, 2 a broken stream or usage\n";

} // namespace

int run_serve(std::span<char*> args) {
    if (auto done = help_or_refuse("serve", args, kServeUsage)) {
        return *done;
    }
    reply(hello());
    protocol::FrameReader reader({"check", "btf"});
    char buf[65536];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return kExitOk; // the controller closed the channel
        }
        if (auto fed = reader.feed(std::string_view(buf, static_cast<std::size_t>(n))); !fed) {
            reply(protocol::ErrorReply{std::nullopt, fed.error().message});
            return kExitUsage;
        }
        while (auto frame = reader.next()) {
            if (!handle(*frame)) {
                return kExitOk;
            }
        }
    }
}

} // namespace bpfleet::agent
