#!/usr/bin/env bash
# Bounded fuzzing of the OCI parsers: builds the libFuzzer targets of
# tests/fuzz-oci with the `fuzz` preset (clang, ASan + UBSan), makes a seed
# corpus from valid documents and archives, and runs each target for half of
# SECONDS (default 60). Exit status non-zero when a target found a crash; the
# reproducer is left in build/fuzz/fuzz-oci/<target>/crash-* and printed as
# base64 (a CI log is often all there is).
#   scripts/run-fuzz-oci.sh [SECONDS]
# BPFLEET_FUZZ_SEED=N fixes libFuzzer's random seed (as scripts/test-all.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
per_target=$(( seconds / 2 ))
(( per_target < 1 )) && per_target=1

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target bpfleet_fuzz_oci_manifest bpfleet_fuzz_oci_archive

work=build/fuzz/fuzz-oci
mkdir -p "$work/manifest/corpus" "$work/archive/corpus"
d64=$(printf 'a%.0s' {1..64})
m="$work/manifest/corpus"
printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$d64"'","size":7,"platform":{"os":"linux","architecture":"arm64"},"annotations":{"org.opencontainers.image.ref.name":"x.sig"}}]}' >"$m/index.json"
printf '%s' '{"schemaVersion":2,"artifactType":"application/vnd.gadget.v1+binary","config":{"mediaType":"application/vnd.gadget.config.v1+yaml","digest":"sha256:'"$d64"'","size":3},"layers":[{"mediaType":"application/vnd.gadget.ebpf.program.v1+binary","digest":"sha512:'"$d64$d64"'","size":9}],"subject":{"digest":"sha256:'"$d64"'","size":1}}' >"$m/manifest.json"
printf 'Bearer realm="https://auth.example/token",service="r",scope="repository:a/b:pull"' >"$m/challenge.txt"
printf 'name: x\ndescription: "y"\nsourceURL: z\n' >"$m/config.yaml"
printf '127.0.0.1:5000/gadget/x:v1@sha256:%s' "$d64" >"$m/ref.txt"

a="$work/archive/corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/l/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' >"$tmp/l/oci-layout"
printf '{"manifests":[]}' >"$tmp/l/index.json"
printf 'blob' >"$tmp/l/blobs/sha256/$d64"
ln -s index.json "$tmp/l/link"
tar -C "$tmp/l" -cf "$a/layout.tar" .
tar -C "$tmp/l" -czf "$a/layout.tar.gz" .
gzip -c "$a/layout.tar" | head -c 200 >"$a/truncated.gz"

seed_arg=()
if [[ -n "${BPFLEET_FUZZ_SEED:-}" ]]; then
    if ! [[ "$BPFLEET_FUZZ_SEED" =~ ^[1-9][0-9]*$ ]]; then
        echo "run-fuzz-oci: BPFLEET_FUZZ_SEED must be a positive integer, not '$BPFLEET_FUZZ_SEED'" >&2
        exit 2
    fi
    seed_arg=(-seed="$BPFLEET_FUZZ_SEED")
fi

status=0
for target in manifest archive; do
    echo "run-fuzz-oci: bpfleet_fuzz_oci_$target for ${per_target}s"
    (cd "$work/$target" &&
        ASAN_OPTIONS=detect_leaks=1 "../../tests/fuzz-oci/bpfleet_fuzz_oci_$target" corpus \
            -max_total_time="$per_target" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
            -print_final_stats=1 "${seed_arg[@]}" 2>&1 | tail -n 12) || status=1
done
if compgen -G "$work/*/crash-*" >/dev/null; then
    echo "run-fuzz-oci: crash reproducers in $work/*/crash-*" >&2
    for f in "$work"/*/crash-*; do
        echo "run-fuzz-oci: $f as base64:"
        head -c 65536 "$f" | base64
        echo "run-fuzz-oci: end of $(basename "$f")"
    done
    status=1
fi
exit $status
