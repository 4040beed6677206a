// A CheckReport built in memory with every field set (full_report), the
// small programs the verdict tests are made of, and a field-by-field
// comparison of two reports, for the check result model's tests. Plain values:
// each call makes a fresh copy.
#pragma once

#include "model/check_result.hpp"

#include <cerrno>
#include <cstddef>
#include <gtest/gtest.h>
#include <string>
#include <utility>

namespace bpfleet::test {

inline ProgramResult program_with(std::string name, Verdict verdict) {
    ProgramResult p;
    p.name = std::move(name);
    p.section = "xdp";
    p.type = "xdp";
    p.load.verdict = verdict;
    if (verdict == Verdict::Fail) {
        p.load.code = FailureCode::Unknown;
    }
    return p;
}

inline StageResult stage_with(Verdict verdict) {
    StageResult s;
    s.verdict = verdict;
    if (verdict == Verdict::Fail) {
        s.code = FailureCode::Unknown;
    }
    return s;
}

// A program that loaded, then attach and fire with the given verdicts.
inline ProgramResult staged(Verdict attach, Verdict fire) {
    ProgramResult p = program_with("p", Verdict::Pass);
    p.attach = stage_with(attach);
    p.fire = stage_with(fire);
    return p;
}

// Every field set, and the optional ones both set and unset somewhere.
inline CheckReport full_report() {
    CheckReport r;
    r.agent = {"0.1.0", "1.1", "x86_64"};
    r.kernel = {"6.1.0-27-cloud-amd64", "x86_64"};
    r.object.name = "mixed.bpf.o";
    r.object.size = 5384;
    r.object.sha256 = "c8921dcb75f3bf284a85f2bf632fad805f2b2fed603fac54caee977ead7071d0";
    r.object.license = "GPL";
    r.object.has_btf = true;
    r.object.has_btf_ext = false;
    r.object.programs = {
        {"good_pass", "xdp", "xdp", "xdp", 2, true},
        {"bad_unchecked", "classifier/ingress/x", "sched_cls", "", 6, false},
    };
    r.object.maps = {
        {"events", "ringbuf", 0, 0, 4096, 0, false, false},
        {"counts", "percpu_hash", 4, 8, 0xffffffffu, 1, true, false},
        {"mixed.rodata", "array", 4, 24, 1, 0x80, false, true},
    };
    r.fixups = {
        {"program_type", "bad_unchecked", "unspec", "sched_cls", "auto",
         "libbpf has no program type for section 'classifier/ingress/x'"},
        {"map_max_entries", "counts", "0", "256", "rodata", ".rodata variable counts_max_entries"},
    };

    ProgramResult pass = program_with("good_pass", Verdict::Pass);
    pass.load.insns_processed = 2;
    pass.load.verification_time_us = 27;
    pass.load.libbpf_messages = {"libbpf: prog 'good_pass': a note"};
    pass.attach = stage_with(Verdict::Pass);
    pass.attach->strategy = "xdp";
    pass.attach->target = "generic XDP on the sandbox's lo";
    pass.fire = stage_with(Verdict::Pass);
    pass.fire->trigger = "a UDP packet to 127.0.0.1 on the sandbox's lo";
    pass.fire->fired = true;
    pass.fire->run_count = 12;

    ProgramResult fail = program_with("bad_unchecked", Verdict::Fail);
    fail.section = "classifier/ingress/x";
    fail.type = "sched_cls";
    fail.load.code = FailureCode::VerifierReject;
    fail.load.errnum = EACCES;
    fail.load.message = "the verifier rejected the program";
    fail.load.evidence = "R1 offset is outside of the packet";
    fail.load.hint = std::string(default_hint(FailureCode::VerifierReject));
    fail.load.insns_processed = 18446744073709551615ull; // the largest value must survive
    fail.load.libbpf_messages = {"prog 'bad_unchecked': failed to load: -13",
                                 "quotes \" and \\ backslashes \n and newlines"};
    fail.load.log = VerifierLog{"0: R1=ctx() R10=fp0\n\xe2\x80\xa6tail\n", 1 << 20, true, 5};

    fail.attach = stage_with(Verdict::Skip);
    fail.attach->message = "not loaded";
    fail.fire = stage_with(Verdict::Skip);
    fail.fire->message = "not loaded";

    ProgramResult skip = program_with("disabled", Verdict::Skip);
    skip.load.message = "disabled by the fixups file";
    // No attach and fire stages, as with --load-only.

    ProgramResult not_fired = program_with("quiet", Verdict::Pass);
    not_fired.attach = stage_with(Verdict::Pass);
    not_fired.attach->strategy = "kprobe";
    not_fired.attach->target = "do_unlinkat";
    not_fired.fire = stage_with(Verdict::Fail);
    not_fired.fire->code = FailureCode::NotFired;
    not_fired.fire->trigger = "unlink() of a scratch file";
    not_fired.fire->fired = false;
    not_fired.fire->run_count = 0;
    not_fired.fire->evidence = "run_cnt stayed 0 after: unlink() of a scratch file";

    ProgramResult unknown = program_with("uncounted", Verdict::Pass);
    unknown.attach = stage_with(Verdict::Pass);
    unknown.attach->strategy = "uprobe";
    unknown.attach->target = "";
    unknown.fire = stage_with(Verdict::Skip);
    unknown.fire->trigger = "none";
    unknown.fire->message = "the kernel does not report run counts";

    r.programs = {pass, fail, skip, not_fired, unknown};
    r.duration_ms = 12.625;
    return r;
}

inline void expect_same(const StageResult& a, const StageResult& b) {
    EXPECT_EQ(a.verdict, b.verdict);
    EXPECT_EQ(a.code, b.code);
    EXPECT_EQ(a.errnum, b.errnum);
    EXPECT_EQ(a.message, b.message);
    EXPECT_EQ(a.evidence, b.evidence);
    EXPECT_EQ(a.hint, b.hint);
    EXPECT_EQ(a.insns_processed, b.insns_processed);
    EXPECT_EQ(a.verification_time_us, b.verification_time_us);
    EXPECT_EQ(a.libbpf_messages, b.libbpf_messages);
    EXPECT_EQ(a.strategy, b.strategy);
    EXPECT_EQ(a.target, b.target);
    EXPECT_EQ(a.trigger, b.trigger);
    EXPECT_EQ(a.fired, b.fired);
    EXPECT_EQ(a.run_count, b.run_count);
    ASSERT_EQ(a.log.has_value(), b.log.has_value());
    if (a.log) {
        EXPECT_EQ(a.log->text, b.log->text);
        EXPECT_EQ(a.log->size, b.log->size);
        EXPECT_EQ(a.log->truncated, b.log->truncated);
        EXPECT_EQ(a.log->level, b.log->level);
    }
}

inline void expect_same(const CheckReport& a, const CheckReport& b) {
    EXPECT_EQ(a.agent.version, b.agent.version);
    EXPECT_EQ(a.agent.libbpf_version, b.agent.libbpf_version);
    EXPECT_EQ(a.agent.arch, b.agent.arch);
    EXPECT_EQ(a.kernel.release, b.kernel.release);
    EXPECT_EQ(a.kernel.arch, b.kernel.arch);

    EXPECT_EQ(a.object.name, b.object.name);
    EXPECT_EQ(a.object.size, b.object.size);
    EXPECT_EQ(a.object.sha256, b.object.sha256);
    EXPECT_EQ(a.object.license, b.object.license);
    EXPECT_EQ(a.object.has_btf, b.object.has_btf);
    EXPECT_EQ(a.object.has_btf_ext, b.object.has_btf_ext);
    ASSERT_EQ(a.object.programs.size(), b.object.programs.size());
    for (std::size_t i = 0; i < a.object.programs.size(); ++i) {
        const auto& x = a.object.programs[i];
        const auto& y = b.object.programs[i];
        EXPECT_EQ(x.name, y.name);
        EXPECT_EQ(x.section, y.section);
        EXPECT_EQ(x.type, y.type);
        EXPECT_EQ(x.expected_attach_type, y.expected_attach_type);
        EXPECT_EQ(x.insns, y.insns);
        EXPECT_EQ(x.autoload, y.autoload);
    }
    ASSERT_EQ(a.object.maps.size(), b.object.maps.size());
    for (std::size_t i = 0; i < a.object.maps.size(); ++i) {
        const auto& x = a.object.maps[i];
        const auto& y = b.object.maps[i];
        EXPECT_EQ(x.name, y.name);
        EXPECT_EQ(x.type, y.type);
        EXPECT_EQ(x.key_size, y.key_size);
        EXPECT_EQ(x.value_size, y.value_size);
        EXPECT_EQ(x.max_entries, y.max_entries);
        EXPECT_EQ(x.flags, y.flags);
        EXPECT_EQ(x.pinned_by_name, y.pinned_by_name);
        EXPECT_EQ(x.internal, y.internal);
    }
    ASSERT_EQ(a.fixups.size(), b.fixups.size());
    for (std::size_t i = 0; i < a.fixups.size(); ++i) {
        EXPECT_EQ(a.fixups[i].kind, b.fixups[i].kind);
        EXPECT_EQ(a.fixups[i].target, b.fixups[i].target);
        EXPECT_EQ(a.fixups[i].from, b.fixups[i].from);
        EXPECT_EQ(a.fixups[i].to, b.fixups[i].to);
        EXPECT_EQ(a.fixups[i].source, b.fixups[i].source);
        EXPECT_EQ(a.fixups[i].reason, b.fixups[i].reason);
    }
    ASSERT_EQ(a.programs.size(), b.programs.size());
    for (std::size_t i = 0; i < a.programs.size(); ++i) {
        SCOPED_TRACE("program " + a.programs[i].name);
        EXPECT_EQ(a.programs[i].name, b.programs[i].name);
        EXPECT_EQ(a.programs[i].section, b.programs[i].section);
        EXPECT_EQ(a.programs[i].type, b.programs[i].type);
        expect_same(a.programs[i].load, b.programs[i].load);
        ASSERT_EQ(a.programs[i].attach.has_value(), b.programs[i].attach.has_value());
        if (a.programs[i].attach) {
            expect_same(*a.programs[i].attach, *b.programs[i].attach);
        }
        ASSERT_EQ(a.programs[i].fire.has_value(), b.programs[i].fire.has_value());
        if (a.programs[i].fire) {
            expect_same(*a.programs[i].fire, *b.programs[i].fire);
        }
    }
    ASSERT_EQ(a.object_error.has_value(), b.object_error.has_value());
    if (a.object_error) {
        EXPECT_EQ(a.object_error->code, b.object_error->code);
        EXPECT_EQ(a.object_error->errnum, b.object_error->errnum);
        EXPECT_EQ(a.object_error->message, b.object_error->message);
    }
    EXPECT_DOUBLE_EQ(a.duration_ms, b.duration_ms);
}

inline std::string text_of(const CheckReport& r) {
    return Json(r).dump(2);
}

} // namespace bpfleet::test
