#!/usr/bin/env bash
# Latency harness (a benchmark, not a timed test): N loopback sshd hosts
# (scripts/sshd-farm.sh) behind a delaying TCP relay (scripts/delay-relay.py)
# that adds RTT ms to every exchange; for each RTT, a cold bpfleet run (empty
# remote folder), then REPS warm bpfleet runs interleaved with REPS runs of the
# floor, `xargs -P N ssh host AGENT check --load-only OBJECT` (the agent is
# already on every host for both). Prints one markdown row per tool and RTT:
# median wall time, and per host (from the relay) the round trips and the bytes
# sent each way.
#   bench/fanout/latency.sh [REPS] [N] [RTTS...]     (defaults: 3, 20, 0 50)
# Environment: BPFLEET_BUILD_DIR (build/ci), LATENCY_BASE_PORT (farm ports, 3601),
# LATENCY_RELAY_PORT (relay ports, 3801), LATENCY_OUT (build/bench-latency),
# LATENCY_BASELINE="BPFLEET AGENT": another bpfleet and its agent (e.g. built from an
# older commit), run warm exactly like this one, interleaved, as a third tool.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
reps=${1:-3}
n=${2:-20}
shift 2 2>/dev/null || shift $#
rtts=("$@")
[[ ${#rtts[@]} -gt 0 ]] || rtts=(0 50)
build=${BPFLEET_BUILD_DIR:-build/ci}
base=${LATENCY_BASE_PORT:-3601}
rbase=${LATENCY_RELAY_PORT:-3801}
out=${LATENCY_OUT:-$repo/build/bench-latency}
bpfleet=$repo/$build/controller/bpfleet
agent=$repo/$build/agent/bpfleet-agent.stripped
object=$repo/$build/tests/bpf/pass.bpf.o
[[ -x $bpfleet && -x $agent && -f $object ]] || {
    echo "latency: build $build first (bpfleet, bpfleet-agent, test objects)" >&2
    exit 2
}
mkdir -p "$out"
farm=$out/farm
scripts/sshd-farm.sh start "$farm" --count "$n" --base-port "$base" --log-level ERROR >/dev/null
relay_pid=
cleanup() {
    [[ -n $relay_pid ]] && kill "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null
    scripts/sshd-farm.sh stop "$farm" >/dev/null 2>&1 || true
}
trap cleanup EXIT
key=$farm/id_ed25519
remote=/tmp/bpfleet-latency-cache
sha=$(sha256sum "$agent" | cut -d' ' -f1)

# The farm's inventory and known_hosts rewritten for the relay's ports.
awk -v b="$base" -v r="$rbase" '/^port = /{ $3 = $3 - b + r } { print }' \
    "$farm/inventory.toml" >"$out/inventory.toml"
awk -v b="$base" -v r="$rbase" '{ split($1, a, "]:"); $1 = a[1] "]:" (a[2] - b + r); print }' \
    "$farm/known_hosts" >"$out/known_hosts"
seq "$rbase" $((rbase + n - 1)) >"$out/ports.txt"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {printf "%.2f\n", (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

read -r baseline baseline_agent <<<"${LATENCY_BASELINE:-}"
tools=(bpfleet floor)
[[ -n ${baseline:-} ]] && tools+=(baseline)
bpfleet_run() {
    "$bpfleet" run -q -i "$out/inventory.toml" -a "$object" --load-only --forks "$n" \
        --known-hosts "$out/known_hosts" --remote-dir "$remote" --agent "x86_64=$agent" \
        -o "$out/run-out" >/dev/null 2>&1
    rm -rf "$out/run-out"
}
# The floor reads the object from its stdin on every host: one ssh per host.
baseline_run() {
    "$baseline" run -q -i "$out/inventory.toml" -a "$object" --load-only --forks "$n" \
        --known-hosts "$out/known_hosts" --remote-dir "$remote" --agent "x86_64=$baseline_agent" \
        -o "$out/run-out" >/dev/null 2>&1
    rm -rf "$out/run-out"
}
floor_run() {
    local p
    for p in $(cat "$out/ports.txt"); do
        echo "$p"
    done | xargs -P "$n" -I PORT sh -c "ssh -q -i '$key' -o UserKnownHostsFile='$out/known_hosts' \
        -o StrictHostKeyChecking=yes -o BatchMode=yes -p PORT root@127.0.0.1 \
        '$remote/agent-$sha check --load-only --object -' <'$object' >/dev/null" || true
}

stats_of() { # FILE -> "round_trips bytes_up bytes_down" medians per host
    python3 -c '
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
m = lambda k: statistics.median(r[k] for r in rows) if rows else 0
print(int(m("round_trips")), int(m("bytes_up")), int(m("bytes_down")), len(rows))' "$1"
}

echo "| tool | RTT ms | N | wall s (median of $reps) | round trips / host | bytes up / host | bytes down / host |"
echo "|---|---|---|---|---|---|---|"
for rtt in "${rtts[@]}"; do
    scripts/delay-relay.py --rtt-ms "$rtt" --listen-base "$rbase" --target-base "$base" \
        --count "$n" --stats "$out/stats.jsonl" >"$out/relay.ready" &
    relay_pid=$!
    for _ in $(seq 50); do grep -q ready "$out/relay.ready" 2>/dev/null && break; sleep 0.1; done
    rm -rf "$remote"
    : >"$out/stats.jsonl"
    t0=$(now); bpfleet_run; t1=$(now)
    sleep 0.5
    read -r rt up down conns < <(stats_of "$out/stats.jsonl")
    echo "| bpfleet cold | $rtt | $n | $(echo "$t1 - $t0" | bc | xargs printf "%.2f") (1 run) | $rt | $up | $down |"
    [[ -n ${baseline:-} ]] && baseline_run
    for tool in "${tools[@]}"; do
        : >"$out/times.$tool"
        : >"$out/stats.$tool"
    done
    for _ in $(seq "$reps"); do
        for tool in "${tools[@]}"; do
            : >"$out/stats.jsonl"
            t0=$(now); "${tool}_run"; t1=$(now)
            sleep 0.5
            echo "$t1 - $t0" | bc >>"$out/times.$tool"
            cat "$out/stats.jsonl" >>"$out/stats.$tool"
        done
    done
    for tool in "${tools[@]}"; do
        read -r rt up down conns < <(stats_of "$out/stats.$tool")
        case $tool in
        floor) label="xargs -P N ssh … check" ;;
        baseline) label="baseline bpfleet warm" ;;
        *) label="bpfleet warm" ;;
        esac
        echo "| $label | $rtt | $n | $(median <"$out/times.$tool") | $rt | $up | $down |"
    done
    kill "$relay_pid"; wait "$relay_pid" 2>/dev/null || true; relay_pid=
done
rm -rf "$remote"
