#include "bpf/elf_inspect.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <gelf.h>
#include <libelf.h>
#include <linux/btf.h>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#ifndef EM_BPF
#define EM_BPF 247
#endif

namespace bpfleet::bpf {
namespace {

struct ElfDeleter {
    void operator()(Elf* e) const { elf_end(e); }
};
using ElfHandle = std::unique_ptr<Elf, ElfDeleter>;

tl::unexpected<Error> invalid(std::string message) {
    return make_error("OBJECT_INVALID", std::move(message));
}

std::string hex_prefix(std::span<const std::uint8_t> bytes) {
    std::string out;
    char buf[8];
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 4); ++i) {
        std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", bytes[i]);
        out += buf;
    }
    return out;
}

bool range_ok(std::uint64_t offset, std::uint64_t size, std::uint64_t limit) {
    return offset <= limit && size <= limit - offset;
}

// Reads a T at `offset`; the caller has checked the range. memcpy because
// nothing in a hostile file is aligned.
template <typename T> T load(std::span<const std::uint8_t> data, std::uint64_t offset) {
    T value;
    std::memcpy(&value, data.data() + offset, sizeof value);
    return value;
}

std::string num(std::uint64_t v) {
    return std::to_string(v);
}

struct Section {
    std::size_t index = 0;
    GElf_Shdr hdr{};
    std::string name;
    std::span<const std::uint8_t> data; // empty for SHT_NOBITS and SHT_NULL
};

std::string label(const Section& s) {
    return "section " + num(s.index) + " '" + s.name + "'";
}

// ---- BTF -------------------------------------------------------------------
//
// libbpf 1.1 checks the BTF header and that every type record fits, but it
// follows type ids, name offsets and type chains without checking them. The
// rules below are the kernel's structural ones that libbpf's open and load
// paths rely on; each is a single linear pass.

constexpr std::uint32_t kBtfHeaderSize = 24; // struct btf_header
constexpr std::uint32_t kBtfTypeSize = 12;   // struct btf_type
constexpr std::uint32_t kBtfMaxStrOffset = 0x7fffffff;
constexpr std::uint16_t kBtfMagicSwapped = 0x9feb;
constexpr std::uint64_t kSizeCap = 1ull << 40;    // a resolved BTF size "too big for anything"
constexpr std::uint64_t kKconfigCap = 0x7fffffff; // libbpf's int for __kconfig sizes

const char* btf_kind_name(std::uint32_t kind) {
    static constexpr const char* kNames[] = {
        "UNKNOWN", "INT",     "PTR",      "ARRAY",    "STRUCT",   "UNION", "ENUM",
        "FWD",     "TYPEDEF", "VOLATILE", "CONST",    "RESTRICT", "FUNC",  "FUNC_PROTO",
        "VAR",     "DATASEC", "FLOAT",    "DECL_TAG", "TYPE_TAG", "ENUM64"};
    return kind < std::size(kNames) ? kNames[kind] : "?";
}

// What the .BTF.ext checks need to know about the .BTF they refer to.
struct BtfSummary {
    std::vector<std::uint8_t> kinds; // by type id; [0] is void
    std::uint32_t str_len = 0;
    std::uint64_t datasec_vars = 0; // entries of all DATASECs
};

// Bytes of type data after struct btf_type for `kind` with `vlen` entries,
// or -1 for a kind libbpf 1.1 does not know.
std::int64_t btf_extra_size(std::uint32_t kind, std::uint32_t vlen) {
    switch (kind) {
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG:
        return 0;
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
        return 4;
    case BTF_KIND_ARRAY:
        return 12;
    case BTF_KIND_ENUM:
    case BTF_KIND_FUNC_PROTO:
        return std::int64_t{vlen} * 8;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_DATASEC:
    case BTF_KIND_ENUM64:
        return std::int64_t{vlen} * 12;
    default:
        return -1;
    }
}

// One type record of the type section.
struct BtfTypeRef {
    std::uint32_t kind = 0;
    std::uint32_t offset = 0; // of the record in the type section
    std::uint32_t vlen = 0;
};

// Type-to-type edges in one flat array (a type's edges are contiguous, added
// in id order), so that a large BTF costs two allocations, not one per type.
struct TypeGraph {
    std::vector<std::uint32_t> first{0}; // edges of type i: to[first[i] .. first[i + 1])
    std::vector<std::uint32_t> to;

    void next_type() { first.push_back(static_cast<std::uint32_t>(to.size())); }
    void add(std::uint32_t target) { to.push_back(target); }
};

