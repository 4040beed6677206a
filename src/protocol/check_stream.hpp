// The agent's inner stream: from its disposable check process to the
// supervisor that assembles the report (agent/check_runner.cpp). JSON lines
// framed by the same FrameReader as the wire and tagged by "type" like it; one
// message per event of a check, sent the moment it is known, so that a check
// process that dies or hangs still leaves every earlier result behind:
//
//   object         the object opened: its facts and the fixups applied
//   load           one program's load stage ("index" into object.programs)
//   attach         one program's attach and fire stages
//   object_error   the object could not be checked; the stream ends
//   sandbox_error  the sandbox could not be set up; the stream ends
//   end            every program reported; the stream ends
//
// `encode()` gives one line; `parse_check_event()` reads a frame's message:
// the type, every member's presence and type (the model's parts by the
// bpfleet.check/v1 model), sizes and nesting; errors name the member (code
// "protocol"). Whether an index names a program is the supervisor's to check.
#pragma once

#include "common/result.hpp"
#include "model/check_result.hpp"
#include "protocol/protocol.hpp"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace bpfleet::protocol {

struct ObjectOpened {
    ObjectFacts object;
    std::vector<Fixup> fixups;
};

struct ProgramLoaded {
    std::uint64_t index = 0;
    ProgramResult program;
};

struct ProgramAttached {
    std::uint64_t index = 0;
    StageResult attach;
    StageResult fire;
};

struct ObjectFailed {
    ObjectError error;
};

struct SandboxFailed {
    std::string message;
};

struct CheckEnded {};

using CheckEvent = std::variant<ObjectOpened, ProgramLoaded, ProgramAttached, ObjectFailed,
                                SandboxFailed, CheckEnded>;

std::string encode(const CheckEvent& event);
Result<CheckEvent> parse_check_event(const Json& message);

// True for the events after which nothing more comes.
bool ends_stream(const CheckEvent& event);

// A reader for this stream: no payloads; a line holds at most one program's
// results (its verifier log is capped by --log-cap, at most 256 MiB).
FrameReader check_event_reader();

} // namespace bpfleet::protocol
