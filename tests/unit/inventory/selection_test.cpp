#include "inventory/inventory.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <set>

namespace bpfleet::inventory {
namespace {

const LocalEnvironment kEnv{"/home/tester", "tester"};

Inventory fleet() {
    auto inventory = parse_inventory(R"(
[hosts.bastion]
jump_only = true
[groups.boards]
hosts = ["rpi4-01", "rpi5-01", "rock5b-01"]
tags = ["arm64"]
[groups.rhel]
hosts = ["rhel8-db", "rhel9-app"]
tags = ["x86_64"]
[hosts.rpi4-01]
[hosts.rpi5-01]
[hosts.rock5b-01]
tags = ["slow"]
[hosts.rhel8-db]
tags = ["slow"]
[hosts.rhel9-app]
[hosts.graviton]
tags = ["arm64", "cloud"]
)",
                                     "fleet.toml", nullptr, kEnv);
    EXPECT_TRUE(inventory) << inventory.error().describe();
    return *inventory;
}

std::vector<std::string> names(const std::vector<InventoryHost>& hosts) {
    std::vector<std::string> out;
    for (const auto& h : hosts) {
        out.push_back(h.name);
    }
    return out;
}

std::vector<std::string> select(std::string_view selector) {
    auto selected = select_hosts(fleet(), selector);
    EXPECT_TRUE(selected) << selector << ": " << selected.error().describe();
    return selected ? names(*selected) : std::vector<std::string>{};
}

using Names = std::vector<std::string>;

TEST(Select, EmptyAllAndStarSelectEveryCheckableHost) {
    const Names all{"graviton", "rhel8-db", "rhel9-app", "rock5b-01", "rpi4-01", "rpi5-01"};
    EXPECT_EQ(select(""), all); // never the jump-only bastion
    EXPECT_EQ(select("all"), all);
    EXPECT_EQ(select("*"), all);
}

TEST(Select, NamesAndGlobs) {
    EXPECT_EQ(select("rpi4-01"), Names{"rpi4-01"});
    EXPECT_EQ(select("rpi5-01, rhel8-db"), (Names{"rhel8-db", "rpi5-01"}));
    EXPECT_EQ(select("rpi*"), (Names{"rpi4-01", "rpi5-01"}));
    EXPECT_EQ(select("r??l*"), (Names{"rhel8-db", "rhel9-app"}));
}

TEST(Select, TagsAndGroups) {
    EXPECT_EQ(select("tag:arm64"), (Names{"graviton", "rock5b-01", "rpi4-01", "rpi5-01"}));
    EXPECT_EQ(select("group:rhel"), (Names{"rhel8-db", "rhel9-app"}));
    EXPECT_EQ(select("group:boards,tag:cloud"),
              (Names{"graviton", "rock5b-01", "rpi4-01", "rpi5-01"}));
    EXPECT_EQ(select("tag:x86*"), (Names{"rhel8-db", "rhel9-app"}));
    EXPECT_EQ(select("group:r*"), (Names{"rhel8-db", "rhel9-app"}));
}

TEST(Select, NegationRemoves) {
    EXPECT_EQ(select("tag:arm64,!tag:slow"), (Names{"graviton", "rpi4-01", "rpi5-01"}));
    EXPECT_EQ(select("group:boards,!rpi4-01"), (Names{"rock5b-01", "rpi5-01"}));
    // A negation wins whatever the order.
    EXPECT_EQ(select("!rpi4-01,group:boards"), (Names{"rock5b-01", "rpi5-01"}));
}

TEST(Select, OnlyNegationsMeanAllBut) {
    EXPECT_EQ(select("!tag:slow"), (Names{"graviton", "rhel9-app", "rpi4-01", "rpi5-01"}));
    EXPECT_EQ(select("!group:boards, !graviton"), (Names{"rhel8-db", "rhel9-app"}));
}

TEST(Select, UnknownNamesAreAllNamed) {
    auto selected = select_hosts(fleet(), "rpi4-01,nope,rpi9");
    ASSERT_FALSE(selected);
    EXPECT_EQ(selected.error().code, "SELECTOR_INVALID");
    EXPECT_EQ(selected.error().context, "--limit");
    EXPECT_NE(selected.error().message.find("unknown hosts nope, rpi9"), std::string::npos)
        << selected.error().message;
    // Also under a negation: a typo there would silently select too much.
    EXPECT_FALSE(select_hosts(fleet(), "!rpi4-0"));
}

TEST(Select, Errors) {
    struct Case {
        const char* selector;
        const char* message;
    };
    for (const Case& c :
         {Case{"group:nope", "unknown group 'nope'"}, Case{"rpi4-01,,rpi5-01", "empty term"},
          Case{"!", "empty term"}, Case{"tag:", "'tag:' needs a tag name"},
          Case{"group:", "'group:' needs a group name"},
          Case{"role:db", "unknown selector 'role:'"}, Case{"bastion", "jump host only"},
          Case{"tag:nothing", "selects no host"}, Case{"zzz*", "selects no host"},
          Case{"!all", "selects no host"}}) {
        auto selected = select_hosts(fleet(), c.selector);
        ASSERT_FALSE(selected) << c.selector;
        EXPECT_EQ(selected.error().code, "SELECTOR_INVALID");
        EXPECT_NE(selected.error().message.find(c.message), std::string::npos)
            << c.selector << ": " << selected.error().message;
    }
}

TEST(Select, AmpersandKeepsOnlyHostsInEveryIntersection) {
    // Ansible's "boards:&slow": boards that are also slow.
    EXPECT_EQ(select("group:boards,&tag:slow"), (Names{"rock5b-01"}));
    EXPECT_EQ(select("tag:arm64,&tag:cloud"), (Names{"graviton"}));
    // Only intersections: all hosts, narrowed.
    EXPECT_EQ(select("&tag:slow"), (Names{"rhel8-db", "rock5b-01"}));
    EXPECT_EQ(select("all,&tag:slow,!rhel8-db"), (Names{"rock5b-01"}));
    auto none = select_hosts(fleet(), "group:rhel,&group:boards");
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("selects no host"), std::string::npos);
}

