// One way to attach per AttachKind (attach_strategy.hpp): each makes the
// link, socket, qdisc, map or cgroup attachment, and says what triggers it.
// Everything an attach makes is owned by the returned Attachment and undone
// when it goes (or with the process and its namespaces). Used by
// attach_and_fire() (attach.cpp); single-threaded.
#pragma once

#include "bpf/attach.hpp"
#include "bpf/attach_strategy.hpp"
#include "common/fd.hpp"

#include <bpf/libbpf.h>
#include <functional>
#include <memory>
#include <string>
#include <tl/expected.hpp>
#include <vector>

namespace bpfleet::bpf {

struct LinkDeleter {
    void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

// What an attach made: released in reverse order when the check of the
// program ends (the process's exit would release them too).
struct Attachment {
    LinkPtr link;
    std::vector<Fd> fds;
    std::function<void()> detach;  // extra clean-up (tc filter, legacy attach)
    std::function<void()> trigger; // empty: nothing here can make it run
    std::string target;            // for the report
    Attachment() = default;
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;
    ~Attachment() {
        if (detach) {
            detach();
        }
    }
};

struct AttachError {
    int errnum = 0;
    std::string message;
    std::vector<std::string> libbpf_messages;
};

using AttachResult = tl::expected<std::unique_ptr<Attachment>, AttachError>;

// Attaches `prog` the way `plan` says (not for AttachKind::Skip). A cgroup
// plan needs env.cgroup.
AttachResult attach_program(bpf_program* prog, const AttachPlan& plan, const AttachEnv& env);

} // namespace bpfleet::bpf
