// The messages of the controller <-> agent protocol (docs/protocol.md) as C++
// types, used by both ends: the agent's `serve` builds and reads them, the
// controller's conversation does the same from the other side.
//
//   controller -> agent          agent -> controller
//                                Hello        first, unprompted
//   ProbeRequest                 ProbeReply   (HostFacts)
//   CheckRequest + payload       CheckReply   (a bpfleet.check/v1 report)
//   Bye                          Bye
//                                ErrorReply   (an unknown or malformed request)
//
// `encode()` gives one JSON line (a CheckRequest's line announces `size`
// payload bytes, which the caller sends right after it). The `parse_*`
// functions read a frame's message (FrameReader has already bounded the
// line's length and nesting and made sure of a string "type"): each checks
// the type, its own nesting bound, every member's type and every string's
// and list's size, and names the first bad member in its error (code
// "protocol"): "check.options.timeout: expected an integer, got a string".
// Members a message does not define are ignored (a newer peer may add some
// within a protocol version); the probe reply's facts keep theirs
// (model/host_facts.hpp).
#pragma once

#include "common/result.hpp"
#include "model/check_result.hpp"
#include "model/fixup_rules.hpp"
#include "model/host_facts.hpp"
#include "protocol/protocol.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bpfleet::protocol {

enum class MessageType { Hello, Probe, Check, Btf, Bye, Error };

std::string_view to_string(MessageType type);
// The type of a frame's message; nullopt for a type this version does not know.
std::optional<MessageType> message_type(const Json& message);

struct Hello {
    int protocol = kVersion;
    AgentInfo agent;
    std::string build_id;
    KernelInfo kernel; // release and `uname -m` of the host
    // Requests beyond the first version's this agent takes: "btf" (the btf
    // message, CheckOptions::btf). Absent from agents that predate it.
    std::vector<std::string> capabilities;
};

// The controller's own hello, the first line it sends, without waiting for
// the agent's: both hellos cross in flight, so that an agent learns the
// controller's protocol version before any request (docs/protocol.md,
// "Pipelining"). Agents of protocol 1 read it and carry on.
struct ControllerHello {
    int protocol = kVersion;
};

struct ProbeRequest {
    // Also the BPF feature fingerprint (about a second of probe loads).
    bool features = true;
};

struct ProbeReply {
    HostFacts facts;
};

// How the agent checks one object (the agent's `check` options).
struct CheckOptions {
    bool load_only = false;
    bool fire = true;
    unsigned timeout_seconds = 120;  // 1 .. 86400
    std::uint64_t log_cap = 1 << 20; // 4096 .. 256 MiB
    // The fixups file's rules, checked by the controller before any host
    // was contacted; none without --fixups.
    std::optional<FixupRules> fixups;
    // External kernel BTF (docs/btf.md): the sha256 of a file sent before in
    // a btf message; none: the kernel's own. Agents without the "btf"
    // capability ignore these members.
    std::optional<std::string> btf;
    bool force_btf = false;         // use it even where the kernel has its own
    bool ignore_kernel_btf = false; // behave as on a kernel without BTF
};

// External kernel BTF for this host's checks, followed by exactly `size` raw
// bytes; the agent keeps it (in memory, by its sha256) for the conversation.
struct BtfUpload {
    std::string name; // where the controller found it, for the report
    std::uint64_t size = 0;
    std::string sha256;
};

// The answer to a BtfUpload: kept, or why not (damaged, not a kernel's BTF,
// another architecture's).
struct BtfReply {
    std::string sha256;
    std::optional<std::string> error;
};

struct CheckRequest {
    std::uint64_t id = 0;
    std::string name;       // the object's name, for the report
    std::uint64_t size = 0; // payload bytes after the line
    std::string sha256;     // of the payload, lowercase hex
    CheckOptions options;
};

// The "result" of a check: the reply to the CheckRequest with the same id.
struct CheckReply {
    std::uint64_t id = 0;
    CheckReport report;
};

struct Bye {};

struct ErrorReply {
    std::optional<std::uint64_t> id; // the request it answers, when known
    std::string message;
};

std::string encode(const Hello& m);
std::string encode(const ControllerHello& m);
std::string encode(const ProbeRequest& m);
std::string encode(const ProbeReply& m);
std::string encode(const CheckRequest& m);
std::string encode(const CheckReply& m);
std::string encode(const BtfUpload& m);
std::string encode(const BtfReply& m);
std::string encode(const Bye& m);
std::string encode(const ErrorReply& m);

Result<Hello> parse_hello(const Json& message);
Result<ProbeRequest> parse_probe_request(const Json& message);
Result<ProbeReply> parse_probe_reply(const Json& message);
Result<CheckRequest> parse_check_request(const Json& message);
Result<CheckReply> parse_check_reply(const Json& message);
Result<BtfUpload> parse_btf_upload(const Json& message);
Result<BtfReply> parse_btf_reply(const Json& message);
Result<Bye> parse_bye(const Json& message);
Result<ErrorReply> parse_error_reply(const Json& message);

// Bounds of the members above.
inline constexpr std::size_t kMaxNameLength = 4096;        // names, versions, ids
inline constexpr std::size_t kMaxErrorMessage = 64u << 10; // an ErrorReply's message

} // namespace bpfleet::protocol
