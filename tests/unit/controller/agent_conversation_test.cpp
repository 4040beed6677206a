// The protocol conversation against a scripted agent stream: what the
// controller makes of good, garbled, oversized, late and refused answers.

#include "fleet/agent_conversation.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <deque>
#include <gtest/gtest.h>

namespace bpfleet::fleet {
namespace {

// Answers reads from a script of chunks; records what the controller wrote.
class ScriptedStream final : public AgentStream {
public:
    std::deque<std::string> chunks;               // read in order; then EOF
    std::optional<HostFailure> fail_after_script; // instead of EOF
    std::string written;
    std::string err;
    // An agent that answers nothing before it has read the last request.
    bool answer_after_bye = false;
    // A window that opens only once the controller has read every answer:
    // writes after the first wait for the reads.
    bool writes_wait_for_reads = false;

    asio::awaitable<HostExpected<void>> write(std::string_view bytes, Deadline deadline) override {
        if (writes_wait_for_reads && !written.empty()) {
            CO_TRY(co_await until([&] { return chunks.empty(); }, deadline));
        }
        written.append(bytes);
        co_return HostExpected<void>{};
    }
    asio::awaitable<HostExpected<std::size_t>> read_some(std::span<char> buffer,
                                                         Deadline deadline) override {
        if (answer_after_bye) {
            CO_TRY(co_await until(
                [&] { return written.find("{\"type\":\"bye\"}\n") != std::string::npos; },
                deadline));
        }
        if (chunks.empty()) {
            if (fail_after_script) {
                co_return tl::unexpected(*fail_after_script);
            }
            co_return std::size_t{0};
        }
        std::string& front = chunks.front();
        std::size_t n = std::min(buffer.size(), front.size());
        std::copy_n(front.data(), n, buffer.data());
        front.erase(0, n);
        if (front.empty()) {
            chunks.pop_front();
        }
        co_return n;
    }
    [[nodiscard]] std::string stderr_text() const override { return err; }

private:
    template <typename Pred>
    static asio::awaitable<HostExpected<void>> until(Pred done, Deadline deadline) {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        while (!done()) {
            if (Clock::now() >= deadline) {
                co_return host_failure(HostStatus::Timeout, "run", "the script waited in vain");
            }
            timer.expires_after(std::chrono::milliseconds(1));
            co_await timer.async_wait(asio::use_awaitable);
        }
        co_return HostExpected<void>{};
    }
};

std::string hello(const std::string& arch = "x86_64", int version = protocol::kVersion) {
    protocol::Hello h;
    h.protocol = version;
    h.agent = AgentInfo{"t", "1.1", arch};
    h.build_id = "0123";
    h.kernel = KernelInfo{"6.1.0", arch};
    return protocol::encode(h);
}

HostFacts facts() {
    HostFacts f;
    f.agent = ProbeAgentInfo{"t", "1.1", "x86_64", "0123", Json::object()};
    f.arch = "x86_64";
    f.kernel.release = "6.1.0";
    return f;
}

std::string probe() {
    return protocol::encode(protocol::ProbeReply{facts()});
}

std::string check_reply(std::uint64_t id) {
    CheckReport report;
    ProgramResult p;
    p.name = "prog";
    p.load.verdict = Verdict::Pass;
    report.programs.push_back(p);
    return protocol::encode(protocol::CheckReply{id, report});
}

class ConversationTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto art = oci::resolve_artifact(std::string(BPFLEET_TEST_BPF_DIR) + "/pass.bpf.o", {});
        ASSERT_TRUE(art) << art.error().describe();
        m_artifacts.push_back({"pass.bpf.o", std::move(*art)});
        m_plan.artifacts = &m_artifacts;
    }

    HostExpected<void> talk(ScriptedStream& stream, HostResult& host) {
        asio::io_context context;
        auto future = asio::co_spawn(
            context,
            converse(stream, m_plan, host, Clock::now() + std::chrono::seconds(5), m_machine),
            asio::use_future);
        context.run();
        return future.get();
    }