// Finds a cycle among types 1..n-1 iteratively (hostile input must not
// overflow our stack either). Returns a type on a cycle, or 0.
std::uint32_t find_cycle(const TypeGraph& g) {
    enum : std::uint8_t { kNew, kOnPath, kDone };
    const std::size_t n = g.first.size() - 1;
    std::vector<std::uint8_t> state(n, kNew);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> stack; // type, next edge
    for (std::uint32_t root = 1; root < n; ++root) {
        if (state[root] != kNew) {
            continue;
        }
        stack.emplace_back(root, g.first[root]);
        state[root] = kOnPath;
        while (!stack.empty()) {
            auto& [node, next] = stack.back();
            if (next == g.first[node + 1]) {
                state[node] = kDone;
                stack.pop_back();
                continue;
            }
            const std::uint32_t to = g.to[next++];
            if (to == 0 || state[to] == kDone) {
                continue;
            }
            if (state[to] == kOnPath) {
                return to;
            }
            state[to] = kOnPath;
            stack.emplace_back(to, g.first[to]);
        }
    }
    return 0;
}

Result<BtfSummary> check_btf(const Section& sec) {
    const auto data = sec.data;
    const std::string where = label(sec);
    if (data.size() < kBtfHeaderSize) {
        return invalid(where + " is " + num(data.size()) + " bytes, shorter than the " +
                       num(kBtfHeaderSize) + "-byte BTF header");
    }
    const auto magic = load<std::uint16_t>(data, 0);
    const auto version = load<std::uint8_t>(data, 2);
    const auto hdr_len = load<std::uint32_t>(data, 4);
    const auto type_off = load<std::uint32_t>(data, 8);
    const auto type_len = load<std::uint32_t>(data, 12);
    const auto str_off = load<std::uint32_t>(data, 16);
    const auto str_len = load<std::uint32_t>(data, 20);
    if (magic != BTF_MAGIC) {
        if (magic == kBtfMagicSwapped) {
            return invalid(where + ": the BTF is in the opposite byte order to the object");
        }
        char buf[8];
        std::snprintf(buf, sizeof buf, "%04x", magic);
        return invalid(where + ": bad BTF magic 0x" + buf + " (expected 0xeb9f)");
    }
    if (version != BTF_VERSION) {
        return invalid(where + ": unsupported BTF version " + num(version));
    }
    if (hdr_len < kBtfHeaderSize || hdr_len > data.size()) {
        return invalid(where + ": BTF header length " + num(hdr_len) + " is outside 24.." +
                       num(data.size()));
    }
    const std::uint64_t body = data.size() - hdr_len;
    if (type_off % 4 != 0 || !range_ok(type_off, type_len, body) ||
        !range_ok(str_off, str_len, body) || std::uint64_t{type_off} + type_len > str_off) {
        return invalid(where + ": BTF layout is invalid (types at " + num(type_off) + " + " +
                       num(type_len) + ", strings at " + num(str_off) + " + " + num(str_len) +
                       ", " + num(body) + " bytes after the header)");
    }
    const auto strs = data.subspan(hdr_len + std::uint64_t{str_off}, str_len);
    if (strs.empty() || strs.front() != 0 || strs.back() != 0 || str_len - 1 > kBtfMaxStrOffset) {
        return invalid(where + ": the BTF string section (" + num(str_len) +
                       " bytes) must start and end with a NUL byte");
    }
    const auto types = data.subspan(hdr_len + std::uint64_t{type_off}, type_len);

    // First pass: record boundaries and kinds, so that ids can be checked.
    BtfSummary summary;
    summary.str_len = str_len;
    summary.kinds.push_back(BTF_KIND_UNKN);
    std::vector<BtfTypeRef> refs(1);
    std::uint64_t pos = 0;
    while (pos < types.size()) {
        const std::uint32_t id = static_cast<std::uint32_t>(refs.size());
        if (types.size() - pos < kBtfTypeSize) {
            return invalid(where + ": BTF type [" + num(id) + "] at offset " + num(pos) +
                           " is cut off by the end of the type section");
        }
        const auto info = load<std::uint32_t>(types, pos + 4);
        BtfTypeRef ref{BTF_INFO_KIND(info), static_cast<std::uint32_t>(pos), BTF_INFO_VLEN(info)};
        const std::int64_t extra = btf_extra_size(ref.kind, ref.vlen);
        if (extra < 0 || ref.kind == BTF_KIND_UNKN) {
            return invalid(where + ": BTF type [" + num(id) + "] has unknown kind " +
                           num(ref.kind));
        }
        if (types.size() - pos - kBtfTypeSize < static_cast<std::uint64_t>(extra)) {
            return invalid(where + ": BTF type [" + num(id) + "] (" + btf_kind_name(ref.kind) +
                           ", " + num(ref.vlen) + " entries) runs past the type section");
        }
        summary.kinds.push_back(static_cast<std::uint8_t>(ref.kind));
        refs.push_back(ref);
        pos += kBtfTypeSize + static_cast<std::uint64_t>(extra);
    }
    const std::uint64_t count = refs.size();

    auto type_desc = [&](std::uint32_t id) {
        return "BTF type [" + num(id) + "] (" + btf_kind_name(refs[id].kind) + ")";
    };
    auto name_ok = [&](std::uint32_t off) { return off < str_len; };
    auto part = [](const std::string& what) { return what.empty() ? what : " " + what; };
    auto bad_name = [&](std::uint32_t id, const std::string& what, std::uint32_t off) {
        return invalid(where + ": " + type_desc(id) + part(what) + ": name offset " + num(off) +
                       " is past the " + num(str_len) + "-byte string section");
    };
    auto bad_ref = [&](std::uint32_t id, const std::string& what, std::uint32_t to) {
        return invalid(where + ": " + type_desc(id) + part(what) + " refers to type " + num(to) +
                       ", but there are only " + num(count) + " types (0.." + num(count - 1) + ")");
    };

    // Second pass: every name offset and type id, and the kind rules
    // libbpf assumes. `contains` are the by-value edges (no cycle allowed:
    // libbpf's size and alignment walks recurse on them); `chain` also
    // follows pointers through the single-reference kinds.
    TypeGraph contains;
    TypeGraph chain;
    contains.next_type(); // void has no edges
    chain.next_type();
    for (std::uint32_t id = 1; id < count; ++id, contains.next_type(), chain.next_type()) {
        const auto& ref = refs[id];
        const std::uint64_t at = ref.offset;
        const auto name_off = load<std::uint32_t>(types, at);
        const auto type = load<std::uint32_t>(types, at + 8);
        const std::uint64_t rest = at + kBtfTypeSize;
        if (!name_ok(name_off)) {
            return bad_name(id, "", name_off);
        }
        switch (ref.kind) {
        case BTF_KIND_PTR:
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_TYPE_TAG:
        case BTF_KIND_VAR:
        case BTF_KIND_DECL_TAG:
        case BTF_KIND_FUNC:
            if (type >= count) {
                return bad_ref(id, "", type);
            }
            if (ref.kind == BTF_KIND_FUNC && refs[type].kind != BTF_KIND_FUNC_PROTO) {
                return invalid(where + ": " + type_desc(id) + " refers to type [" + num(type) +
                               "] of kind " + btf_kind_name(refs[type].kind) + ", not FUNC_PROTO");
            }
            if ((ref.kind == BTF_KIND_VAR || ref.kind == BTF_KIND_DECL_TAG) && type == 0) {
                return invalid(where + ": " + type_desc(id) + " has no type (void)");
            }
            chain.add(type);
            if (ref.kind != BTF_KIND_PTR) {
                contains.add(type);
            }
            break;
        case BTF_KIND_ARRAY: {
            const auto elem = load<std::uint32_t>(types, rest);
            const auto index = load<std::uint32_t>(types, rest + 4);
            if (elem >= count) {
                return bad_ref(id, "element type", elem);
            }
            if (index >= count) {
                return bad_ref(id, "index type", index);
            }
            chain.add(elem);
            contains.add(elem);
            break;
        }
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
        case BTF_KIND_FUNC_PROTO:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64: {
            const bool members = ref.kind == BTF_KIND_STRUCT || ref.kind == BTF_KIND_UNION;
            const bool params = ref.kind == BTF_KIND_FUNC_PROTO;
            const std::uint32_t stride = (members || ref.kind == BTF_KIND_ENUM64) ? 12 : 8;
            if (params) {
                if (type >= count) {
                    return bad_ref(id, "return type", type);
                }
                contains.add(type);
            }
            for (std::uint32_t i = 0; i < ref.vlen; ++i) {
                const std::uint64_t e = rest + std::uint64_t{i} * stride;
                const auto e_name = load<std::uint32_t>(types, e);
                if (!name_ok(e_name)) {
                    return bad_name(id,
                                    (params    ? "parameter "
                                     : members ? "member "
                                               : "value ") +
                                        num(i),
                                    e_name);
                }
                if (members || params) {
                    const auto e_type = load<std::uint32_t>(types, e + 4);
                    if (e_type >= count) {
                        return bad_ref(id, (params ? "parameter " : "member ") + num(i), e_type);
                    }
                    contains.add(e_type);
                }
            }
            break;
        }
        case BTF_KIND_DATASEC: {
            const bool ksyms =
                std::string_view(reinterpret_cast<const char*>(strs.data()) + name_off) == ".ksyms";
            for (std::uint32_t i = 0; i < ref.vlen; ++i) {
                const auto v_type = load<std::uint32_t>(types, rest + std::uint64_t{i} * 12);
                if (v_type >= count) {
                    return bad_ref(id, "variable " + num(i), v_type);
                }
                const auto v_kind = refs[v_type].kind;
                if (v_kind != BTF_KIND_VAR && !(ksyms && v_kind == BTF_KIND_FUNC)) {
                    return invalid(where + ": " + type_desc(id) + " variable " + num(i) +
                                   " is type [" + num(v_type) + "] of kind " +
                                   btf_kind_name(v_kind) + ", not VAR" + (ksyms ? " or FUNC" : ""));
                }
                contains.add(v_type);
            }
            break;
        }
        default: // INT, FWD, FLOAT: no references
            break;
        }
    }
    if (const auto at = find_cycle(contains)) {
        return invalid(where + ": " + type_desc(at) +
                       " contains itself (a BTF type loop not broken by a pointer)");
    }
    // Only single-reference kinds have chain edges; a cycle there is a
    // pointer/modifier loop with no base type.
    if (const auto at = find_cycle(chain)) {
        return invalid(where + ": " + type_desc(at) +
                       " is on a loop of pointers/modifiers with no base type");
    }

    // Third pass, now that every chain ends: DATASEC entries must fit.
    // libbpf adds a variable's offset and its type's size in 32 bits before
    // comparing with the section (struct_ops) and then copies that much.
    auto name_at = [&](std::uint32_t off) {
        return std::string(reinterpret_cast<const char*>(strs.data()) + off);
    };
    auto resolved_size = [&](std::uint32_t id) -> std::uint64_t {
        auto mul = [](std::uint64_t a, std::uint64_t b) {
            return (b != 0 && a > kSizeCap / b) ? kSizeCap : std::min(a * b, kSizeCap);
        };
        std::uint64_t factor = 1;
        for (std::uint64_t steps = 0; steps < count && id != 0; ++steps) {
            const auto& r = refs[id];
            const auto size_or_type = load<std::uint32_t>(types, r.offset + 8);
            switch (r.kind) {
            case BTF_KIND_INT:
            case BTF_KIND_ENUM:
            case BTF_KIND_ENUM64:
            case BTF_KIND_STRUCT:
            case BTF_KIND_UNION:
            case BTF_KIND_DATASEC:
            case BTF_KIND_FLOAT:
                return mul(factor, size_or_type);
            case BTF_KIND_PTR:
                return mul(factor, 8);
            case BTF_KIND_ARRAY:
                factor = mul(factor, load<std::uint32_t>(types, r.offset + kBtfTypeSize + 8));
                id = load<std::uint32_t>(types, r.offset + kBtfTypeSize);
                break;
            case BTF_KIND_TYPEDEF:
            case BTF_KIND_VOLATILE:
            case BTF_KIND_CONST:
            case BTF_KIND_RESTRICT:
            case BTF_KIND_TYPE_TAG:
            case BTF_KIND_VAR:
            case BTF_KIND_DECL_TAG:
                id = size_or_type;
                break;
            default: // FWD, FUNC, FUNC_PROTO: no size
                return 0;
            }
        }
        return 0;
    };
    for (std::uint32_t id = 1; id < count; ++id) {
        const auto& ref = refs[id];
        if (ref.kind != BTF_KIND_DATASEC) {
            continue;
        }
        const auto sec_name = name_at(load<std::uint32_t>(types, ref.offset));
        const auto sec_size = load<std::uint32_t>(types, ref.offset + 8);
        // libbpf rewrites the offsets and sizes of extern sections itself.
        const bool externs = sec_name == ".kconfig" || sec_name == ".ksyms";
        summary.datasec_vars += ref.vlen;
        // libbpf keeps a `__kconfig` extern's size, and the running offset
        // of all of them, in an int: a size that does not fit comes back
        // from its open as an "error" outside the errno range, which it
        // then returns as if it were the object.
        std::uint64_t kconfig_bytes = 0;
        for (std::uint32_t i = 0; i < ref.vlen; ++i) {
            const std::uint64_t e = ref.offset + kBtfTypeSize + std::uint64_t{i} * 12;
            const auto v_type = load<std::uint32_t>(types, e);
            const std::uint64_t v_off = load<std::uint32_t>(types, e + 4);
            const std::uint64_t v_size = load<std::uint32_t>(types, e + 8);
            const std::string var = where + ": DATASEC '" + sec_name + "' (type [" + num(id) +
                                    "]) variable " + num(i) + " '" +
                                    name_at(load<std::uint32_t>(types, refs[v_type].offset)) +
                                    "' (offset " + num(v_off) + ", size " + num(v_size) + ")";
            if (v_off + v_size > 0xffffffffull) {
                return invalid(var + " overflows 32 bits");
            }
            if (sec_size != 0 && v_off + v_size > sec_size) {
                return invalid(var + " runs past the " + num(sec_size) + "-byte section");
            }
            if (sec_name == ".kconfig" && refs[v_type].kind == BTF_KIND_VAR) {
                // Each one may be padded to its alignment (at most 16 bytes).
                kconfig_bytes += resolved_size(v_type) + 16;
                if (kconfig_bytes > kKconfigCap) {
                    return invalid(var + ": the __kconfig externs take more than " +
                                   num(kKconfigCap) + " bytes, which libbpf cannot hold");
                }
            }
            if (!externs && refs[v_type].kind == BTF_KIND_VAR) {
                const auto needed = resolved_size(v_type);
                if (needed > v_size) {
                    return invalid(var + " is smaller than its type (" + num(needed) + " bytes)");
                }
            }
        }
    }
    return summary;
}

