#include "fleet/agent_conversation.hpp"

#include "btf/btf_source.hpp"
#include "common/arch.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <variant>

namespace bpfleet::fleet {
namespace {

constexpr std::chrono::seconds kHelloTimeout{30};
constexpr std::chrono::seconds kProbeTimeout{60};

// What sudo says when it can't run the agent without a password.
bool sudo_refused(const std::string& err) {
    return err.find("sudo:") != std::string::npos &&
           (err.find("password") != std::string::npos || err.find("sudoers") != std::string::npos ||
            err.find("not allowed") != std::string::npos);
}

std::string first_line(const std::string& text, std::size_t max = 300) {
    std::string line = text.substr(0, text.find('\n'));
    return line.size() > max ? line.substr(0, max) + "..." : line;
}

class Conversation {
public:
    Conversation(AgentStream& stream, Deadline deadline) : m_stream(stream), m_deadline(deadline) {}

    // The next message, at most `max_bytes` long (a budget of
    // agent_conversation.hpp), within the host's budget of kMaxHostBytes.
    asio::awaitable<HostExpected<protocol::Frame>>
    receive(Deadline deadline, std::string_view waiting_for, std::size_t max_bytes) {
        deadline = std::min(deadline, m_deadline);
        std::vector<char> buf(65536);
        for (;;) {
            if (auto frame = m_reader.next()) {
                if (frame->size > max_bytes) {
                    co_return host_failure(HostStatus::AgentError, "run",
                                           "the agent's " + std::string(waiting_for) + " is " +
                                               std::to_string(frame->size) +
                                               " bytes, over its budget of " +
                                               std::to_string(max_bytes) + " bytes");
                }
                co_return std::move(*frame);
            }
            if (m_received > kMaxHostBytes) {
                co_return host_failure(HostStatus::AgentError, "run",
                                       "the agent sent more than " + std::to_string(kMaxHostBytes) +
                                           " bytes in all, over the per-host budget");
            }
            auto n = co_await m_stream.read_some(buf, deadline);
            if (!n) {
                HostFailure f = n.error();
                if (f.status == HostStatus::Timeout) {
                    f.message = "no " + std::string(waiting_for) + " from the agent in time (" +
                                std::to_string(m_received) + " bytes received so far)";
                }
                co_return tl::unexpected(f);
            }
            if (*n == 0) {
                co_return tl::unexpected(ended(waiting_for));
            }
            m_received += *n;
            if (auto fed = m_reader.feed(std::string_view(buf.data(), *n)); !fed) {
                co_return host_failure(HostStatus::AgentError, "run",
                                       "garbled reply from the agent after " +
                                           std::to_string(m_received) +
                                           " bytes: " + fed.error().message);
            }
        }
    }

    asio::awaitable<HostExpected<void>> send(std::string_view bytes) {
        co_return co_await m_stream.write(bytes, m_deadline);
    }

    // The stream ended while waiting for `what`.
    HostFailure ended(std::string_view waiting_for) const {
        const std::string err = m_stream.stderr_text();
        if (m_received == 0 && sudo_refused(err)) {
            return HostFailure{HostStatus::AuthFailed, "become",
                               "sudo -n could not run the agent: " + first_line(err) +
                                   " (become needs a NOPASSWD sudoers rule for the SSH user)",
                               false, false};
        }
        return HostFailure{HostStatus::AgentError, "run",
                           "the agent ended before its " + std::string(waiting_for) + " after " +
                               std::to_string(m_received) + " bytes" +
                               (err.empty() ? std::string() : ": " + first_line(err)),
                           false, false};
    }

