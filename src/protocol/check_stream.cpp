#include "protocol/check_stream.hpp"

#include "model/json_fields.hpp"

#include <limits>
#include <type_traits>

namespace bpfleet::protocol {
namespace {

// The whole stream of one check is bounded by the supervisor; one line by
// the same figure (a verifier log of up to --log-cap's 256 MiB).
constexpr std::size_t kMaxEventLine = 256u << 20;
constexpr std::size_t kMaxMessage = 64u << 10; // an error's message

// A part of the bpfleet.check/v1 model, read by the model's own validation.
template <typename T> T read_model(JsonFields& in, std::string_view key) {
    if (!in.ok()) {
        return T{};
    }
    if (!in.has(key)) {
        in.fail(key, "missing");
        return T{};
    }
    try {
        return in.raw(key).get<T>();
    } catch (const std::exception& e) {
        in.fail(key, e.what());
        return T{};
    }
}

Json event_json(const ObjectOpened& e) {
    return Json{{"type", "object"}, {"object", e.object}, {"fixups", e.fixups}};
}
Json event_json(const ProgramLoaded& e) {
    return Json{{"type", "load"}, {"index", e.index}, {"program", e.program}};
}
Json event_json(const ProgramAttached& e) {
    return Json{{"type", "attach"}, {"index", e.index}, {"attach", e.attach}, {"fire", e.fire}};
}
Json event_json(const ObjectFailed& e) {
    return Json{{"type", "object_error"},
                {"code", to_string(e.error.code)},
                {"errno", e.error.errnum},
                {"message", e.error.message}};
}
Json event_json(const SandboxFailed& e) {
    return Json{{"type", "sandbox_error"}, {"message", e.message}};
}
Json event_json(const CheckEnded&) {
    return Json{{"type", "end"}};
}

int read_errno(JsonFields& in) {
    const auto n = in.integer("errno");
    if (in.ok() && (n < 0 || n > std::numeric_limits<int>::max())) {
        in.fail("errno", std::to_string(n) + " is not an errno");
    }
    return static_cast<int>(n);
}

} // namespace

std::string encode(const CheckEvent& event) {
    return encode(std::visit([](const auto& e) { return event_json(e); }, event));
}

bool ends_stream(const CheckEvent& event) {
    return std::holds_alternative<ObjectFailed>(event) ||
           std::holds_alternative<SandboxFailed>(event) ||
           std::holds_alternative<CheckEnded>(event);
}

FrameReader check_event_reader() {
    return FrameReader(std::vector<std::string>{}, kMaxEventLine, 0);
}

Result<CheckEvent> parse_check_event(const Json& message) {
    JsonFields in = JsonFields::root(message, "check event");
    if (in.ok() && !json_depth_at_most(message, kMaxReportDepth)) {
        in.fail("", "nested deeper than " + std::to_string(kMaxReportDepth) + " levels");
    }
    const std::string type = in.string("type", kMaxFieldString);
    TRY(in.finish(true));
    // From here on the member paths start with the event's type ("load.index").
    in = JsonFields::root(message, type);
    CheckEvent event;
    if (type == "object") {
        ObjectOpened e;
        e.object = read_model<ObjectFacts>(in, "object");
        e.fixups = read_model<std::vector<Fixup>>(in, "fixups");
        event = std::move(e);
    } else if (type == "load") {
        ProgramLoaded e;
        e.index = in.unsigned_integer("index");
        e.program = read_model<ProgramResult>(in, "program");
        event = std::move(e);
    } else if (type == "attach") {
        ProgramAttached e;
        e.index = in.unsigned_integer("index");
        e.attach = read_model<StageResult>(in, "attach");
        e.fire = read_model<StageResult>(in, "fire");
        event = std::move(e);
    } else if (type == "object_error") {
        ObjectFailed e;
        const std::string code = in.string("code", kMaxFieldString);
        const auto parsed = failure_code_from_string(code);
        if (in.ok() && (!parsed || *parsed == FailureCode::None)) {
            in.fail("code", "unknown failure code '" + code + "'");
        }
        e.error.code = parsed.value_or(FailureCode::Unknown);
        e.error.errnum = read_errno(in);
        e.error.message = in.string("message", kMaxMessage);
        event = std::move(e);
    } else if (type == "sandbox_error") {
        event = SandboxFailed{in.string("message", kMaxMessage)};
    } else if (type == "end") {
        event = CheckEnded{};
    } else {
        return make_error("protocol",
                          "check event.type: unknown event '" + type.substr(0, 100) + "'");
    }
    return in.finish(std::move(event));
}

} // namespace bpfleet::protocol