    std::vector<ArtifactInput> m_artifacts;
    CheckPlan m_plan;
    std::string m_machine = "x86_64"; // what the start command's uname -m said
};

TEST_F(ConversationTest, GoodAgentGivesFactsAndOneCheckPerObject) {
    ScriptedStream s;
    // Split mid-line: frames are reassembled whatever the chunking.
    std::string all = hello() + probe() + check_reply(1) + "{\"type\":\"bye\"}\n";
    for (std::size_t i = 0; i < all.size(); i += 7) {
        s.chunks.push_back(all.substr(i, 7));
    }
    HostResult host;
    auto r = talk(s, host);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(host.facts);
    EXPECT_EQ(host.facts->kernel.release, "6.1.0");
    ASSERT_EQ(host.checks.size(), 1u);
    EXPECT_EQ(host.checks[0].object, "pass.bpf.o");
    ASSERT_EQ(host.checks[0].report.programs.size(), 1u);
    // What went out: probe, a check line followed by the object's bytes, bye.
    // Host facts without the (slow) feature fingerprint unless the plan asks.
    EXPECT_NE(s.written.find("{\"type\":\"probe\",\"features\":false}\n"), std::string::npos)
        << s.written.substr(0, 200);
    EXPECT_NE(s.written.find("\"type\":\"check\""), std::string::npos);
    EXPECT_NE(s.written.find("\x7f"
                             "ELF"),
              std::string::npos);
    EXPECT_NE(s.written.find("{\"type\":\"bye\"}"), std::string::npos);
}

// Pipelining: the controller's hello, the probe, every check and bye go out
// before the agent has said anything. A controller that waited for the
// hello (or any answer) would wait here until its deadline.
TEST_F(ConversationTest, EveryRequestGoesOutBeforeTheFirstAnswer) {
    ScriptedStream s;
    s.answer_after_bye = true;
    s.chunks = {hello(), probe(), check_reply(1), check_reply(2), "{\"type\":\"bye\"}\n"};
    m_artifacts.push_back(m_artifacts.front());
    HostResult host;
    auto r = talk(s, host);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(host.checks.size(), 2u);
    // In this order, the controller's hello first (its protocol version).
    const auto at = [&](std::string_view what) { return s.written.find(what); };
    EXPECT_EQ(at("{\"type\":\"hello\",\"protocol\":1}\n"), 0u) << s.written.substr(0, 200);
    EXPECT_LT(at("\"type\":\"probe\""), at("\"id\":1"));
    EXPECT_LT(at("\"id\":1"), at("\"id\":2"));
    EXPECT_LT(at("\"id\":2"), at("{\"type\":\"bye\"}"));
}

// The answers are read while a request waits for the window: an agent whose
// output nobody reads stops reading its input, and the two would wait for
// each other until the deadline.
TEST_F(ConversationTest, AnswersAreReadWhileARequestWaitsForTheWindow) {
    ScriptedStream s;
    s.writes_wait_for_reads = true;
    s.chunks = {hello(), probe(), check_reply(1), "{\"type\":\"bye\"}\n"};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(host.checks.size(), 1u);
}

TEST_F(ConversationTest, GarbageIsAnAgentErrorNamingTheBytes) {
    ScriptedStream s;
    s.chunks = {"this is not json\n"};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("garbled"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("17 bytes"), std::string::npos) << r.error().message;
}

TEST_F(ConversationTest, OversizedLineIsRefusedNotBuffered) {
    ScriptedStream s;
    s.chunks.push_back(hello());
    s.chunks.push_back(probe());
    // 65 MiB without a newline: over the 64 MiB bound for one message.
    for (int i = 0; i < 65; ++i) {
        s.chunks.push_back(std::string(1 << 20, 'x'));
    }
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("bytes"), std::string::npos) << r.error().message;
    EXPECT_TRUE(host.facts) << "facts from before the garbage are kept";
}

