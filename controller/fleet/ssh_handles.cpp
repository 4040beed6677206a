#include "fleet/ssh_handles.hpp"

#include <libssh/libssh.h>

namespace bpfleet::fleet {

void SshSessionFree::operator()(ssh_session_struct* session) const noexcept {
    ssh_disconnect(session);
    ssh_free(session);
}

void SshChannelFree::operator()(ssh_channel_struct* channel) const noexcept {
    if (ssh_channel_is_closed(channel) == 0) {
        ssh_channel_close(channel);
    }
    ssh_channel_free(channel);
}

void SshKeyFree::operator()(ssh_key_struct* key) const noexcept {
    ssh_key_free(key);
}

void SshTextFree::operator()(char* text) const noexcept {
    ssh_string_free_char(text);
}

void SshHashFree::operator()(unsigned char* hash) const noexcept {
    ssh_clean_pubkey_hash(&hash);
}

} // namespace bpfleet::fleet
