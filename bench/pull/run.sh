#!/usr/bin/env bash
# Pull benchmark (not a timed test): the same gadget-style image pulled from a
# local docker-registry by `bpfleet pull` (fresh cache each run) and by
# `skopeo copy` to an OCI layout, median of RUNS runs each, ratio printed;
# then a second, cached `bpfleet pull` and its request count (target: zero
# blob requests). Target ratio: <= 1.2x skopeo.
#   bench/pull/run.sh [RUNS] [BLOB_MIB]
# Needs a built tree (cmake --build --preset default), docker-registry, skopeo.
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=${1:-7}
blob_mib=${2:-8}
build=${BPFLEET_BUILD_DIR:-build/default}
bpfleet=$build/controller/bpfleet
objdir=$build/tests/integration/bpf
for f in "$bpfleet" "$objdir/oci_gadget.bpf.o" "$objdir/oci_gadget.arm64.bpf.o"; do
    [[ -e $f ]] || { echo "bench: $f missing: build the tree first" >&2; exit 2; }
done
for p in docker-registry skopeo python3; do
    command -v "$p" >/dev/null || { echo "bench: $p missing (scripts/install-deps.sh)" >&2; exit 2; }
done

work=$(mktemp -d)
reg_pid=
cleanup() {
    if [[ -n $reg_pid ]]; then kill "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
    sleep 0.05
done

# A multi-arch gadget image: per arch, config + eBPF object + a btfgen blob of BLOB_MIB MiB.
python3 - "$work/layout" "$objdir" "$blob_mib" <<'PY'
import hashlib, json, os, sys
out, objdir, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)
def blob(data, mt):
    h = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{h}", "wb").write(data)
    return {"mediaType": mt, "digest": "sha256:" + h, "size": len(data)}
cfg = blob(b"name: bench\ndescription: pull benchmark\n", "application/vnd.gadget.config.v1+yaml")
entries = []
for arch, obj in (("amd64", "oci_gadget.bpf.o"), ("arm64", "oci_gadget.arm64.bpf.o")):
    layers = [blob(open(f"{objdir}/{obj}", "rb").read(), "application/vnd.gadget.ebpf.program.v1+binary"),
              blob(os.urandom(mib << 20), "application/vnd.gadget.btfgen.v1+binary")]
    m = {"schemaVersion": 2, "artifactType": "application/vnd.gadget.v1+binary", "config": cfg, "layers": layers}
    d = blob(json.dumps(m).encode(), "application/vnd.oci.image.manifest.v1+json")
    d["platform"] = {"os": "linux", "architecture": arch}
    entries.append(d)
idx = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": entries}).encode(), "application/vnd.oci.image.index.v1+json")
idx["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
json.dump({"schemaVersion": 2, "manifests": [idx]}, open(f"{out}/index.json", "w"))
open(f"{out}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
ref=127.0.0.1:$port/bench/gadget:latest
skopeo --insecure-policy copy --all --quiet --dest-tls-verify=false "oci:$work/layout:latest" "docker://$ref"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: >"$work/bpfleet.times"
: >"$work/skopeo.times"
for i in $(seq "$runs"); do
    t0=$(now)
    "$bpfleet" pull "$ref" --plain-http --cache-dir "$work/cache-$i" >/dev/null
    t1=$(now)
    skopeo --insecure-policy copy --all --quiet --src-tls-verify=false "docker://$ref" "oci:$work/skopeo-$i:latest"
    t2=$(now)
    awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }' >>"$work/bpfleet.times"
    awk -v a="$t2" -v b="$t1" 'BEGIN { print a - b }' >>"$work/skopeo.times"
done
b=$(median <"$work/bpfleet.times")
s=$(median <"$work/skopeo.times")
printf 'image: 2 architectures, %d MiB btfgen blob each; %d runs\n' "$blob_mib" "$runs"
printf 'bpfleet pull (cold cache): median %.3f s\n' "$b"
printf 'skopeo copy  (to layout):  median %.3f s\n' "$s"
printf 'ratio bpfleet/skopeo: %.2f (target <= 1.20)\n' "$(awk -v a="$b" -v b="$s" 'BEGIN { print a / b }')"
echo "second (cached) bpfleet pull:"
"$bpfleet" pull "$ref" --plain-http --cache-dir "$work/cache-1" | grep '^requests:'
