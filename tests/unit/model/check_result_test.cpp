// The check result model's vocabulary and arithmetic: names of verdicts,
// failure codes and errnos, a program's overall verdict, the summary and the
// exit status. The bpfleet.check/v1 document is check_report_json_test.cpp.
#include "model/check_result.hpp"
#include "unit/model/check_report_samples.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <string>

namespace bpfleet {
namespace {

using test::full_report;
using test::program_with;
using test::stage_with;
using test::staged;

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

} // namespace
} // namespace bpfleet
