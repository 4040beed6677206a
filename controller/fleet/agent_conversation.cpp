#include "fleet/agent_conversation.hpp"

#include <algorithm>
#include <array>

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

    asio::awaitable<HostExpected<protocol::Frame>> receive(Deadline deadline,
                                                           std::string_view waiting_for) {
        deadline = std::min(deadline, m_deadline);
        std::vector<char> buf(65536);
        for (;;) {
            if (auto frame = m_reader.next()) {
                co_return std::move(*frame);
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

} // namespace

asio::awaitable<HostExpected<void>> converse(AgentStream& stream, const CheckPlan& plan,
                                             HostResult& host, Deadline deadline,
                                             std::string expected_arch) {
    Conversation talk(stream, deadline);
    const std::string_view hello_text = "hello";
    auto hello = co_await talk.receive(Clock::now() + kHelloTimeout, hello_text);
    if (!hello) {
        co_return tl::unexpected(hello.error());
    }
    std::string machine;
    try {
        const Json& m = hello->message;
        if (m.at("type") != "hello" || m.at("protocol") != protocol::kVersion) {
            co_return tl::unexpected(invalid("the agent did not say hello with protocol " +
                                             std::to_string(protocol::kVersion) + ": " +
                                             m.dump().substr(0, 200)));
        }
        machine = m.at("kernel").at("arch").get<std::string>();
    } catch (const std::exception& e) {
        co_return tl::unexpected(invalid(std::string("invalid hello from the agent: ") + e.what()));
    }
    if (!expected_arch.empty() && machine != expected_arch) {
        co_return tl::unexpected(invalid("the host said uname -m = " + expected_arch +
                                         " but the agent runs on " + machine));
    }

    const std::string probe_request =
        protocol::encode(Json{{"type", "probe"}, {"features", plan.probe_features}});
    if (auto sent = co_await talk.send(probe_request); !sent) {
        co_return tl::unexpected(sent.error());
    }
    const std::string_view probe_text = "probe reply";
    auto probe = co_await talk.receive(Clock::now() + kProbeTimeout, probe_text);
    if (!probe) {
        co_return tl::unexpected(probe.error());
    }
    if (probe->message.value("type", "") != "probe" || !probe->message.contains("facts") ||
        !probe->message["facts"].is_object()) {
        co_return tl::unexpected(invalid("the agent answered a probe with '" +
                                         probe->message.value("type", std::string("?")) + "'"));
    }
    host.facts = std::move(probe->message["facts"]);

    if (plan.artifacts == nullptr || plan.artifacts->empty()) {
        // bpfleet probe: the facts are the answer.
        const std::string bye = protocol::encode(Json{{"type", "bye"}});
        (void)co_await talk.send(bye);
        co_return HostExpected<void>{};
    }
    std::uint64_t id = 0;
    bool any_object = false;
    std::string unsupported;
    for (const auto& input : *plan.artifacts) {
        auto objects = input.artifact.objects_for_machine(machine);
        if (!objects) {
            unsupported += (unsupported.empty() ? "" : "; ") + objects.error().message;
            continue;
        }
        for (const oci::ResolvedObject* o : *objects) {
            any_object = true;
            ObjectCheck check;
            check.artifact = input.spec;
            check.object = o->name;
            check.arch = o->arch;
            check.image_digest = input.artifact.image_digest;
            check.manifest_digest = o->manifest_digest;
            check.object_sha256 = o->object_sha256;
            // The header line, then the object's bytes straight from the shared
            // artifact: no per-host copy of the object.
            const std::string request = protocol::encode(protocol::check_request(
                ++id, o->name, o->bytes->size(), o->object_sha256, plan.options));
            const std::string_view object(reinterpret_cast<const char*>(o->bytes->data()),
                                          o->bytes->size());
            if (auto sent = co_await talk.send(request); !sent) {
                co_return tl::unexpected(sent.error());
            }
            if (auto sent = co_await talk.send(object); !sent) {
                co_return tl::unexpected(sent.error());
            }
            const std::string_view report_text = "check report";
            auto reply = co_await talk.receive(
                Clock::now() + std::chrono::seconds(plan.options.timeout_seconds + 60),
                report_text);
            if (!reply) {
                co_return tl::unexpected(reply.error());
            }
            try {
                if (reply->message.at("type").get<std::string>() != "check" ||
                    reply->message.at("id").get<std::uint64_t>() != id) {
                    throw std::invalid_argument("unexpected reply '" +
                                                reply->message.dump().substr(0, 200) + "'");
                }
                check.report = reply->message.at("report").get<CheckReport>();
            } catch (const std::exception& e) {
                co_return tl::unexpected(
                    invalid(std::string("invalid check reply from the agent: ") + e.what()));
            }
            host.checks.push_back(std::move(check));
        }
    }
    // A polite end; the answer is not needed (closing the channel ends serve too).
    const std::string bye = protocol::encode(Json{{"type", "bye"}});
    if (auto sent = co_await talk.send(bye); sent) {
        const std::string_view bye_text = "bye";
        (void)co_await talk.receive(Clock::now() + std::chrono::seconds(5), bye_text);
    }
    if (!any_object) {
        HostFailure f{HostStatus::UnsupportedArch, "run", unsupported, false, false};
        co_return tl::unexpected(f);
    }
    co_return HostExpected<void>{};
}

} // namespace bpfleet::fleet
