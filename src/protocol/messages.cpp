#include "protocol/messages.hpp"

#include "model/json_fields.hpp"

#include <array>
#include <utility>

namespace bpfleet::protocol {
namespace {

constexpr std::array<std::pair<MessageType, std::string_view>, 6> kTypes = {{
    {MessageType::Hello, "hello"},
    {MessageType::Probe, "probe"},
    {MessageType::Check, "check"},
    {MessageType::Btf, "btf"},
    {MessageType::Bye, "bye"},
    {MessageType::Error, "error"},
}};

// Nesting of each message: its own levels plus what it carries, plus room
// for members a newer peer adds within the protocol version (they are
// ignored, but a message must not be refused for them).
constexpr int kNewerPeerRoom = 4;
constexpr int kFlatDepth = 1 + kNewerPeerRoom;         // bye, error, probe request
constexpr int kHelloDepth = 2 + kNewerPeerRoom;        // hello.agent.version
constexpr int kCheckRequestDepth = 5 + kNewerPeerRoom; // check.options.fixups.maps.NAME
constexpr int kProbeReplyDepth = 1 + kMaxFactsDepth;   // probe.facts....
constexpr int kCheckReplyDepth = 1 + kMaxReportDepth;  // check.report....

// The message's reader, after its nesting and its type were checked.
JsonFields open_message(const Json& message, MessageType type, int max_depth) {
    const std::string name(to_string(type));
    JsonFields in = JsonFields::root(message, name);
    if (!in.ok()) {
        return in;
    }
    if (!json_depth_at_most(message, max_depth)) {
        in.fail("", "nested deeper than " + std::to_string(max_depth) + " levels");
        return in;
    }
    const std::string got = in.string("type", kMaxNameLength);
    if (in.ok() && got != name) {
        in.fail("type", "is '" + got + "', expected '" + name + "'");
    }
    return in;
}

bool is_sha256_hex(const std::string& s) {
    if (s.size() != 64) {
        return false;
    }
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

Json options_json(const CheckOptions& o) {
    Json j{{"load_only", o.load_only},
           {"fire", o.fire},
           {"timeout", o.timeout_seconds},
           {"log_cap", o.log_cap},
           {"fixups", o.fixups ? Json(*o.fixups) : Json(nullptr)}};
    // Only when used: a request without them reads the same to every agent.
    if (o.btf) {
        j["btf"] = *o.btf;
        j["force_btf"] = o.force_btf;
    }
    if (o.ignore_kernel_btf) {
        j["ignore_kernel_btf"] = true;
    }
    return j;
}

CheckOptions read_options(JsonFields in) {
    CheckOptions o;
    o.load_only = in.boolean("load_only");
    o.fire = in.boolean("fire");
    const auto timeout = in.integer("timeout");
    if (in.ok() && (timeout < 1 || timeout > 86400)) {
        in.fail("timeout", std::to_string(timeout) + " is outside 1..86400 seconds");
    }
    o.timeout_seconds = static_cast<unsigned>(timeout);
    o.log_cap = in.unsigned_integer("log_cap");
    if (in.ok() && (o.log_cap < 4096 || o.log_cap > (256u << 20))) {
        in.fail("log_cap", std::to_string(o.log_cap) + " is outside 4096..268435456 bytes");
    }
    if (in.ok() && !in.has("fixups")) {
        in.fail("fixups", "missing");
    } else if (in.ok() && !in.raw("fixups").is_null()) {
        auto rules = parse_fixup_rules_json(in.raw("fixups"), in.path() + ".fixups");
        if (rules) {
            o.fixups = std::move(*rules);
        } else {
            in.fail_with(rules.error());
        }
    }
    o.btf = in.optional_string("btf", kMaxNameLength);
    if (in.ok() && o.btf && !is_sha256_hex(*o.btf)) {
        in.fail("btf", "expected 64 lowercase hex digits");
    }
    o.force_btf = in.optional_boolean("force_btf").value_or(false);
    o.ignore_kernel_btf = in.optional_boolean("ignore_kernel_btf").value_or(false);
    return o;
}

} // namespace

std::string_view to_string(MessageType type) {
    for (const auto& [t, name] : kTypes) {
        if (t == type) {
            return name;
        }
    }
    return "error";
}

std::optional<MessageType> message_type(const Json& message) {
    if (!message.is_object()) {
        return std::nullopt;
    }
    auto it = message.find("type");
    if (it == message.end() || !it->is_string()) {
        return std::nullopt;
    }
    for (const auto& [t, name] : kTypes) {
        if (name == it->get_ref<const std::string&>()) {
            return t;
        }
    }
    return std::nullopt;
}

// ---- encoding -----------------------------------------------------------------

std::string encode(const Hello& m) {
    return encode(Json{{"type", "hello"},
                       {"protocol", m.protocol},
                       {"agent", Json{{"version", m.agent.version},
                                      {"libbpf", m.agent.libbpf_version},
                                      {"arch", m.agent.arch},
                                      {"build_id", m.build_id}}},
                       {"kernel", Json{{"release", m.kernel.release}, {"arch", m.kernel.arch}}},
                       {"capabilities", m.capabilities}});
}

std::string encode(const ControllerHello& m) {
    return encode(Json{{"type", "hello"}, {"protocol", m.protocol}});
}

std::string encode(const ProbeRequest& m) {
    return encode(Json{{"type", "probe"}, {"features", m.features}});
}

std::string encode(const ProbeReply& m) {
    return encode(Json{{"type", "probe"}, {"facts", m.facts}});
}

std::string encode(const CheckRequest& m) {
    return encode(Json{{"type", "check"},
                       {"id", m.id},
                       {"name", m.name},
                       {"size", m.size},
                       {"sha256", m.sha256},
                       {"options", options_json(m.options)}});
}

std::string encode(const CheckReply& m) {
    return encode(Json{{"type", "check"}, {"id", m.id}, {"report", m.report}});
}

std::string encode(const BtfUpload& m) {
    return encode(Json{{"type", "btf"}, {"name", m.name}, {"size", m.size}, {"sha256", m.sha256}});
}

std::string encode(const BtfReply& m) {
    return encode(Json{{"type", "btf"},
                       {"sha256", m.sha256},
                       {"error", m.error ? Json(*m.error) : Json(nullptr)}});
}

std::string encode(const Bye&) {
    return encode(Json{{"type", "bye"}});
}

std::string encode(const ErrorReply& m) {
    return encode(Json{
        {"type", "error"}, {"id", m.id ? Json(*m.id) : Json(nullptr)}, {"message", m.message}});
}

// ---- parsing ------------------------------------------------------------------

Result<Hello> parse_hello(const Json& message) {
    JsonFields in = open_message(message, MessageType::Hello, kHelloDepth);
    Hello m;
    m.protocol = static_cast<int>(in.integer("protocol"));
    JsonFields agent = in.object("agent");
    m.agent.version = agent.string("version", kMaxNameLength);
    m.agent.libbpf_version = agent.string("libbpf", kMaxNameLength);
    m.agent.arch = agent.string("arch", kMaxNameLength);
    m.build_id = agent.string("build_id", kMaxNameLength);
    JsonFields kernel = in.object("kernel");
    m.kernel.release = kernel.string("release", kMaxNameLength);
    m.kernel.arch = kernel.string("arch", kMaxNameLength);
    if (in.has("capabilities")) {
        m.capabilities = in.strings("capabilities", 64, kMaxNameLength);
    }
    return in.finish(std::move(m));
}

Result<ProbeRequest> parse_probe_request(const Json& message) {
    JsonFields in = open_message(message, MessageType::Probe, kFlatDepth);
    ProbeRequest m;
    m.features = in.optional_boolean("features").value_or(true);
    return in.finish(m);
}

Result<ProbeReply> parse_probe_reply(const Json& message) {
    JsonFields in = open_message(message, MessageType::Probe, kProbeReplyDepth);
    if (in.ok() && !in.has("facts")) {
        in.fail("facts", "missing");
    }
    TRY(in.finish(true));
    TRY_ASSIGN(auto facts, parse_host_facts(message.at("facts"), "probe.facts"));
    return ProbeReply{std::move(facts)};
}

Result<CheckRequest> parse_check_request(const Json& message) {
    JsonFields in = open_message(message, MessageType::Check, kCheckRequestDepth);
    CheckRequest m;
    m.id = in.unsigned_integer("id");
    m.name = in.string("name", kMaxNameLength);
    m.size = in.unsigned_integer("size");
    m.sha256 = in.string("sha256", kMaxNameLength);
    if (in.ok() && !is_sha256_hex(m.sha256)) {
        in.fail("sha256", "expected 64 lowercase hex digits");
    }
    m.options = read_options(in.object("options"));
    return in.finish(std::move(m));
}

Result<CheckReply> parse_check_reply(const Json& message) {
    JsonFields in = open_message(message, MessageType::Check, kCheckReplyDepth);
    CheckReply m;
    m.id = in.unsigned_integer("id");
    if (in.ok() && !in.has("report")) {
        in.fail("report", "missing");
    }
    TRY(in.finish(true));
    auto report = check_report_from_json(message.at("report"));
    if (!report) {
        return make_error("protocol", "check.report: " + report.error().message);
    }
    m.report = std::move(*report);
    return m;
}

Result<BtfUpload> parse_btf_upload(const Json& message) {
    JsonFields in = open_message(message, MessageType::Btf, kFlatDepth);
    BtfUpload m;
    m.name = in.string("name", kMaxNameLength);
    m.size = in.unsigned_integer("size");
    m.sha256 = in.string("sha256", kMaxNameLength);
    if (in.ok() && !is_sha256_hex(m.sha256)) {
        in.fail("sha256", "expected 64 lowercase hex digits");
    }
    return in.finish(std::move(m));
}

Result<BtfReply> parse_btf_reply(const Json& message) {
    JsonFields in = open_message(message, MessageType::Btf, kFlatDepth);
    BtfReply m;
    m.sha256 = in.string("sha256", kMaxNameLength);
    m.error = in.string_or_null("error", kMaxErrorMessage);
    return in.finish(std::move(m));
}

Result<Bye> parse_bye(const Json& message) {
    JsonFields in = open_message(message, MessageType::Bye, kFlatDepth);
    return in.finish(Bye{});
}

Result<ErrorReply> parse_error_reply(const Json& message) {
    JsonFields in = open_message(message, MessageType::Error, kFlatDepth);
    ErrorReply m;
    if (in.has("id") && !in.raw("id").is_null()) {
        m.id = in.unsigned_integer("id");
    }
    m.message = in.string("message", kMaxErrorMessage);
    return in.finish(std::move(m));
}

} // namespace bpfleet::protocol
