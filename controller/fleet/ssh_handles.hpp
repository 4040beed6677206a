// Owners for libssh handles: every session, channel, key and libssh-made
// string the controller holds is one of these, so that no error path can
// leak one or free one twice. Move-only (std::unique_ptr with a deleter);
// the deleters never throw. libssh.h stays out of this header.
//
// Order matters with libssh: ssh_free() also frees the session's channels, so
// a channel's owner must be destroyed before its session's (declare the
// session, or the link that holds it, first in a class; keep the link alive
// in a coroutine that uses a channel).
#pragma once

#include <memory>

struct ssh_session_struct;
struct ssh_channel_struct;
struct ssh_key_struct;

namespace bpfleet::fleet {

struct SshSessionFree {
    void operator()(ssh_session_struct* session) const noexcept; // disconnect, free
};
struct SshChannelFree {
    void operator()(ssh_channel_struct* channel) const noexcept; // close if open, free
};
struct SshKeyFree {
    void operator()(ssh_key_struct* key) const noexcept;
};
struct SshTextFree {
    void operator()(char* text) const noexcept; // ssh_string_free_char
};
struct SshHashFree {
    void operator()(unsigned char* hash) const noexcept; // ssh_clean_pubkey_hash
};

using SshSessionPtr = std::unique_ptr<ssh_session_struct, SshSessionFree>;
using SshChannelPtr = std::unique_ptr<ssh_channel_struct, SshChannelFree>;
using SshKeyPtr = std::unique_ptr<ssh_key_struct, SshKeyFree>;
using SshTextPtr = std::unique_ptr<char, SshTextFree>;
using SshHashPtr = std::unique_ptr<unsigned char, SshHashFree>;

} // namespace bpfleet::fleet
