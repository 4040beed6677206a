// `bpfleet-agent serve`: the agent end of the controller protocol
// (docs/protocol.md) on stdin/stdout, for the whole run of one host.

#include "bpf/fixups.hpp"
#include "check_runner.hpp"
#include "commands.hpp"
#include "common/sha256.hpp"
#include "identity.hpp"
#include "input.hpp"
#include "output.hpp"
#include "probe.hpp"
#include "protocol/protocol.hpp"

#include <cerrno>
#include <cstdio>
#include <unistd.h>

namespace bpfleet::agent {
namespace {

void reply(const Json& message) {
    write_stdout(protocol::encode(message));
}

void reply_error(const std::string& message, const Json& id = nullptr) {
    reply(Json{{"type", "error"}, {"id", id}, {"message", message}});
}

Json handle_check(const protocol::Frame& frame) {
    const Json& m = frame.message;
    const Json id = m.value("id", Json(nullptr));
    CheckReport report;
    report.agent = agent_info();
    report.kernel = kernel_info();
    report.object.name = m.value("name", std::string("object"));
    report.object.size = frame.payload.size();
    const std::string want = m.value("sha256", std::string());
    const std::string got = Sha256::hex_of(frame.payload);
    if (want != got) {
        report.object_error = ObjectError{FailureCode::ObjectInvalid, 0,
                                          "the object arrived damaged: sha256 " + got +
                                              ", the controller sent " + want};
        return Json{{"type", "check"}, {"id", id}, {"report", report}};
    }
    protocol::CheckOptions options;
    try {
        options = m.value("options", Json::object()).get<protocol::CheckOptions>();
    } catch (const std::exception& e) {
        report.object_error =
            ObjectError{FailureCode::Unknown, 0, std::string("bad check options: ") + e.what()};
        return Json{{"type", "check"}, {"id", id}, {"report", report}};
    }
    CheckRunOptions run;
    run.name = report.object.name;
    run.log_cap = options.log_cap;
    run.load_only = options.load_only;
    run.fire = options.fire;
    run.timeout_seconds = options.timeout_seconds;
    if (!options.fixups_toml.empty()) {
        auto rules = bpf::parse_fixup_rules(options.fixups_toml, "fixups");
        if (!rules) {
            report.object_error =
                ObjectError{FailureCode::LoaderContract, 0, rules.error().describe()};
            return Json{{"type", "check"}, {"id", id}, {"report", report}};
        }
        run.rules = std::move(*rules);
    }
    auto bytes = std::make_shared<const std::vector<std::uint8_t>>(frame.payload);
    if (auto parsed = parse_in_child(bytes, run.name, 10); !parsed) {
        report.object_error = ObjectError{FailureCode::ObjectInvalid, 0, parsed.error().message};
    } else {
        run_check_supervised(bytes, run, report);
    }
    return Json{{"type", "check"}, {"id", id}, {"report", report}};
}

} // namespace

int run_serve(std::span<char*> args) {
    if (!args.empty()) {
        log_error("serve takes no options");
        return kExitUsage;
    }
    reply(Json{{"type", "hello"},
               {"protocol", protocol::kVersion},
               {"agent", Json{{"version", agent_info().version},
                              {"libbpf", agent_info().libbpf_version},
                              {"arch", agent_info().arch},
                              {"build_id", build_id()}}},
               {"kernel", Json{{"release", kernel_info().release}, {"arch", kernel_info().arch}}}});
    protocol::FrameReader reader;
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
            reply_error(fed.error().message);
            return kExitUsage;
        }
        while (auto frame = reader.next()) {
            const std::string type = frame->message["type"].get<std::string>();
            if (type == "hello") {
                continue; // the controller's hello: our own was sent first
            }
            if (type == "probe") {
                const Json& want =
                    frame->message.contains("features") ? frame->message["features"] : Json(true);
                reply(Json{{"type", "probe"},
                           {"facts", probe_host(!want.is_boolean() || want.get<bool>())}});
            } else if (type == "check") {
                reply(handle_check(*frame));
            } else if (type == "bye") {
                reply(Json{{"type", "bye"}});
                return kExitOk;
            } else {
                reply_error("unknown message type '" + type + "'");
            }
        }
    }
}

} // namespace bpfleet::agent
