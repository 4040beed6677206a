// The check result model: names of verdicts and codes, a program's overall
// verdict, summary and exit status, the bpfleet.check/v1 JSON round trip, and
// parse_check_report on hostile text (it must answer with an error, never
// throw or crash).
#include "model/check_result.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <string>
#include <utility>
#include <vector>

namespace bpfleet {
namespace {

constexpr Verdict kAllVerdicts[] = {Verdict::Pass, Verdict::Fail, Verdict::Skip, Verdict::Error,
                                    Verdict::Miss};

constexpr FailureCode kAllRealCodes[] = {
    FailureCode::VerifierReject,
    FailureCode::HelperUnavailable,
    FailureCode::ProgTypeUnsupported,
    FailureCode::AttachTypeUnsupported,
    FailureCode::MapTypeUnsupported,
    FailureCode::MissingKernelBtf,
    FailureCode::CoreRelocationFailed,
    FailureCode::AttachTargetMissing,
    FailureCode::PermissionDenied,
    FailureCode::LoaderContract,
    FailureCode::ObjectInvalid,
    FailureCode::ResourceLimit,
    FailureCode::Unknown,
    FailureCode::NotFired,
};

ProgramResult program_with(std::string name, Verdict verdict) {
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

StageResult stage_with(Verdict verdict) {
    StageResult s;
    s.verdict = verdict;
    if (verdict == Verdict::Fail) {
        s.code = FailureCode::Unknown;
    }
    return s;
}

// A program that loaded, then attach and fire with the given verdicts.
ProgramResult staged(Verdict attach, Verdict fire) {
    ProgramResult p = program_with("p", Verdict::Pass);
    p.attach = stage_with(attach);
    p.fire = stage_with(fire);
    return p;
}

// Every field set, and the optional ones both set and unset somewhere.
CheckReport full_report() {
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

void expect_same(const StageResult& a, const StageResult& b) {
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

void expect_same(const CheckReport& a, const CheckReport& b) {
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

std::string text_of(const CheckReport& r) {
    return Json(r).dump(2);
}

// --- names ------------------------------------------------------------------

TEST(VerdictNames, RoundTripEveryVerdict) {
    for (Verdict v : kAllVerdicts) {
        const auto name = to_string(v);
        EXPECT_FALSE(name.empty());
        EXPECT_EQ(verdict_from_string(name), v) << name;
    }
}

TEST(VerdictNames, AreTheDocumentedSpellings) {
    EXPECT_EQ(to_string(Verdict::Pass), "pass");
    EXPECT_EQ(to_string(Verdict::Fail), "fail");
    EXPECT_EQ(to_string(Verdict::Skip), "skip");
    EXPECT_EQ(to_string(Verdict::Error), "error");
    EXPECT_EQ(to_string(Verdict::Miss), "miss");
}

TEST(VerdictNames, UnknownSpellingsAreRejected) {
    for (const char* s : {"", "PASS", "Pass", "ok", "failed", "pass "}) {
        EXPECT_EQ(verdict_from_string(s), std::nullopt) << "'" << s << "'";
    }
}

TEST(FailureCodeNames, RoundTripEveryCode) {
    for (FailureCode c : kAllRealCodes) {
        const auto name = to_string(c);
        EXPECT_FALSE(name.empty());
        EXPECT_EQ(failure_code_from_string(name), c) << name;
    }
    EXPECT_EQ(to_string(FailureCode::None), "");
    EXPECT_EQ(failure_code_from_string(""), FailureCode::None);
}

TEST(FailureCodeNames, AreTheStableSpellings) {
    const std::vector<std::pair<FailureCode, std::string_view>> expected = {
        {FailureCode::VerifierReject, "VERIFIER_REJECT"},
        {FailureCode::HelperUnavailable, "HELPER_UNAVAILABLE"},
        {FailureCode::ProgTypeUnsupported, "PROG_TYPE_UNSUPPORTED"},
        {FailureCode::AttachTypeUnsupported, "ATTACH_TYPE_UNSUPPORTED"},
        {FailureCode::MapTypeUnsupported, "MAP_TYPE_UNSUPPORTED"},
        {FailureCode::MissingKernelBtf, "MISSING_KERNEL_BTF"},
        {FailureCode::CoreRelocationFailed, "CORE_RELOCATION_FAILED"},
        {FailureCode::AttachTargetMissing, "ATTACH_TARGET_MISSING"},
        {FailureCode::PermissionDenied, "PERMISSION_DENIED"},
        {FailureCode::LoaderContract, "LOADER_CONTRACT"},
        {FailureCode::ObjectInvalid, "OBJECT_INVALID"},
        {FailureCode::ResourceLimit, "RESOURCE_LIMIT"},
        {FailureCode::Unknown, "UNKNOWN"},
        {FailureCode::NotFired, "NOT_FIRED"},
    };
    for (const auto& [code, name] : expected) {
        EXPECT_EQ(to_string(code), name);
    }
}

TEST(FailureCodeNames, UnknownSpellingsAreRejected) {
    for (const char* s : {"verifier_reject", "VERIFIER-REJECT", "NONE", "BOGUS", " UNKNOWN"}) {
        EXPECT_EQ(failure_code_from_string(s), std::nullopt) << "'" << s << "'";
    }
}

TEST(DefaultHint, EveryRealCodeHasOne) {
    for (FailureCode c : kAllRealCodes) {
        EXPECT_FALSE(default_hint(c).empty()) << to_string(c);
    }
    EXPECT_TRUE(default_hint(FailureCode::None).empty());
}

TEST(ErrnoName, NamesCommonErrnos) {
    EXPECT_EQ(errno_name(0), "");
    EXPECT_EQ(errno_name(EPERM), "EPERM");
    EXPECT_EQ(errno_name(ENOENT), "ENOENT");
    EXPECT_EQ(errno_name(ESRCH), "ESRCH");
    EXPECT_EQ(errno_name(E2BIG), "E2BIG");
    EXPECT_EQ(errno_name(EACCES), "EACCES");
    EXPECT_EQ(errno_name(EINVAL), "EINVAL");
    EXPECT_EQ(errno_name(ENOSPC), "ENOSPC");
    EXPECT_EQ(errno_name(ENOMEM), "ENOMEM");
    EXPECT_EQ(errno_name(ENOTSUP), "EOPNOTSUPP");
    EXPECT_EQ(errno_name(ENOEXEC), "ENOEXEC");
}

TEST(ErrnoName, KernelInternalEnotsupp) {
    EXPECT_EQ(errno_name(524), "ENOTSUPP");
}

TEST(ErrnoName, UnknownNumbersKeepTheNumber) {
    EXPECT_EQ(errno_name(4242), "E4242");
    EXPECT_EQ(errno_name(523), "E523");
}

// --- summary and exit status -----------------------------------------------

TEST(CheckSummary, CountsEveryVerdictAndMissAsError) {
    CheckReport r;
    r.programs = {program_with("a", Verdict::Pass),  program_with("b", Verdict::Pass),
                  program_with("c", Verdict::Fail),  program_with("d", Verdict::Skip),
                  program_with("e", Verdict::Error), program_with("f", Verdict::Miss)};
    const auto s = r.summary();
    EXPECT_EQ(s.programs, 6);
    EXPECT_EQ(s.pass, 2);
    EXPECT_EQ(s.fail, 1);
    EXPECT_EQ(s.skip, 1);
    EXPECT_EQ(s.error, 2);
}

TEST(CheckSummary, EmptyReportCountsNothing) {
    const auto s = CheckReport{}.summary();
    EXPECT_EQ(s.programs, 0);
    EXPECT_EQ(s.pass + s.fail + s.skip + s.error, 0);
}

TEST(CheckSummary, IsWrittenIntoTheDocument) {
    const Json j = full_report();
    EXPECT_EQ(j.at("summary"),
              (Json{{"programs", 5}, {"pass", 2}, {"fail", 2}, {"skip", 1}, {"error", 0}}));
}

TEST(ProgramOverall, LoadOnlyIsTheLoadVerdict) {
    EXPECT_EQ(program_with("a", Verdict::Pass).overall(), Verdict::Pass);
    EXPECT_EQ(program_with("a", Verdict::Fail).overall(), Verdict::Fail);
    EXPECT_EQ(program_with("a", Verdict::Skip).overall(), Verdict::Skip);
    EXPECT_EQ(program_with("a", Verdict::Error).overall(), Verdict::Error);
    EXPECT_EQ(program_with("a", Verdict::Miss).overall(), Verdict::Error);
}

TEST(ProgramOverall, PassOnlyWhenEveryStagePasses) {
    EXPECT_EQ(staged(Verdict::Pass, Verdict::Pass).overall(), Verdict::Pass);
    // A fire stage that could not be judged does not fail the program.
    EXPECT_EQ(staged(Verdict::Pass, Verdict::Skip).overall(), Verdict::Pass);
    EXPECT_EQ(staged(Verdict::Skip, Verdict::Skip).overall(), Verdict::Pass);
}

TEST(ProgramOverall, AFailedStageFailsTheProgram) {
    EXPECT_EQ(staged(Verdict::Fail, Verdict::Skip).overall(), Verdict::Fail);
    EXPECT_EQ(staged(Verdict::Pass, Verdict::Fail).overall(), Verdict::Fail);
}

TEST(ProgramOverall, AnErroredOrMissedStageIsAnErrorEvenOverAFail) {
    EXPECT_EQ(staged(Verdict::Error, Verdict::Error).overall(), Verdict::Error);
    EXPECT_EQ(staged(Verdict::Pass, Verdict::Miss).overall(), Verdict::Error);
    EXPECT_EQ(staged(Verdict::Fail, Verdict::Error).overall(), Verdict::Error);
}

TEST(ProgramOverall, SkippedLoadIsASkip) {
    ProgramResult p = program_with("a", Verdict::Skip);
    p.attach = stage_with(Verdict::Skip);
    p.fire = stage_with(Verdict::Skip);
    EXPECT_EQ(p.overall(), Verdict::Skip);
}

TEST(CheckSummary, CountsOverallVerdicts) {
    CheckReport r;
    r.programs = {staged(Verdict::Pass, Verdict::Pass), staged(Verdict::Pass, Verdict::Fail),
                  staged(Verdict::Error, Verdict::Error), program_with("d", Verdict::Skip)};
    const auto s = r.summary();
    EXPECT_EQ(s.programs, 4);
    EXPECT_EQ(s.pass, 1);
    EXPECT_EQ(s.fail, 1);
    EXPECT_EQ(s.skip, 1);
    EXPECT_EQ(s.error, 1);
}

TEST(ExitStatus, ZeroWhenEveryProgramPasses) {
    CheckReport r;
    r.programs = {program_with("a", Verdict::Pass), program_with("b", Verdict::Pass)};
    EXPECT_EQ(r.exit_status(), 0);
}

TEST(ExitStatus, ZeroWithNoProgramsOrOnlySkips) {
    CheckReport r;
    EXPECT_EQ(r.exit_status(), 0);
    r.programs = {program_with("a", Verdict::Pass), program_with("b", Verdict::Skip)};
    EXPECT_EQ(r.exit_status(), 0);
}

TEST(ExitStatus, OneWhenAProgramFails) {
    CheckReport r;
    r.programs = {program_with("a", Verdict::Pass), program_with("b", Verdict::Fail)};
    EXPECT_EQ(r.exit_status(), 1);
}

TEST(ExitStatus, OneWhenALaterStageFailsOrErrs) {
    CheckReport r;
    r.programs = {staged(Verdict::Pass, Verdict::Pass), staged(Verdict::Pass, Verdict::Fail)};
    EXPECT_EQ(r.exit_status(), 1);
    r.programs = {staged(Verdict::Error, Verdict::Error)};
    EXPECT_EQ(r.exit_status(), 1);
    r.programs = {staged(Verdict::Pass, Verdict::Skip)};
    EXPECT_EQ(r.exit_status(), 0);
}

TEST(ExitStatus, OneWhenAProgramErredOrWasMissed) {
    CheckReport r;
    r.programs = {program_with("a", Verdict::Error)};
    EXPECT_EQ(r.exit_status(), 1);
    r.programs = {program_with("a", Verdict::Miss)};
    EXPECT_EQ(r.exit_status(), 1);
}

TEST(ExitStatus, TwoWhenTheObjectItselfIsBad) {
    CheckReport r;
    r.object_error = ObjectError{FailureCode::ObjectInvalid, 0, "not an ELF file"};
    EXPECT_EQ(r.exit_status(), 2);
    r.programs = {program_with("a", Verdict::Pass)};
    EXPECT_EQ(r.exit_status(), 2); // the object error wins
}

// --- serialisation ----------------------------------------------------------

TEST(CheckReportJson, FullyPopulatedReportRoundTrips) {
    const CheckReport original = full_report();
    const std::string text = text_of(original);
    auto parsed = parse_check_report(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    expect_same(original, *parsed);
    EXPECT_EQ(text_of(*parsed), text); // and serialises to the same bytes again
}

TEST(CheckReportJson, ObjectErrorRoundTrips) {
    CheckReport original;
    original.agent = {"0.1.0", "1.1", "aarch64"};
    original.kernel = {"6.12.0", "aarch64"};
    original.object.name = "missing.bpf.o";
    original.object_error =
        ObjectError{FailureCode::LoaderContract, ENOENT, "cannot open 'missing.bpf.o'"};
    const std::string text = text_of(original);
    auto parsed = parse_check_report(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    expect_same(original, *parsed);
    EXPECT_EQ(parsed->exit_status(), 2);
    EXPECT_EQ(text_of(*parsed), text);
}

TEST(CheckReportJson, TopLevelKeysInDocumentOrder) {
    const Json j = full_report();
    std::vector<std::string> keys;
    for (const auto& [key, value] : j.items()) {
        keys.push_back(key);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"schema", "agent", "kernel", "error", "object",
                                              "fixups", "programs", "summary", "duration_ms"}));
    EXPECT_EQ(j.at("schema"), "bpfleet.check/v1");
    EXPECT_TRUE(j.at("error").is_null());
    EXPECT_EQ(j.at("agent").at("libbpf"), "1.1");
    EXPECT_EQ(j.at("object").at("btf"), true);
    EXPECT_EQ(j.at("object").at("btf_ext"), false);
}

TEST(CheckReportJson, UnsetOptionalsAreNullAndNoCodeIsNull) {
    const Json j = full_report();
    const Json& pass = j.at("programs").at(0).at("load");
    EXPECT_TRUE(pass.at("code").is_null());
    EXPECT_TRUE(pass.at("log").is_null());
    EXPECT_EQ(pass.at("errno"), 0);
    EXPECT_EQ(pass.at("errno_name"), "");
    const Json& skip = j.at("programs").at(2).at("load");
    EXPECT_TRUE(skip.at("insns_processed").is_null());
    EXPECT_TRUE(skip.at("verification_time_us").is_null());
    const Json& fail = j.at("programs").at(1).at("load");
    EXPECT_EQ(fail.at("code"), "VERIFIER_REJECT");
    EXPECT_EQ(fail.at("errno_name"), "EACCES");
    EXPECT_EQ(fail.at("log").at("truncated"), true);
}

TEST(CheckReportJson, StagesCarryOnlyTheirOwnKeys) {
    const Json j = full_report();
    const Json& good = j.at("programs").at(0);
    EXPECT_FALSE(good.at("load").contains("strategy"));
    EXPECT_FALSE(good.at("load").contains("trigger"));
    EXPECT_EQ(good.at("attach").at("strategy"), "xdp");
    EXPECT_EQ(good.at("attach").at("target"), "generic XDP on the sandbox's lo");
    EXPECT_FALSE(good.at("attach").contains("trigger"));
    EXPECT_FALSE(good.at("fire").contains("strategy"));
    EXPECT_EQ(good.at("fire").at("fired"), true);
    EXPECT_EQ(good.at("fire").at("run_count"), 12);

    // Not attached, so nothing was triggered: no strategy and no trigger keys.
    const Json& bad = j.at("programs").at(1);
    EXPECT_FALSE(bad.at("attach").contains("strategy"));
    EXPECT_FALSE(bad.at("fire").contains("trigger"));
    EXPECT_FALSE(bad.at("fire").contains("fired"));

    // --load-only: no attach and fire keys at all.
    const Json& skipped = j.at("programs").at(2);
    EXPECT_FALSE(skipped.contains("attach"));
    EXPECT_FALSE(skipped.contains("fire"));

    const Json& quiet = j.at("programs").at(3).at("fire");
    EXPECT_EQ(quiet.at("code"), "NOT_FIRED");
    EXPECT_EQ(quiet.at("fired"), false);
    EXPECT_EQ(quiet.at("run_count"), 0);

    const Json& uncounted = j.at("programs").at(4).at("fire");
    EXPECT_EQ(uncounted.at("fired"), "unknown");
    EXPECT_TRUE(uncounted.at("run_count").is_null());
}

TEST(CheckReportJson, ObjectErrorCarriesTheDefaultHint) {
    CheckReport r;
    r.object_error = ObjectError{FailureCode::ObjectInvalid, 0, "the file is empty (0 bytes)"};
    const Json j = r;
    ASSERT_TRUE(j.at("error").is_object());
    EXPECT_EQ(j.at("error").at("code"), "OBJECT_INVALID");
    EXPECT_EQ(j.at("error").at("errno"), 0);
    EXPECT_EQ(j.at("error").at("message"), "the file is empty (0 bytes)");
    EXPECT_EQ(j.at("error").at("hint"), std::string(default_hint(FailureCode::ObjectInvalid)));
}

// Documents may leave out what has a default; only the core keys are required.
TEST(ParseCheckReport, AcceptsDocumentWithOnlyRequiredKeys) {
    const auto parsed = parse_check_report(R"({
        "schema": "bpfleet.check/v1",
        "agent": {"version": "0.1.0", "libbpf": "1.1", "arch": "x86_64"},
        "kernel": {"release": "6.1.0", "arch": "x86_64"},
        "object": {"name": "o.bpf.o", "size": 0, "sha256": ""},
        "programs": [{"name": "p", "load": {"verdict": "pass", "code": null, "log": null}}]
    })");
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_FALSE(parsed->object_error);
    ASSERT_EQ(parsed->programs.size(), 1u);
    EXPECT_EQ(parsed->programs[0].load.verdict, Verdict::Pass);
    EXPECT_EQ(parsed->programs[0].load.code, FailureCode::None);
    EXPECT_FALSE(parsed->programs[0].load.log);
    EXPECT_FALSE(parsed->programs[0].load.insns_processed);
    EXPECT_TRUE(parsed->fixups.empty());
    EXPECT_EQ(parsed->duration_ms, 0);
}

// --- parse_check_report on bad input ---------------------------------------

// Parses text that must be refused: an error, never an exception.
void expect_rejected(const std::string& text, const std::string& why) {
    SCOPED_TRACE(why);
    Result<CheckReport> parsed;
    EXPECT_NO_THROW(parsed = parse_check_report(text));
    ASSERT_FALSE(parsed) << "accepted: " << text.substr(0, 300);
    EXPECT_EQ(parsed.error().code, "invalid_report");
    EXPECT_FALSE(parsed.error().message.empty());
}

Json valid_document() {
    CheckReport r = full_report();
    return Json(r);
}

TEST(ParseCheckReport, ValidDocumentIsAccepted) {
    EXPECT_TRUE(parse_check_report(valid_document().dump()));
}

TEST(ParseCheckReport, RejectsWrongSchema) {
    for (const Json& schema : {Json("bpfleet.check/v2"), Json("bpfleet.check/v1 "), Json(""),
                               Json("bpfleet.probe/v1"), Json(1), Json(nullptr)}) {
        Json j = valid_document();
        j["schema"] = schema;
        expect_rejected(j.dump(), "schema " + schema.dump());
    }
}

TEST(ParseCheckReport, RejectsUnknownVerdict) {
    for (const char* verdict : {"ok", "PASS", "", "passed"}) {
        Json j = valid_document();
        j["programs"][0]["load"]["verdict"] = verdict;
        expect_rejected(j.dump(), std::string("verdict ") + verdict);
    }
}

TEST(ParseCheckReport, RejectsUnknownFailureCode) {
    for (const char* code : {"BOGUS", "verifier_reject", "NONE"}) {
        Json j = valid_document();
        j["programs"][1]["load"]["code"] = code;
        expect_rejected(j.dump(), std::string("stage code ") + code);
    }
    Json j = valid_document();
    j["error"] = Json{{"code", "NOT_A_CODE"}, {"errno", 0}, {"message", "m"}, {"hint", ""}};
    expect_rejected(j.dump(), "object error code");
}

// "" is how FailureCode::None is spelled internally; the document spells it null.
TEST(ParseCheckReport, RejectsEmptyFailureCode) {
    Json j = valid_document();
    j["programs"][1]["load"]["code"] = "";
    expect_rejected(j.dump(), "stage code ''");
    j = valid_document();
    j["error"] = Json{{"code", ""}, {"errno", 0}, {"message", "m"}, {"hint", ""}};
    expect_rejected(j.dump(), "object error code ''");
}

TEST(ParseCheckReport, RejectsMissingRequiredKeys) {
    const char* required[] = {
        "/schema",
        "/agent",
        "/agent/version",
        "/agent/libbpf",
        "/agent/arch",
        "/kernel",
        "/kernel/release",
        "/kernel/arch",
        "/object",
        "/object/name",
        "/object/size",
        "/object/sha256",
        "/object/programs/0/name",
        "/object/programs/0/section",
        "/object/programs/0/type",
        "/object/maps/0/name",
        "/object/maps/0/type",
        "/fixups/0/kind",
        "/fixups/0/target",
        "/programs/0/name",
        "/programs/0/load",
        "/programs/0/load/verdict",
        "/programs/1/load/log/level",
        "/programs/1/load/log/size",
        "/programs/1/load/log/truncated",
        "/programs/1/load/log/text",
        "/programs/0/attach/verdict",
        "/programs/0/fire/verdict",
    };
    for (const char* pointer : required) {
        Json j = valid_document();
        const Json::json_pointer ptr(pointer);
        ASSERT_TRUE(j.contains(ptr)) << pointer;
        j[ptr.parent_pointer()].erase(ptr.back());
        expect_rejected(j.dump(), std::string("without ") + pointer);
    }
}

TEST(ParseCheckReport, RejectsObjectErrorWithoutCodeOrMessage) {
    for (const char* key : {"code", "message"}) {
        Json j = valid_document();
        j["error"] = Json{{"code", "OBJECT_INVALID"}, {"errno", 0}, {"message", "m"}};
        j["error"].erase(key);
        expect_rejected(j.dump(), std::string("error without ") + key);
    }
}

TEST(ParseCheckReport, RejectsWrongTypes) {
    const std::vector<std::pair<const char*, Json>> cases = {
        {"/agent", "x86_64"},
        {"/agent/version", 1},
        {"/kernel/release", Json::array()},
        {"/error", "OBJECT_INVALID"},
        {"/object", Json::array()},
        {"/object/size", "big"},
        {"/object/size", -1},
        {"/object/size", 1.5},
        {"/object/sha256", 0},
        {"/object/btf", "yes"},
        {"/object/btf", 1},
        {"/object/programs", Json::object()},
        {"/object/programs/0/insns", "2"},
        {"/object/programs/0/autoload", "true"},
        {"/object/maps/0/key_size", 4294967296ull},
        {"/object/maps/0/max_entries", -1},
        {"/object/maps/0/pinned_by_name", "no"},
        {"/fixups", "none"},
        {"/fixups/0/from", 0},
        {"/programs", Json::object()},
        {"/programs/0", "good_pass"},
        {"/programs/0/load", Json::array()},
        {"/programs/0/load/verdict", 5},
        {"/programs/1/load/code", 13},
        {"/programs/1/load/errno", "13"},
        {"/programs/1/load/errno", 13.5},
        {"/programs/1/load/errno", true},
        {"/programs/1/load/errno", 1e300},
        {"/programs/1/load/errno", 4294967296ll},
        {"/programs/1/load/message", Json::object()},
        {"/programs/1/load/insns_processed", -1},
        {"/programs/1/load/insns_processed", "many"},
        {"/programs/1/load/verification_time_us", 2.5},
        {"/programs/1/load/libbpf_messages", "one message"},
        {"/programs/1/load/libbpf_messages", Json::array({1, 2})},
        {"/programs/1/load/log", "the log"},
        {"/programs/1/load/log/truncated", 1},
        {"/programs/1/load/log/size", -5},
        {"/programs/1/load/log/level", "5"},
        {"/programs/1/load/log/text", Json::array()},
        {"/programs/0/attach", "xdp"},
        {"/programs/0/attach/verdict", "attached"},
        {"/programs/0/attach/strategy", 1},
        {"/programs/0/fire", Json::array()},
        {"/programs/0/fire/code", "NEVER_RAN"},
        {"/programs/0/fire/run_count", -1},
        {"/programs/0/fire/run_count", "12"},
        {"/programs/0/fire/trigger", false},
        {"/duration_ms", "fast"},
        {"/duration_ms", true},
    };
    for (const auto& [pointer, value] : cases) {
        Json j = valid_document();
        const Json::json_pointer ptr(pointer);
        ASSERT_TRUE(j.contains(ptr)) << pointer;
        j[ptr] = value;
        expect_rejected(j.dump(), std::string(pointer) + " = " + value.dump());
    }
}

TEST(ParseCheckReport, RejectsDocumentsThatAreNotObjects) {
    for (const char* text : {"null", "[]", "[1, 2]", "\"bpfleet.check/v1\"", "42", "true"}) {
        expect_rejected(text, text);
    }
}

TEST(ParseCheckReport, RejectsNonJsonText) {
    const std::string valid = valid_document().dump();
    std::string with_nul = "{\"schema\": \"bpfleet.check/v1";
    with_nul.push_back('\0');
    with_nul += "\"}";
    const std::vector<std::string> texts = {
        "",
        " ",
        "not json",
        "{",
        "{\"schema\": \"bpfleet.check/v1\"",
        "{'schema': 'bpfleet.check/v1'}",
        valid.substr(0, valid.size() / 2),
        valid + " trailing",
        valid + "\n" + valid, // two documents
        with_nul,
        "\xff\xfe{}",
    };
    for (const auto& text : texts) {
        expect_rejected(text, "text: " + text.substr(0, 40));
    }
}

TEST(ParseCheckReport, RejectsInvalidUtf8InStrings) {
    Json j = valid_document();
    std::string text = j.dump();
    const auto at = text.find("good_pass");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 1, "\xc3\x28");
    expect_rejected(text, "invalid UTF-8 in a name");
}

TEST(ParseCheckReport, SurvivesHugeNestingDepth) {
    constexpr std::size_t kDepth = 1'000'000;
    expect_rejected(std::string(kDepth, '[') + std::string(kDepth, ']'), "nested arrays");
    expect_rejected(std::string(kDepth, '['), "unterminated nested arrays");

    std::string objects;
    for (std::size_t i = 0; i < 200'000; ++i) {
        objects += "{\"a\":";
    }
    objects += "1";
    objects += std::string(200'000, '}');
    expect_rejected(objects, "nested objects");

    // Deep nesting where a value of the document is expected.
    Json j = valid_document();
    std::string text = j.dump();
    const std::string key = "\"libbpf_messages\":[";
    const auto at = text.find(key);
    ASSERT_NE(at, std::string::npos);
    text.insert(at + key.size(), std::string(kDepth, '[') + std::string(kDepth, ']') + ",");
    expect_rejected(text, "nested arrays inside libbpf_messages");
    EXPECT_NE(parse_check_report(text).error().message.find("nested deeper than"),
              std::string::npos);
}

// Keys the model does not know are ignored (newer agents may add some), but
// their nesting is bounded like everything else.
TEST(ParseCheckReport, IgnoresUnknownKeysButBoundsTheirNesting) {
    const auto with_extra = [](std::size_t depth) {
        std::string text = valid_document().dump();
        text.insert(1, "\"extra\":" + std::string(depth, '[') + std::string(depth, ']') + ",");
        return text;
    };
    const auto shallow = parse_check_report(with_extra(20));
    EXPECT_TRUE(shallow) << shallow.error().message;
    for (std::size_t depth : {64, 100'000}) {
        const auto deep = parse_check_report(with_extra(depth));
        ASSERT_FALSE(deep) << depth;
        EXPECT_NE(deep.error().message.find("nested deeper than"), std::string::npos)
            << deep.error().message;
    }
}

} // namespace
} // namespace bpfleet
