// The controller's log: text on stderr, one "bpfleet: MESSAGE" line per
// message, through spdlog. spdlog's default logger is this one, so code logs
// with spdlog::error / info / debug / trace. The levels follow the command
// line:
//   error, warn   always, even under -q
//   info          unless -q
//   debug         -v: every host's stages and retries, inventory notes
//   trace         -vv: libssh's own log (handshake, key exchange,
//                 authentication, channels; each line names the hop it is
//                 about) and libbpf's messages
// Nothing logged here reaches report.json or the output directory: the
// report holds results, the log says what happened on the way.
//
// While a run goes on a terminal, its progress display owns the last line of
// stderr; it registers as the LiveLine so that log lines are printed above
// it. Thread-safe (spdlog's sink takes a lock); libssh and libbpf report on
// the thread that called them, which is the event loop's.
#pragma once

#include <cstdio>
#include <string_view>

namespace bpfleet::logging {

enum class Verbosity {
    Quiet,   // -q
    Normal,  //
    Verbose, // -v
    Debug,   // -vv (and more v's)
};

// -q wins over -v.
Verbosity verbosity_of(bool quiet, int verbose_count);

// Makes the controller's logger spdlog's default: lines to `out`, at the
// level for `verbosity`. At Debug libbpf's messages are routed here too
// (libssh's are turned on per session: libssh_session_level()). May be
// called again (a command sets its own verbosity after main's default).
void init(Verbosity verbosity, std::FILE* out = stderr);
[[nodiscard]] Verbosity verbosity();

// The last line of the terminal, owned by someone else while it is set.
class LiveLine {
public:
    LiveLine() = default;
    LiveLine(const LiveLine&) = delete;
    LiveLine& operator=(const LiveLine&) = delete;
    virtual ~LiveLine() = default;
    virtual void clear_line() = 0;  // wipe it before a log line is printed
    virtual void redraw_line() = 0; // and put it back after
};
// nullptr: none. The caller keeps `line` alive until it sets nullptr again.
void set_live_line(LiveLine* line);

// For a new libssh session: the SSH_OPTIONS_LOG_VERBOSITY to give it
// (SSH_LOG_PROTOCOL at -vv, else SSH_LOG_NOLOG). At -vv it also routes
// libssh's log into this one on the calling thread (libssh keeps its log
// callback per thread).
int libssh_session_level();
// Names the hop that libssh's next messages on this thread are about
// ("root@10.0.0.5:22"); a no-op unless -vv. Called where a link hands
// control to libssh.
void libssh_peer(std::string_view peer);

} // namespace bpfleet::logging
