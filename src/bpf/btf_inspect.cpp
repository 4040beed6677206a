// The .BTF and .BTF.ext checks of inspect_elf(), as named steps: the header
// and section layout, the type index, the references between types, cycles,
// DATASEC sizes, then .BTF.ext against the types. One file (a little over 600
// lines) because every step reads the same private BtfView of the untrusted
// bytes; split, that view would have to become an interface of its own.

#include "bpf/btf_inspect.hpp"

#include <algorithm>
#include <cstdio>
#include <linux/btf.h>
#include <string_view>

namespace bpfleet::bpf {
namespace {

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

// A .BTF section whose header and layout were checked: its type and string
// sections, and (after index_types) where each type record starts. The
// helpers phrase the errors of the passes below.
struct BtfView {
    std::string where; // "section 7 '.BTF'"
    std::span<const std::uint8_t> types;
    std::span<const std::uint8_t> strs;
    std::uint32_t str_len = 0;
    std::vector<BtfTypeRef> refs{1}; // by type id; [0] is void

    [[nodiscard]] std::uint64_t count() const { return refs.size(); }
    [[nodiscard]] bool name_ok(std::uint32_t off) const { return off < str_len; }
    // A name whose offset was checked (the string section ends with a NUL).
    [[nodiscard]] std::string name_at(std::uint32_t off) const {
        return std::string(reinterpret_cast<const char*>(strs.data()) + off);
    }
    [[nodiscard]] std::string type_desc(std::uint32_t id) const {
        return "BTF type [" + num(id) + "] (" + btf_kind_name(refs[id].kind) + ")";
    }
    [[nodiscard]] tl::unexpected<Error> bad_name(std::uint32_t id, const std::string& what,
                                                 std::uint32_t off) const {
        return invalid(where + ": " + type_desc(id) + part(what) + ": name offset " + num(off) +
                       " is past the " + num(str_len) + "-byte string section");
    }
    [[nodiscard]] tl::unexpected<Error> bad_ref(std::uint32_t id, const std::string& what,
                                                std::uint32_t to) const {
        return invalid(where + ": " + type_desc(id) + part(what) + " refers to type " + num(to) +
                       ", but there are only " + num(count()) + " types (0.." + num(count() - 1) +
                       ")");
    }
    // The size of type `id` once its chain is followed (0 for types without
    // one), capped at kSizeCap. Only after the loop checks: chains end.
    [[nodiscard]] std::uint64_t resolved_size(std::uint32_t id) const;

private:
    static std::string part(const std::string& what) { return what.empty() ? what : " " + what; }
};

std::uint64_t BtfView::resolved_size(std::uint32_t id) const {
    auto mul = [](std::uint64_t a, std::uint64_t b) {
        return (b != 0 && a > kSizeCap / b) ? kSizeCap : std::min(a * b, kSizeCap);
    };
    std::uint64_t factor = 1;
    for (std::uint64_t steps = 0; steps < count() && id != 0; ++steps) {
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
}

// The header: magic, version, and a layout whose type and string sections
// lie inside the section; the string section starts and ends with a NUL.
Result<BtfView> read_btf_layout(const Section& sec) {
    const auto data = sec.data;
    BtfView view;
    view.where = label(sec);
    const std::string& where = view.where;
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
    view.strs = data.subspan(hdr_len + std::uint64_t{str_off}, str_len);
    if (view.strs.empty() || view.strs.front() != 0 || view.strs.back() != 0 ||
        str_len - 1 > kBtfMaxStrOffset) {
        return invalid(where + ": the BTF string section (" + num(str_len) +
                       " bytes) must start and end with a NUL byte");
    }
    view.str_len = str_len;
    view.types = data.subspan(hdr_len + std::uint64_t{type_off}, type_len);
    return view;
}

// First pass: where each type record starts and its kind, so that ids can
// be checked; every record must be of a known kind and fit.
Result<void> index_types(BtfView& view) {
    const auto types = view.types;
    std::uint64_t pos = 0;
    while (pos < types.size()) {
        const std::uint32_t id = static_cast<std::uint32_t>(view.refs.size());
        if (types.size() - pos < kBtfTypeSize) {
            return invalid(view.where + ": BTF type [" + num(id) + "] at offset " + num(pos) +
                           " is cut off by the end of the type section");
        }
        const auto info = load<std::uint32_t>(types, pos + 4);
        BtfTypeRef ref{BTF_INFO_KIND(info), static_cast<std::uint32_t>(pos), BTF_INFO_VLEN(info)};
        const std::int64_t extra = btf_extra_size(ref.kind, ref.vlen);
        if (extra < 0 || ref.kind == BTF_KIND_UNKN) {
            return invalid(view.where + ": BTF type [" + num(id) + "] has unknown kind " +
                           num(ref.kind));
        }
        if (types.size() - pos - kBtfTypeSize < static_cast<std::uint64_t>(extra)) {
            return invalid(view.where + ": BTF type [" + num(id) + "] (" + btf_kind_name(ref.kind) +
                           ", " + num(ref.vlen) + " entries) runs past the type section");
        }
        view.refs.push_back(ref);
        pos += kBtfTypeSize + static_cast<std::uint64_t>(extra);
    }
    return {};
}

// The by-value edges of a type (`contains`: no cycle allowed, libbpf's size
// and alignment walks recurse on them) and the single-reference chain
// (`chain`: also through pointers; a cycle there has no base type).
struct TypeEdges {
    TypeGraph contains;
    TypeGraph chain;
};

// PTR, TYPEDEF, the modifiers, VAR, DECL_TAG, FUNC: one type reference.
Result<void> check_single_reference(const BtfView& view, std::uint32_t id, std::uint32_t type,
                                    TypeEdges& edges) {
    const auto& ref = view.refs[id];
    if (type >= view.count()) {
        return view.bad_ref(id, "", type);
    }
    if (ref.kind == BTF_KIND_FUNC && view.refs[type].kind != BTF_KIND_FUNC_PROTO) {
        return invalid(view.where + ": " + view.type_desc(id) + " refers to type [" + num(type) +
                       "] of kind " + btf_kind_name(view.refs[type].kind) + ", not FUNC_PROTO");
    }
    if ((ref.kind == BTF_KIND_VAR || ref.kind == BTF_KIND_DECL_TAG) && type == 0) {
        return invalid(view.where + ": " + view.type_desc(id) + " has no type (void)");
    }
    edges.chain.add(type);
    if (ref.kind != BTF_KIND_PTR) {
        edges.contains.add(type);
    }
    return {};
}

Result<void> check_array(const BtfView& view, std::uint32_t id, std::uint64_t rest,
                         TypeEdges& edges) {
    const auto elem = load<std::uint32_t>(view.types, rest);
    const auto index = load<std::uint32_t>(view.types, rest + 4);
    if (elem >= view.count()) {
        return view.bad_ref(id, "element type", elem);
    }
    if (index >= view.count()) {
        return view.bad_ref(id, "index type", index);
    }
    edges.chain.add(elem);
    edges.contains.add(elem);
    return {};
}

// STRUCT, UNION, FUNC_PROTO, ENUM, ENUM64: a list of named entries, with a
// type each for members and parameters.
Result<void> check_entries(const BtfView& view, std::uint32_t id, std::uint32_t type,
                           std::uint64_t rest, TypeEdges& edges) {
    const auto& ref = view.refs[id];
    const bool members = ref.kind == BTF_KIND_STRUCT || ref.kind == BTF_KIND_UNION;
    const bool params = ref.kind == BTF_KIND_FUNC_PROTO;
    const std::uint32_t stride = (members || ref.kind == BTF_KIND_ENUM64) ? 12 : 8;
    if (params) {
        if (type >= view.count()) {
            return view.bad_ref(id, "return type", type);
        }
        edges.contains.add(type);
    }
    for (std::uint32_t i = 0; i < ref.vlen; ++i) {
        const std::uint64_t e = rest + std::uint64_t{i} * stride;
        const auto e_name = load<std::uint32_t>(view.types, e);
        if (!view.name_ok(e_name)) {
            return view.bad_name(id,
                                 (params    ? "parameter "
                                  : members ? "member "
                                            : "value ") +
                                     num(i),
                                 e_name);
        }
        if (members || params) {
            const auto e_type = load<std::uint32_t>(view.types, e + 4);
            if (e_type >= view.count()) {
                return view.bad_ref(id, (params ? "parameter " : "member ") + num(i), e_type);
            }
            edges.contains.add(e_type);
        }
    }
    return {};
}

// DATASEC: every entry a VAR (or, in .ksyms, a FUNC).
Result<void> check_datasec_entries(const BtfView& view, std::uint32_t id, std::uint32_t name_off,
                                   std::uint64_t rest, TypeEdges& edges) {
    const auto& ref = view.refs[id];
    const bool ksyms =
        std::string_view(reinterpret_cast<const char*>(view.strs.data()) + name_off) == ".ksyms";
    for (std::uint32_t i = 0; i < ref.vlen; ++i) {
        const auto v_type = load<std::uint32_t>(view.types, rest + std::uint64_t{i} * 12);
        if (v_type >= view.count()) {
            return view.bad_ref(id, "variable " + num(i), v_type);
        }
        const auto v_kind = view.refs[v_type].kind;
        if (v_kind != BTF_KIND_VAR && !(ksyms && v_kind == BTF_KIND_FUNC)) {
            return invalid(view.where + ": " + view.type_desc(id) + " variable " + num(i) +
                           " is type [" + num(v_type) + "] of kind " + btf_kind_name(v_kind) +
                           ", not VAR" + (ksyms ? " or FUNC" : ""));
        }
        edges.contains.add(v_type);
    }
    return {};
}

// Second pass: every name offset and type id, and the kind rules libbpf
// assumes; collects the edges for the loop checks.
Result<TypeEdges> check_references(const BtfView& view) {
    TypeEdges edges;
    edges.contains.next_type(); // void has no edges
    edges.chain.next_type();
    for (std::uint32_t id = 1; id < view.count();
         ++id, edges.contains.next_type(), edges.chain.next_type()) {
        const auto& ref = view.refs[id];
        const std::uint64_t at = ref.offset;
        const auto name_off = load<std::uint32_t>(view.types, at);
        const auto type = load<std::uint32_t>(view.types, at + 8);
        const std::uint64_t rest = at + kBtfTypeSize;
        if (!view.name_ok(name_off)) {
            return view.bad_name(id, "", name_off);
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
        case BTF_KIND_FUNC: {
            TRY(check_single_reference(view, id, type, edges));
            break;
        }
        case BTF_KIND_ARRAY: {
            TRY(check_array(view, id, rest, edges));
            break;
        }
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
        case BTF_KIND_FUNC_PROTO:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64: {
            TRY(check_entries(view, id, type, rest, edges));
            break;
        }
        case BTF_KIND_DATASEC: {
            TRY(check_datasec_entries(view, id, name_off, rest, edges));
            break;
        }
        default: // INT, FWD, FLOAT: no references
            break;
        }
    }
    return edges;
}

Result<void> check_loops(const BtfView& view, const TypeEdges& edges) {
    if (const auto at = find_cycle(edges.contains)) {
        return invalid(view.where + ": " + view.type_desc(at) +
                       " contains itself (a BTF type loop not broken by a pointer)");
    }
    // Only single-reference kinds have chain edges; a cycle there is a
    // pointer/modifier loop with no base type.
    if (const auto at = find_cycle(edges.chain)) {
        return invalid(view.where + ": " + view.type_desc(at) +
                       " is on a loop of pointers/modifiers with no base type");
    }
    return {};
}

// One DATASEC's entries must fit, now that every chain ends. libbpf adds a
// variable's offset and its type's size in 32 bits before comparing with the
// section (struct_ops) and then copies that much.
Result<void> check_datasec_sizes(const BtfView& view, std::uint32_t id) {
    const auto& ref = view.refs[id];
    const auto sec_name = view.name_at(load<std::uint32_t>(view.types, ref.offset));
    const auto sec_size = load<std::uint32_t>(view.types, ref.offset + 8);
    // libbpf rewrites the offsets and sizes of extern sections itself.
    const bool externs = sec_name == ".kconfig" || sec_name == ".ksyms";
    // libbpf keeps a `__kconfig` extern's size, and the running offset of all
    // of them, in an int: a size that does not fit comes back from its open
    // as an "error" outside the errno range, which it then returns as if it
    // were the object.
    std::uint64_t kconfig_bytes = 0;
    for (std::uint32_t i = 0; i < ref.vlen; ++i) {
        const std::uint64_t e = ref.offset + kBtfTypeSize + std::uint64_t{i} * 12;
        const auto v_type = load<std::uint32_t>(view.types, e);
        const std::uint64_t v_off = load<std::uint32_t>(view.types, e + 4);
        const std::uint64_t v_size = load<std::uint32_t>(view.types, e + 8);
        const std::string var =
            view.where + ": DATASEC '" + sec_name + "' (type [" + num(id) + "]) variable " +
            num(i) + " '" +
            view.name_at(load<std::uint32_t>(view.types, view.refs[v_type].offset)) + "' (offset " +
            num(v_off) + ", size " + num(v_size) + ")";
        if (v_off + v_size > 0xffffffffull) {
            return invalid(var + " overflows 32 bits");
        }
        if (sec_size != 0 && v_off + v_size > sec_size) {
            return invalid(var + " runs past the " + num(sec_size) + "-byte section");
        }
        if (sec_name == ".kconfig" && view.refs[v_type].kind == BTF_KIND_VAR) {
            // Each one may be padded to its alignment (at most 16 bytes).
            kconfig_bytes += view.resolved_size(v_type) + 16;
            if (kconfig_bytes > kKconfigCap) {
                return invalid(var + ": the __kconfig externs take more than " + num(kKconfigCap) +
                               " bytes, which libbpf cannot hold");
            }
        }
        if (!externs && view.refs[v_type].kind == BTF_KIND_VAR) {
            const auto needed = view.resolved_size(v_type);
            if (needed > v_size) {
                return invalid(var + " is smaller than its type (" + num(needed) + " bytes)");
            }
        }
    }
    return {};
}

// One .BTF.ext subsection: a record size, then per-section blocks of records
// whose references must exist in the .BTF.
struct ExtSubsection {
    const char* name;
    std::uint32_t off_field; // where the header keeps its offset and length
    std::uint32_t min_record;
};

Result<void> check_ext_records(const std::string& what, const ExtSubsection& sub,
                               std::span<const std::uint8_t> info, const BtfSummary& btf) {
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
    return {};
}

} // namespace

Result<BtfSummary> check_btf(const Section& sec) {
    TRY_ASSIGN(BtfView view, read_btf_layout(sec));
    TRY(index_types(view));
    TRY_ASSIGN(const TypeEdges edges, check_references(view));
    TRY(check_loops(view, edges));
    BtfSummary summary;
    summary.str_len = view.str_len;
    summary.kinds.reserve(view.refs.size());
    for (const auto& ref : view.refs) {
        summary.kinds.push_back(static_cast<std::uint8_t>(ref.kind));
    }
    for (std::uint32_t id = 1; id < view.count(); ++id) {
        if (view.refs[id].kind == BTF_KIND_DATASEC) {
            summary.datasec_vars += view.refs[id].vlen;
            TRY(check_datasec_sizes(view, id));
        }
    }
    return summary;
}

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
    static constexpr ExtSubsection kSubs[] = {
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
        TRY(check_ext_records(what, sub, data.subspan(hdr_len + std::uint64_t{off}, len), btf));
    }
    return {};
}

} // namespace bpfleet::bpf