// .BTF.ext: header, then func_info, line_info and (optionally) CO-RE
// relocation subsections, each a record size followed by per-section blocks.
Result<void> check_btf_ext(const Section& sec, const BtfSummary& btf) {
    const auto data = sec.data;
    const std::string where = label(sec);
    constexpr std::uint32_t kMinHeader = 24; // up to line_info_len; 32 with CO-RE relocations
    if (data.size() < 8) {
        return invalid(where + " is " + num(data.size()) + " bytes, too short for a header");
    }
    const auto magic = load<std::uint16_t>(data, 0);
    const auto version = load<std::uint8_t>(data, 2);
    const auto flags = load<std::uint8_t>(data, 3);
    const auto hdr_len = load<std::uint32_t>(data, 4);
    if (magic != BTF_MAGIC) {
        return invalid(where + ": bad BTF.ext magic (expected 0xeb9f in the object's byte order)");
    }
    if (version != BTF_VERSION || flags != 0) {
        return invalid(where + ": unsupported BTF.ext version " + num(version) + " / flags " +
                       num(flags));
    }
    if (hdr_len < kMinHeader || hdr_len > data.size()) {
        return invalid(where + ": BTF.ext header length " + num(hdr_len) + " is outside " +
                       num(kMinHeader) + ".." + num(data.size()));
    }
    const std::uint64_t body = data.size() - hdr_len;

    struct Sub {
        const char* name;
        std::uint32_t off_field;
        std::uint32_t min_record;
    };
    static constexpr Sub kSubs[] = {
        {"func_info", 8, 8}, {"line_info", 16, 16}, {"CO-RE relocation", 24, 16}};
    for (const auto& sub : kSubs) {
        if (sub.off_field + 8 > hdr_len) { // an older, shorter header
            continue;
        }
        const auto off = load<std::uint32_t>(data, sub.off_field);
        const auto len = load<std::uint32_t>(data, sub.off_field + 4);
        if (len == 0) {
            continue;
        }
        const std::string what = where + ": " + sub.name + " subsection";
        if (off % 4 != 0 || !range_ok(off, len, body)) {
            return invalid(what + " (offset " + num(off) + ", " + num(len) +
                           " bytes) is misaligned or runs past the section");
        }
        const auto info = data.subspan(hdr_len + std::uint64_t{off}, len);
        if (info.size() < 4) {
            return invalid(what + " has no record size");
        }
        const auto record = load<std::uint32_t>(info, 0);
        if (record < sub.min_record || record % 4 != 0) {
            return invalid(what + " has an invalid record size " + num(record));
        }
        std::uint64_t pos = 4;
        for (std::uint32_t block = 0; pos < info.size(); ++block) {
            if (info.size() - pos < 8) {
                return invalid(what + " block " + num(block) + " header is cut off");
            }
            const auto sec_name_off = load<std::uint32_t>(info, pos);
            const auto count = load<std::uint32_t>(info, pos + 4);
            pos += 8;
            if (sec_name_off >= btf.str_len) {
                return invalid(what + " block " + num(block) + " has section name offset " +
                               num(sec_name_off) + " past the BTF string section");
            }
            if (count == 0 || std::uint64_t{count} * record > info.size() - pos) {
                return invalid(what + " block " + num(block) + " claims " + num(count) +
                               " records of " + num(record) + " bytes, which do not fit");
            }
            for (std::uint32_t r = 0; r < count; ++r, pos += record) {
                const auto f1 = load<std::uint32_t>(info, pos + 4);
                const auto f2 = sub.min_record >= 12 ? load<std::uint32_t>(info, pos + 8) : 0;
                const std::string rec = what + " block " + num(block) + " record " + num(r);
                if (sub.off_field == 8) { // insn_off, type_id
                    if (f1 >= btf.kinds.size() || btf.kinds[f1] != BTF_KIND_FUNC) {
                        return invalid(rec + " refers to BTF type " + num(f1) +
                                       ", which is not a FUNC");
                    }
                } else if (sub.off_field == 16) { // insn_off, file_name_off, line_off, col
                    if (f1 >= btf.str_len || f2 >= btf.str_len) {
                        return invalid(rec + " has a file or line string offset past the BTF "
                                             "string section");
                    }
                } else { // insn_off, type_id, access_str_off, kind
                    if (f1 >= btf.kinds.size()) {
                        return invalid(rec + " refers to BTF type " + num(f1) +
                                       ", which does not exist");
                    }
                    if (f2 >= btf.str_len) {
                        return invalid(rec + " has an access string offset " + num(f2) +
                                       " past the BTF string section");
                    }
                }
            }
        }
    }
    return {};
}

} // namespace

