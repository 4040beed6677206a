// Where a host's external kernel BTF comes from (docs/btf.md): the
// `external_btf` of the inventory or `--btf` of the command line names
//   - a BTF file (raw `.btf`, or a BTFHub `.btf.tar.xz`), used as it is;
//   - a folder in BTFHub's layout, <os-id>/<version_id>/<arch>/<uname -r>.btf
//     (or .btf.tar.xz), looked up with the host's facts;
//   - any other folder, e.g. a gadget image's btfgen layer unpacked: searched
//     for <uname -r>.btf (or .btf.tar.xz), an architecture's folder on the
//     path preferred.
// The file picked is read into memory (a .tar.xz unpacked under byte limits:
// a bomb is refused), checked to be a kernel's BTF of the host's
// architecture, and hashed: it is shipped by that sha256. Nothing is sent
// for a file that fails any of this; the error says which file and why.
#pragma once

#include "common/result.hpp"
#include "model/host_facts.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bpfleet::btf {

struct BtfFile {
    std::string name; // the file picked (an archive: "ARCHIVE:MEMBER")
    std::shared_ptr<const std::vector<std::uint8_t>> bytes;
    std::string sha256;
};

// Error codes: "btf_not_found" (no file for this host), "external_btf" (the
// file is not a kernel's BTF, or another architecture's), the archive
// reader's (ARCHIVE_INVALID, ARCHIVE_UNSAFE, LIMIT_EXCEEDED).
Result<BtfFile> pick_btf(const std::string& source, const HostFacts& facts);

} // namespace bpfleet::btf