// The attack review's 60 MB probe reply of 0,0,0,...: inside the 64 MiB
// message limit, it took the controller to 2.27 GB and wrote a 390 MB
// report.json. Counted before it is parsed, it is an agent_error.
TEST_F(ConversationTest, AProbeReplyOfMillionsOfValuesIsRefusedBeforeParsing) {
    ScriptedStream s;
    s.chunks.push_back(hello());
    std::string reply = R"({"type":"probe","facts":{"x":[0)";
    reply.reserve(60u << 20);
    while (reply.size() < (60u << 20)) {
        reply += ",0";
    }
    reply += "]}}\n";
    s.chunks.push_back(std::move(reply));
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("more than 250000 JSON values"), std::string::npos)
        << r.error().message;
    EXPECT_FALSE(host.facts);
}

// Few values but many bytes: facts over their own budget.
TEST_F(ConversationTest, FactsOverTheirBudgetAreAnAgentError) {
    ScriptedStream s;
    s.chunks.push_back(hello());
    s.chunks.push_back(
        Json{{"type", "probe"}, {"facts", {{"x", std::string(kMaxFactsBytes, 'a')}}}}.dump() +
        "\n");
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("probe reply is"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("over its budget of 4194304 bytes"), std::string::npos)
        << r.error().message;
}

// An agent that ignores the log cap it was given (each log's tail is kept
// within it) is not trusted with the rest of its report either.
TEST_F(ConversationTest, AVerifierLogOverTheCapIsAnAgentError) {
    ScriptedStream s;
    CheckReport report;
    ProgramResult p;
    p.name = "prog";
    p.load.verdict = Verdict::Fail;
    p.load.log = VerifierLog{std::string((1u << 20) + 2, 'l'), (1u << 20) + 2, false, 5};
    report.programs.push_back(p);
    s.chunks = {hello(), probe(), protocol::encode(protocol::CheckReply{1, report})};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("over the log cap"), std::string::npos) << r.error().message;
    EXPECT_TRUE(host.checks.empty());
}

// Facts nested a million levels deep would parse, then overflow the stack
// when copied into the report or written out: refused on sight.
TEST_F(ConversationTest, DeeplyNestedMessageIsAnAgentErrorNotACrash) {
    ScriptedStream s;
    s.chunks.push_back(hello());
    constexpr std::size_t kDepth = 1'000'000;
    const std::string line = "{\"type\":\"probe\",\"facts\":{\"x\":" + std::string(kDepth, '[') +
                             std::string(kDepth, ']') + "}}";
    s.chunks.push_back(line + "\n");
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("nested deeper than"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("a message of " + std::to_string(line.size()) + " bytes"),
              std::string::npos)
        << r.error().message;
    EXPECT_FALSE(host.facts);
}

TEST_F(ConversationTest, SudoPasswordPromptIsAnAuthFailureInBecome) {
    ScriptedStream s;
    s.err = "sudo: a password is required\n";
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AuthFailed);
    EXPECT_EQ(r.error().stage, "become");
    EXPECT_NE(r.error().message.find("NOPASSWD"), std::string::npos);
}

TEST_F(ConversationTest, AgentThatDiesIsAnAgentErrorWithItsStderr) {
    ScriptedStream s;
    s.chunks = {hello()};
    s.err = "Segmentation fault\n";
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("Segmentation fault"), std::string::npos) << r.error().message;
}

TEST_F(ConversationTest, WrongProtocolVersionIsRefused) {
    ScriptedStream s;
    s.chunks = {hello("x86_64", protocol::kVersion + 1)};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("protocol " + std::to_string(protocol::kVersion)),
              std::string::npos)
        << r.error().message;
}

TEST_F(ConversationTest, ReplyWithAnotherIdIsRefused) {
    ScriptedStream s;
    s.chunks = {hello(), probe(), check_reply(7)};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_TRUE(host.checks.empty());
}

TEST_F(ConversationTest, ReportThatIsNotTheModelIsRefused) {
    ScriptedStream s;
    s.chunks = {hello(), probe(),
                "{\"type\":\"check\",\"id\":1,\"report\":{\"programs\":\"nope\"}}\n"};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("invalid check reply"), std::string::npos)
        << r.error().message;
}