TEST(Select, AtFileReadsAHostListWithCommentsAndPlacesErrors) {
    char dir[] = "/tmp/bpfleet-select.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    std::string list = std::string(dir) + "/failed.txt";
    {
        std::ofstream out(list);
        out << "# the hosts that failed last night\nrpi4-01\n\n  rhel9-app  \r\n";
    }
    EXPECT_EQ(select("@" + list), (Names{"rhel9-app", "rpi4-01"}));
    EXPECT_EQ(select("group:boards,!@" + list), (Names{"rock5b-01", "rpi5-01"}));
    EXPECT_EQ(select("tag:arm64,&@" + list), (Names{"rpi4-01"}));
    {
        std::ofstream out(list);
        out << "rpi4-01\nrpi4-O1\n";
    }
    auto typo = select_hosts(fleet(), "@" + list);
    ASSERT_FALSE(typo);
    EXPECT_NE(typo.error().message.find("unknown host rpi4-O1 (" + list +
                                        ":2) (did you mean 'rpi4-01'?)"),
              std::string::npos)
        << typo.error().message;
    auto missing = select_hosts(fleet(), "@" + std::string(dir) + "/nope.txt");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().context, "--limit @" + std::string(dir) + "/nope.txt");
    std::filesystem::remove_all(dir);
}

TEST(Select, UnknownNamesGetTheNearestKnownName) {
    auto host = select_hosts(fleet(), "rhel9-ap");
    ASSERT_FALSE(host);
    EXPECT_NE(host.error().message.find("unknown host rhel9-ap (did you mean 'rhel9-app'?)"),
              std::string::npos)
        << host.error().message;
    auto far = select_hosts(fleet(), "mainframe");
    ASSERT_FALSE(far);
    EXPECT_EQ(far.error().message.find("did you mean"), std::string::npos);
    auto group = select_hosts(fleet(), "group:board");
    ASSERT_FALSE(group);
    EXPECT_NE(group.error().message.find("(did you mean 'boards'?)"), std::string::npos)
        << group.error().message;
}

TEST(Shard, ParsesIOverN) {
    auto spec = parse_shard("2/5");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec->index, 2u);
    EXPECT_EQ(spec->count, 5u);
    EXPECT_TRUE(parse_shard("1/1"));
    EXPECT_TRUE(parse_shard("100000/100000"));
}