Result<ElfFacts> inspect_elf(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) {
        return invalid("the file is empty (0 bytes)");
    }
    if (bytes.size() < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) {
        return invalid("not an ELF file: it starts with bytes " + hex_prefix(bytes) +
                       ", not the ELF magic 7f 45 4c 46");
    }
    if (bytes[EI_CLASS] != ELFCLASS64) {
        return invalid("ELF class is " +
                       std::string(bytes[EI_CLASS] == ELFCLASS32 ? "32-bit" : "invalid") +
                       "; BPF objects are 64-bit ELF");
    }
    // libbpf only opens objects in the host's byte order, and everything
    // below reads the file as host-order structures.
    constexpr bool kHostLittle = std::endian::native == std::endian::little;
    const auto host_data = kHostLittle ? ELFDATA2LSB : ELFDATA2MSB;
    if (bytes[EI_DATA] != host_data) {
        const auto d = bytes[EI_DATA];
        return invalid(std::string("ELF byte order is ") +
                       (d == ELFDATA2LSB   ? "little-endian"
                        : d == ELFDATA2MSB ? "big-endian"
                                           : "invalid (" + num(d) + ")") +
                       " but this host is " + (kHostLittle ? "little" : "big") +
                       "-endian; libbpf only opens BPF objects built for the host's byte order");
    }
    if (bytes.size() < sizeof(Elf64_Ehdr)) {
        return invalid("truncated ELF: " + std::to_string(bytes.size()) +
                       " bytes, shorter than the 64-byte ELF header");
    }
    // libelf quietly reports no sections when the table is cut off; say so.
    const auto raw_ehdr = load<Elf64_Ehdr>(bytes, 0);
    if (raw_ehdr.e_shoff != 0 &&
        !range_ok(raw_ehdr.e_shoff,
                  std::uint64_t{std::max<Elf64_Half>(raw_ehdr.e_shnum, 1)} * sizeof(Elf64_Shdr),
                  bytes.size())) {
        return invalid("truncated ELF: the section header table at offset " +
                       num(raw_ehdr.e_shoff) + " (" + num(raw_ehdr.e_shnum) +
                       " entries) runs past the end of the file (" + num(bytes.size()) + " bytes)");
    }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        return make_error("internal", "libelf initialisation failed");
    }
    // ELF_C_READ_MEMORY never writes to the image.
    ElfHandle elf(
        elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size()));
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF) {
        return invalid(std::string("libelf cannot parse the file: ") + elf_errmsg(-1));
    }
    GElf_Ehdr ehdr;
    if (!gelf_getehdr(elf.get(), &ehdr)) {
        return invalid(std::string("unreadable ELF header: ") + elf_errmsg(-1));
    }
    if (ehdr.e_machine != EM_BPF) {
        return invalid("ELF machine is " + std::to_string(ehdr.e_machine) +
                       ", not BPF (247): this is not a BPF object (built for another CPU?)");
    }
    if (ehdr.e_type != ET_REL) {
        return invalid("ELF type is " + std::to_string(ehdr.e_type) +
                       ", not ET_REL (1): BPF objects are relocatable files");
    }
    std::size_t shnum = 0;
    std::size_t shstrndx = 0;
    if (elf_getshdrnum(elf.get(), &shnum) != 0 || elf_getshdrstrndx(elf.get(), &shstrndx) != 0) {
        return invalid(std::string("unreadable section header table: ") + elf_errmsg(-1));
    }
    if (shnum == 0) {
        return invalid("the ELF file has no sections");
    }
    if (!range_ok(ehdr.e_shoff, std::uint64_t{shnum} * sizeof(Elf64_Shdr), bytes.size())) {
        return invalid("truncated ELF: the section header table at offset " +
                       std::to_string(ehdr.e_shoff) + " runs past the end of the file (" +
                       std::to_string(bytes.size()) + " bytes)");
    }
    if (shstrndx >= shnum) {
        return invalid("section name table index " + std::to_string(shstrndx) + " is out of range");
    }

    std::vector<Section> sections;
    sections.reserve(shnum);
    for (std::size_t i = 0; i < shnum; ++i) {
        Elf_Scn* scn = elf_getscn(elf.get(), i);
        Section s;
        s.index = i;
        if (!scn || !gelf_getshdr(scn, &s.hdr)) {
            return invalid("section " + std::to_string(i) + " has an unreadable header");
        }
        if (i != 0) {
            const char* name = elf_strptr(elf.get(), shstrndx, s.hdr.sh_name);
            if (!name) {
                return invalid("section " + std::to_string(i) +
                               " has a name offset outside the section name table");
            }
            s.name = name;
        }
        if (s.hdr.sh_type != SHT_NOBITS && s.hdr.sh_type != SHT_NULL) {
            if (!range_ok(s.hdr.sh_offset, s.hdr.sh_size, bytes.size())) {
                return invalid("truncated ELF: section " + std::to_string(i) + " '" + s.name +
                               "' (offset " + std::to_string(s.hdr.sh_offset) + ", size " +
                               std::to_string(s.hdr.sh_size) + ") runs past the end of the file (" +
                               std::to_string(bytes.size()) + " bytes)");
            }
            s.data = bytes.subspan(s.hdr.sh_offset, s.hdr.sh_size);
        }
        sections.push_back(std::move(s));
    }

    ElfFacts facts;
    const Section* symtab = nullptr;
    std::vector<const Section*> btf_sections;
    std::vector<const Section*> btf_ext_sections;
    for (const auto& s : sections) {
        if (s.hdr.sh_type == SHT_SYMTAB) {
            if (symtab) {
                return invalid("the object has more than one symbol table (sections " +
                               std::to_string(symtab->index) + " and " + std::to_string(s.index) +
                               ")");
            }
            symtab = &s;
        }
        if (s.name == "maps" && s.hdr.sh_type != SHT_NOBITS) {
            return invalid("section 'maps' holds legacy map definitions (struct bpf_map_def), "
                           "which libbpf 1.0+ no longer loads: declare maps in '.maps' with "
                           "BTF (__uint/__type) instead");
        }
        if (s.name == ".BTF" || s.name == ".BTF.ext") {
            if (s.hdr.sh_type != SHT_PROGBITS) {
                return invalid(label(s) + " has ELF type " + num(s.hdr.sh_type) +
                               ", not SHT_PROGBITS");
            }
            (s.name == ".BTF" ? btf_sections : btf_ext_sections).push_back(&s);
        }
        if (s.name == ".BTF") {
            facts.has_btf = true;
        } else if (s.name == ".BTF.ext") {
            facts.has_btf_ext = true;
        } else if (s.name == "license" && s.hdr.sh_type == SHT_PROGBITS) {
            for (std::uint8_t c : s.data) {
                if (c == 0 || facts.license.size() >= 128) {
                    break;
                }
                facts.license.push_back((c >= 0x20 && c < 0x7f) ? char(c) : '?');
            }
        }
        if (s.hdr.sh_type == SHT_PROGBITS && (s.hdr.sh_flags & SHF_EXECINSTR) &&
            s.hdr.sh_size > 0) {
            if (s.hdr.sh_size % 8 != 0) {
                return invalid("program section '" + s.name + "' is " +
                               std::to_string(s.hdr.sh_size) +
                               " bytes, not a whole number of 8-byte BPF instructions");
            }
            ++facts.program_sections;
        }
    }
    if (!symtab) {
        return invalid("the object has no symbol table (was it stripped?); libbpf needs one");
    }
    if (symtab->hdr.sh_entsize != sizeof(Elf64_Sym) || symtab->hdr.sh_link >= shnum ||
        sections[symtab->hdr.sh_link].hdr.sh_type != SHT_STRTAB) {
        return invalid("the symbol table (section " + std::to_string(symtab->index) +
                       ") has a bad entry size or string table link");
    }
    const auto& strtab = sections[symtab->hdr.sh_link];
    const std::uint64_t nsyms = symtab->hdr.sh_size / sizeof(Elf64_Sym);
    std::uint64_t undefined_syms = 0; // the candidates for libbpf's externs
    for (std::uint64_t i = 0; i < nsyms; ++i) {
        const auto sym = load<Elf64_Sym>(symtab->data, i * sizeof(Elf64_Sym));
        if (sym.st_shndx == SHN_UNDEF && sym.st_name != 0) {
            ++undefined_syms;
        }
        if (sym.st_name >= strtab.hdr.sh_size) {
            return invalid("symbol " + std::to_string(i) +
                           " has a name offset outside the string table");
        }
        if (sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE && sym.st_shndx >= shnum) {
            return invalid("symbol " + std::to_string(i) + " points to section " +
                           std::to_string(sym.st_shndx) + ", which does not exist");
        }
        if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= shnum) {
            continue;
        }
        // libbpf makes a program of every function symbol in a code section
        // and copies st_size bytes from st_value without an overflow check.
        const auto& in = sections[sym.st_shndx];
        const auto type = ELF64_ST_TYPE(sym.st_info);
        if (type == STT_FUNC && in.hdr.sh_type == SHT_PROGBITS &&
            (in.hdr.sh_flags & SHF_EXECINSTR) &&
            (!range_ok(sym.st_value, sym.st_size, in.hdr.sh_size) || sym.st_value % 8 != 0 ||
             sym.st_size % 8 != 0)) {
            return invalid("function symbol " + num(i) + " (offset " + num(sym.st_value) +
                           ", size " + num(sym.st_size) +
                           ") is not a whole run of 8-byte instructions inside " + label(in) +
                           " (" + num(in.hdr.sh_size) + " bytes)");
        }
        // A 16-byte ld_imm64 cut by the end of a function: when libbpf
        // relocates it at load time it writes the second half past the end
        // of the program's instruction buffer.
        if (type == STT_FUNC && in.hdr.sh_type == SHT_PROGBITS &&
            (in.hdr.sh_flags & SHF_EXECINSTR)) {
            constexpr std::uint8_t kLdImm64 = 0x18; // BPF_LD | BPF_IMM | BPF_DW
            const std::uint64_t end = sym.st_value + sym.st_size;
            for (std::uint64_t at = sym.st_value; at < end;) {
                if (in.data[at] != kLdImm64) {
                    at += 8;
                } else if (end - at < 16) {
                    return invalid("function symbol " + num(i) +
                                   " ends in the middle of the "
                                   "16-byte ld_imm64 instruction at offset " +
                                   num(at) + " of " + label(in));
                } else {
                    at += 16;
                }
            }
        }
        // Variables: libbpf takes a variable's offset in its section (map,
        // global data, struct_ops) from st_value, truncated to 32 bits.
        if (!range_ok(sym.st_value, type == STT_OBJECT ? sym.st_size : 0, in.hdr.sh_size)) {
            return invalid("symbol " + num(i) + " (offset " + num(sym.st_value) + ", size " +
                           num(sym.st_size) + ") lies outside " + label(in) + " (" +
                           num(in.hdr.sh_size) + " bytes)");
        }
    }
    for (const auto& s : sections) {
        if (s.hdr.sh_type == SHT_RELA) {
            return invalid("section '" + s.name +
                           "' is a RELA relocation section; BPF objects use REL");
        }
        if (s.hdr.sh_type != SHT_REL) {
            continue;
        }
        if (s.hdr.sh_entsize != sizeof(Elf64_Rel) || s.hdr.sh_info >= shnum ||
            s.hdr.sh_link != symtab->index) {
            return invalid("relocation section '" + s.name +
                           "' has a bad entry size, target section or symbol table link");
        }
        const auto& target = sections[s.hdr.sh_info];
        const std::uint64_t nrels = s.hdr.sh_size / sizeof(Elf64_Rel);
        for (std::uint64_t i = 0; i < nrels; ++i) {
            const auto rel = load<Elf64_Rel>(s.data, i * sizeof(Elf64_Rel));
            if (ELF64_R_SYM(rel.r_info) >= nsyms) {
                return invalid("relocation " + std::to_string(i) + " in '" + s.name +
                               "' refers to symbol " + std::to_string(ELF64_R_SYM(rel.r_info)) +
                               ", past the " + std::to_string(nsyms) + "-entry symbol table");
            }
            if (target.hdr.sh_type != SHT_NOBITS && rel.r_offset >= target.hdr.sh_size) {
                return invalid("relocation " + std::to_string(i) + " in '" + s.name +
                               "' points past the end of section '" + target.name + "'");
            }
        }
    }

    // libbpf parses the last '.BTF' and '.BTF.ext'; check every one.
    std::optional<BtfSummary> btf;
    for (const auto* s : btf_sections) {
        TRY_ASSIGN(btf, check_btf(*s));
    }
    if (btf) {
        for (const auto* s : btf_ext_sections) {
            TRY(check_btf_ext(*s, *btf));
        }
    }

    // libbpf's open has loops that are quadratic in counts a file controls
    // (every symbol scanned once per code section, per extern and per
    // DATASEC variable). Real objects stay far below this bound; a crafted
    // one would keep the parser busy for minutes.
    constexpr std::uint64_t kOpenWorkLimit = 1ull << 28;
    const std::uint64_t types = btf ? btf->kinds.size() : 0;
    const std::uint64_t vars = btf ? btf->datasec_vars : 0;
    const std::pair<std::uint64_t, std::string> work[] = {
        {facts.program_sections * nsyms,
         num(facts.program_sections) + " code sections x " + num(nsyms) + " symbols"},
        {undefined_syms * types,
         num(undefined_syms) + " undefined symbols x " + num(types) + " BTF types"},
        {vars * nsyms, num(vars) + " BTF DATASEC variables x " + num(nsyms) + " symbols"},
    };
    for (const auto& [amount, what] : work) {
        if (amount > kOpenWorkLimit) {
            return invalid("the object is shaped to make libbpf's open do " + what +
                           " lookups, over the limit of " + num(kOpenWorkLimit));
        }
    }
    return facts;
}

} // namespace bpfleet::bpf