TEST_F(ConversationTest, TransportTimeoutKeepsItsStatus) {
    ScriptedStream s;
    s.chunks = {hello()};
    s.fail_after_script = HostFailure{HostStatus::Timeout, "run", "timed out", false, false};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::Timeout);
    EXPECT_NE(r.error().message.find("probe reply"), std::string::npos) << r.error().message;
}

TEST_F(ConversationTest, PlainObjectGoesToAnyArchitecture) {
    // A plain .bpf.o carries no platform: an s390x host is sent it too (only
    // OCI images say which architectures they have).
    ScriptedStream s;
    m_machine = "s390x";
    s.chunks = {hello("s390x"), probe(), check_reply(1), "{\"type\":\"bye\"}\n"};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(host.checks.size(), 1u);
}

TEST_F(ConversationTest, FactsOfTheWrongTypeAreAnAgentErrorNamingTheField) {
    ScriptedStream s;
    Json reply = Json::parse(probe());
    reply["facts"]["kernel"]["release"] = 42;
    s.chunks = {hello(), reply.dump() + "\n"};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("probe.facts.kernel.release: expected a string or null, got "
                                     "an integer"),
              std::string::npos)
        << r.error().message;
    EXPECT_FALSE(host.facts);
}

TEST_F(ConversationTest, FactsANewerAgentAddsAreKept) {
    ScriptedStream s;
    Json reply = Json::parse(probe());
    reply["facts"]["kernel"]["config_hash"] = "abc";
    reply["facts"]["firmware"] = {{"uefi", true}};
    s.chunks = {hello(), reply.dump() + "\n", check_reply(1), "{\"type\":\"bye\"}\n"};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(host.facts);
    const Json written = *host.facts;
    EXPECT_EQ(written["kernel"]["config_hash"], "abc") << written.dump();
    EXPECT_EQ(written["firmware"]["uefi"], true) << written.dump();
}

TEST_F(ConversationTest, HelloWithoutABuildIdIsRefusedNamingIt) {
    ScriptedStream s;
    Json h = Json::parse(hello());
    h["agent"].erase("build_id");
    s.chunks = {h.dump() + "\n"};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("hello.agent.build_id: missing"), std::string::npos)
        << r.error().message;
}

TEST_F(ConversationTest, AnErrorReplyIsAnAgentErrorWithTheAgentsWords) {
    ScriptedStream s;
    s.chunks = {hello(), protocol::encode(protocol::ErrorReply{std::nullopt, "no probe today"})};
    HostResult host;
    auto r = talk(s, host);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, HostStatus::AgentError);
    EXPECT_NE(r.error().message.find("answered the probe with an error: no probe today"),
              std::string::npos)
        << r.error().message;
}

TEST_F(ConversationTest, TheCheckRequestIsTheTypedMessage) {
    ScriptedStream s;
    s.chunks = {hello(), probe(), check_reply(1), "{\"type\":\"bye\"}\n"};
    m_plan.options.load_only = true;
    m_plan.options.timeout_seconds = 30;
    HostResult host;
    ASSERT_TRUE(talk(s, host));
    // The line after the probe request, read back with the agent's parser.
    const auto start = s.written.find("{\"type\":\"check\"");
    ASSERT_NE(start, std::string::npos) << s.written.substr(0, 300);
    const auto line = s.written.substr(start, s.written.find('\n', start) - start);
    auto request = protocol::parse_check_request(Json::parse(line));
    ASSERT_TRUE(request) << request.error().message;
    EXPECT_EQ(request->id, 1u);
    EXPECT_EQ(request->name, "pass.bpf.o");
    EXPECT_EQ(request->size, m_artifacts[0].artifact.objects[0].bytes->size());
    EXPECT_EQ(request->sha256, m_artifacts[0].artifact.objects[0].object_sha256);
    EXPECT_TRUE(request->options.load_only);
    EXPECT_EQ(request->options.timeout_seconds, 30u);
}

} // namespace
} // namespace bpfleet::fleet