TEST(Shard, ParseErrors) {
    struct Case {
        const char* text;
        const char* message;
    };
    for (const Case& c :
         {Case{"0/3", "I counts from 1"}, Case{"4/3", "I must not be greater than N"},
          Case{"1/0", "N must be"}, Case{"1/100001", "N must be"}, Case{"", "expected I/N"},
          Case{"3", "expected I/N"}, Case{"a/b", "decimal"}, Case{"1/2/3", "decimal"},
          Case{" 1/2", "decimal"}, Case{"-1/2", "decimal"}, Case{"+1/2", "decimal"},
          Case{"1/", "decimal"}, Case{"99999999999999999999/1", "decimal"}}) {
        auto spec = parse_shard(c.text);
        ASSERT_FALSE(spec) << c.text;
        EXPECT_EQ(spec.error().code, "SHARD_INVALID");
        EXPECT_EQ(spec.error().context, "--shard");
        EXPECT_NE(spec.error().message.find(c.message), std::string::npos)
            << c.text << ": " << spec.error().message;
    }
}

std::vector<InventoryHost> make_hosts(std::size_t n) {
    std::vector<InventoryHost> hosts;
    for (std::size_t i = 0; i < n; ++i) {
        InventoryHost h;
        h.name = "host-" + std::to_string(i * 7919 % 1009);
        hosts.push_back(h);
    }
    return hosts;
}

TEST(Shard, EveryHostInExactlyOneShardAndBalanced) {
    for (std::size_t n_hosts : {0u, 1u, 2u, 5u, 17u, 100u}) {
        for (std::size_t count = 1; count <= 8; ++count) {
            auto hosts = make_hosts(n_hosts);
            std::multiset<std::string> seen;
            std::size_t smallest = SIZE_MAX;
            std::size_t largest = 0;
            for (std::size_t index = 1; index <= count; ++index) {
                auto slice = shard(hosts, index, count);
                ASSERT_TRUE(slice);
                for (const auto& h : *slice) {
                    seen.insert(h.name);
                }
                smallest = std::min(smallest, slice->size());
                largest = std::max(largest, slice->size());
            }
            std::multiset<std::string> expected;
            for (const auto& h : hosts) {
                expected.insert(h.name);
            }
            EXPECT_EQ(seen, expected) << n_hosts << " hosts, " << count << " shards";
            EXPECT_LE(largest - smallest, 1u);
        }
    }
}

TEST(Shard, DeterministicWhateverTheInputOrder) {
    auto hosts = make_hosts(40);
    auto shuffled = hosts;
    std::mt19937 rng(42);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (std::size_t index = 1; index <= 3; ++index) {
        auto a = shard(hosts, index, 3);
        auto b = shard(shuffled, index, 3);
        ASSERT_TRUE(a && b);
        EXPECT_EQ(names(*a), names(*b));
        const auto sorted = names(*a);
        EXPECT_TRUE(std::is_sorted(sorted.begin(), sorted.end()));
    }
}

TEST(Shard, RoundRobinOverSortedNames) {
    std::vector<InventoryHost> hosts(5);
    const char* n[] = {"e", "c", "a", "d", "b"};
    for (int i = 0; i < 5; ++i) {
        hosts[i].name = n[i];
    }
    EXPECT_EQ(names(*shard(hosts, 1, 2)), (Names{"a", "c", "e"}));
    EXPECT_EQ(names(*shard(hosts, 2, 2)), (Names{"b", "d"}));
    EXPECT_EQ(names(*shard(hosts, 4, 4)), Names{"d"});
}

TEST(Shard, RejectsBadIndex) {
    auto hosts = make_hosts(3);
    EXPECT_FALSE(shard(hosts, 0, 2));
    EXPECT_FALSE(shard(hosts, 3, 2));
    EXPECT_FALSE(shard(hosts, 1, 0));
}

TEST(Shard, AfterSelection) {
    auto selected = select_hosts(fleet(), "tag:arm64");
    ASSERT_TRUE(selected);
    std::set<std::string> all;
    for (std::size_t i = 1; i <= 2; ++i) {
        auto slice = shard(*selected, i, 2);
        ASSERT_TRUE(slice);
        for (const auto& h : *slice) {
            all.insert(h.name);
        }
    }
    EXPECT_EQ(all.size(), 4u);
}

} // namespace
} // namespace bpfleet::inventory