    [[nodiscard]] std::size_t received() const { return m_received; }

private:
    AgentStream& m_stream;
    Deadline m_deadline;
    protocol::FrameReader m_reader{{}};
    std::size_t m_received = 0;
};

HostFailure invalid(std::string what) {
    return HostFailure{HostStatus::AgentError, "run", std::move(what), false, false};
}

// A reply of the expected type, read with its typed parser; an error reply
// or a reply that does not parse is an agent_error naming what was wrong.
template <typename Message, typename Parse>
HostExpected<Message> read_reply(const protocol::Frame& frame, protocol::MessageType expected,
                                 Parse parse, std::string_view what) {
    const auto type = protocol::message_type(frame.message);
    if (type == protocol::MessageType::Error && expected != protocol::MessageType::Error) {
        auto error = protocol::parse_error_reply(frame.message);
        return tl::unexpected(invalid(
            "the agent answered the " + std::string(what) +
            " with an error: " + first_line(error ? error->message : error.error().message)));
    }
    if (type != expected) {
        return tl::unexpected(
            invalid("the agent answered the " + std::string(what) + " with '" +
                    first_line(frame.message.value("type", std::string("?")), 100) + "'"));
    }
    auto message = parse(frame.message);
    if (!message) {
        return tl::unexpected(invalid("invalid " + std::string(what) +
                                      " reply from the agent: " + message.error().message));
    }
    return std::move(*message);
}

// The agent's hello: the protocol version first (an agent of another version
// may shape the rest differently), then the whole message.
HostExpected<protocol::Hello> read_hello(const protocol::Frame& frame) {
    const Json& m = frame.message;
    const auto version = m.find("protocol");
    if (protocol::message_type(m) != protocol::MessageType::Hello || version == m.end() ||
        *version != protocol::kVersion) {
        return tl::unexpected(invalid("the agent did not say hello with protocol " +
                                      std::to_string(protocol::kVersion) + ": " +
                                      m.dump().substr(0, 200)));
    }
    auto hello = protocol::parse_hello(m);
    if (!hello) {
        return tl::unexpected(invalid("invalid hello from the agent: " + hello.error().message));
    }
    return std::move(*hello);
}

// The agent keeps at most the log cap of each verifier log (never less than
// 16 KiB, its first attempt's buffer); a longer one is an agent that does not
// keep the budget it was given.
std::optional<std::string> log_over_cap(const CheckReport& report, std::uint64_t log_cap) {
    const std::uint64_t cap = std::max<std::uint64_t>(log_cap, 16 << 10) + 1;
    for (const auto& p : report.programs) {
        if (p.load.log && p.load.log->text.size() > cap) {
            return "the verifier log of program '" + first_line(p.name, 100) + "' is " +
                   std::to_string(p.load.log->text.size()) + " bytes, over the log cap of " +
                   std::to_string(cap) + " bytes";
        }
    }
    return std::nullopt;
}

// The report of an object not checked because its host's external BTF
// could not be used.
CheckReport btf_refused(const protocol::Hello& hello, const std::string& why) {
    CheckReport r;
    r.agent = hello.agent;
    r.kernel = hello.kernel;
    r.btf = BtfUsed{"none", "", ""};
    r.object_error = ObjectError{FailureCode::MissingKernelBtf, 0, why};
    return r;
}

// One object to check: what goes out for it and the result it fills.
struct PlannedCheck {
    ObjectCheck check; // without its report
    std::string request;
    std::string_view object;
};

// The requests for a host of `machine`: every object of every artifact it
// takes, numbered from 1 in the order sent; `unsupported` says why an
// artifact has none for it.
std::vector<PlannedCheck> plan_checks(const CheckPlan& plan, const std::string& machine,
                                      std::string& unsupported) {
    std::vector<PlannedCheck> out;
    if (plan.artifacts == nullptr) {
        return out;
    }
    for (const auto& input : *plan.artifacts) {
        auto objects = input.artifact.objects_for_machine(machine);
        if (!objects) {
            unsupported += (unsupported.empty() ? "" : "; ") + objects.error().message;
            continue;
        }
        for (const oci::ResolvedObject* o : *objects) {
            PlannedCheck p;
            p.check.artifact = input.spec;
            p.check.object = o->name;
            p.check.arch = o->arch;
            p.check.image_digest = input.artifact.image_digest;
            p.check.manifest_digest = o->manifest_digest;
            p.check.object_sha256 = o->object_sha256;
            // The header line, then the object's bytes straight from the
            // shared artifact: no per-host copy of the object.
            p.request = protocol::encode(protocol::CheckRequest{
                out.size() + 1, o->name, o->bytes->size(), o->object_sha256, plan.options});
            p.object =
                std::string_view(reinterpret_cast<const char*>(o->bytes->data()), o->bytes->size());
            out.push_back(std::move(p));
        }
    }
    return out;
}

// Everything the controller has to say, without waiting for an answer:
// its hello and the probe (one write), every check, bye.
asio::awaitable<HostExpected<void>> send_opening(Conversation& talk, const CheckPlan& plan) {
    const std::string opening = protocol::encode(protocol::ControllerHello{}) +
                                protocol::encode(protocol::ProbeRequest{plan.probe_features});
    co_return co_await talk.send(opening);
}

// External BTF for a host (docs/btf.md): the upload to send, or why the
// host's objects are not checked.
struct BtfStep {
    bool opened = false; // the opening was sent and answered before the rest
    std::optional<btf::BtfFile> file;
    std::string upload; // the btf message's line
    std::optional<std::string> refusal;
};

asio::awaitable<HostExpected<void>> send_all(Conversation& talk, const CheckPlan& plan,
                                             const std::vector<PlannedCheck>& checks,
                                             const BtfStep& btf) {
    if (!btf.opened) {
        CO_TRY(co_await send_opening(talk, plan));
    }
    if (btf.file) {
        CO_TRY(co_await talk.send(btf.upload));
        CO_TRY(co_await talk.send(std::string_view(
            reinterpret_cast<const char*>(btf.file->bytes->data()), btf.file->bytes->size())));
    }
    for (const PlannedCheck& p : checks) {
        CO_TRY(co_await talk.send(p.request));
        CO_TRY(co_await talk.send(p.object));
    }
    const std::string bye = protocol::encode(protocol::Bye{});
    co_return co_await talk.send(bye);
}

// The agent's answers, in the order of the requests: hello, probe, one
// check reply per request, bye.
asio::awaitable<HostExpected<protocol::Hello>> receive_hello(Conversation& talk,
                                                             const std::string& machine) {
    const std::string_view hello_text = "hello";
    CO_TRY_ASSIGN(auto hello_frame,
                  co_await talk.receive(Clock::now() + kHelloTimeout, hello_text, kMaxHelloBytes));
    auto hello = read_hello(hello_frame);
    if (!hello) {
        co_return tl::unexpected(hello.error());
    }
    if (hello->kernel.arch != machine) {
        co_return tl::unexpected(invalid("the host said uname -m = " + machine +
                                         " but the agent runs on " + hello->kernel.arch));
    }
    co_return std::move(*hello);
}

asio::awaitable<HostExpected<void>> receive_probe(Conversation& talk, HostResult& host) {
    const std::string_view probe_text = "probe reply";
    CO_TRY_ASSIGN(auto probe_frame,
                  co_await talk.receive(Clock::now() + kProbeTimeout, probe_text, kMaxFactsBytes));
    auto probe = read_reply<protocol::ProbeReply>(probe_frame, protocol::MessageType::Probe,
                                                  protocol::parse_probe_reply, "probe");
    if (!probe) {
        co_return tl::unexpected(probe.error());
    }
    host.facts = std::move(probe->facts);
    co_return HostExpected<void>{};
}

// The agent's hello, then its probe reply; `hello_seen` is ended once the
// hello is in (a cold host's requests wait for it).
asio::awaitable<HostExpected<protocol::Hello>> receive_opening(Conversation& talk, HostResult& host,
                                                               const std::string& machine,
                                                               asio::steady_timer* hello_seen) {
    CO_TRY_ASSIGN(auto hello, co_await receive_hello(talk, machine));
    if (hello_seen != nullptr) {
        hello_seen->cancel();
    }
    CO_TRY(co_await receive_probe(talk, host));
    co_return std::move(hello);
}

asio::awaitable<HostExpected<void>> receive_all(Conversation& talk, const CheckPlan& plan,
                                                std::vector<PlannedCheck>& checks, HostResult& host,
                                                const std::string& machine, BtfStep& btf,
                                                asio::steady_timer& hello_seen) {
    if (!btf.opened) {
        CO_TRY(co_await receive_opening(talk, host, machine, &hello_seen));
    }
    if (btf.file) {
        const std::string_view btf_text = "btf reply";
        CO_TRY_ASSIGN(auto btf_frame, co_await talk.receive(Clock::now() + kProbeTimeout, btf_text,
                                                            kMaxHelloBytes));
        auto kept = read_reply<protocol::BtfReply>(btf_frame, protocol::MessageType::Btf,
                                                   protocol::parse_btf_reply, "btf");
        if (!kept) {
            co_return tl::unexpected(kept.error());
        }
        if (kept->error) {
            btf.refusal = "external BTF: the agent refused " + btf.file->name + ": " +
                          first_line(*kept->error);
        }
    }
    std::uint64_t id = 0;
    for (PlannedCheck& p : checks) {
        ++id;
        // Each reply has its own time from the previous one: the agent
        // checks the objects in turn.
        const std::string_view report_text = "check report";
        CO_TRY_ASSIGN(auto reply_frame,
                      co_await talk.receive(
                          Clock::now() + std::chrono::seconds(plan.options.timeout_seconds + 60),
                          report_text, kMaxCheckReplyBytes));
        auto reply = read_reply<protocol::CheckReply>(reply_frame, protocol::MessageType::Check,
                                                      protocol::parse_check_reply, "check");
        if (!reply) {
            co_return tl::unexpected(reply.error());
        }
        if (reply->id != id) {
            co_return tl::unexpected(invalid("invalid check reply from the agent: it answers "
                                             "request " +
                                             std::to_string(reply->id) + ", not " +
                                             std::to_string(id)));
        }
        p.check.report = std::move(reply->report);
        if (btf.refusal && p.check.report.object_error) {
            // The agent could not find the BTF the request named: say why.
            p.check.report.object_error->message = *btf.refusal;
        }
        if (auto over = log_over_cap(p.check.report, plan.options.log_cap)) {
            co_return tl::unexpected(invalid(*over));
        }
        host.checks.push_back(std::move(p.check));
    }
    // A polite end; its answer is not needed (the channel's end ends serve too).
    const std::string_view bye_text = "bye";
    (void)co_await talk.receive(Clock::now() + std::chrono::seconds(5), bye_text, kMaxHelloBytes);
    co_return HostExpected<void>{};
}

} // namespace

asio::awaitable<HostExpected<void>> converse(AgentStream& stream, const CheckPlan& plan,
                                             HostResult& host, Deadline deadline,
                                             std::string machine, bool after_hello) {
    using namespace asio::experimental::awaitable_operators;
    if (machine.empty()) {
        machine = machine_arch();
    }
    std::string unsupported;
    std::vector<PlannedCheck> checks = plan_checks(plan, machine, unsupported);
    const bool has_objects = !checks.empty();
    Conversation talk(stream, deadline);
    // External BTF depends on the host's facts: then the opening is answered
    // before anything else goes out, and the rest is pipelined after it.
    BtfStep btf;
    if (!plan.external_btf.empty() && has_objects) {
        // A cold host's agent says hello before anything may be sent to it.
        std::optional<protocol::Hello> early;
        if (after_hello) {
            CO_TRY_ASSIGN(early, co_await receive_hello(talk, machine));
        }
        CO_TRY(co_await send_opening(talk, plan));
        if (!early) {
            CO_TRY_ASSIGN(early, co_await receive_hello(talk, machine));
        }
        const protocol::Hello& hello = *early;
        CO_TRY(co_await receive_probe(talk, host));
        btf.opened = true;
        const protocol::CheckOptions& o = plan.options;
        if (!host.facts->btf.vmlinux || o.force_btf || o.ignore_kernel_btf) {
            auto file = btf::pick_btf(plan.external_btf, *host.facts);
            if (!file) {
                btf.refusal = "external BTF: " + file.error().message;
            } else if (std::find(hello.capabilities.begin(), hello.capabilities.end(), "btf") ==
                       hello.capabilities.end()) {
                btf.refusal = "external BTF: this agent predates it (no \"btf\" capability)";
            } else {
                btf.upload = protocol::encode(
                    protocol::BtfUpload{file->name, file->bytes->size(), file->sha256});
                CheckPlan with = plan;
                with.options.btf = file->sha256;
                std::string ignored;
                checks = plan_checks(with, machine, ignored);
                btf.file = std::move(*file);
            }
        }
        if (btf.refusal) {
            // Nothing is sent, nothing loaded against a wrong BTF or none.
            for (PlannedCheck& p : checks) {
                p.check.report = btf_refused(hello, *btf.refusal);
                p.check.report.object.name = p.check.object;
                p.check.report.object.sha256 = p.check.object_sha256;
                host.checks.push_back(std::move(p.check));
            }
            checks.clear();
        }
    }
    // The requests go out while the answers come in: the two must run at
    // once, since an agent whose output nobody reads stops reading its input
    // once the SSH windows (or pipes) between them are full.
    std::optional<HostFailure> send_failure;
    asio::steady_timer hello_seen(co_await asio::this_coro::executor, deadline);
    auto sender = [&]() -> asio::awaitable<void> {
        if (after_hello && !btf.opened) {
            // Ended by the receiver once the agent said hello (or by the deadline).
            (void)co_await hello_seen.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        auto sent = co_await send_all(talk, plan, checks, btf);
        if (!sent) {
            send_failure = sent.error();
            if (sent.error().status != HostStatus::AgentError) {
                co_return; // the connection, the deadline or a cancel: nothing more will come
            }
        }
        // Every request is out (or the agent stopped taking them, and its
        // answers or its end say why): the receiver decides.
        asio::steady_timer park(co_await asio::this_coro::executor, deadline);
        (void)co_await park.async_wait(asio::as_tuple(asio::use_awaitable));
    };
    auto received =
        co_await (receive_all(talk, plan, checks, host, machine, btf, hello_seen) || sender());
    if (received.index() == 1) {
        co_return tl::unexpected(send_failure ? *send_failure
                                              : HostFailure{HostStatus::Timeout, "run",
                                                            "no answer from the agent in time",
                                                            false, false});
    }
    if (auto& result = std::get<0>(received); !result) {
        co_return tl::unexpected(result.error());
    }
    if (plan.artifacts != nullptr && !plan.artifacts->empty() && !has_objects) {
        co_return tl::unexpected(
            HostFailure{HostStatus::UnsupportedArch, "run", unsupported, false, false});
    }
    co_return HostExpected<void>{};
}

} // namespace bpfleet::fleet
