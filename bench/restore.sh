#!/usr/bin/env bash
# Restore benchmark: builds an RDB of KEYS keys (mixed types, ~1 GiB at the default size), then in the same run
# (b) times redis-server loading it at startup, (a) times redis-cli --pipe loading the equivalent RESTORE protocol,
# (a') times redis-cli --pipe replaying exactly the command stream our engine sends (captured by the bench verb
# "restore-capture" through a recording relay: MSET batches for plain strings, RESTORE for the rest), and times
# Restore-RedisDatabase's engine (bench verb "restore") into an empty live server, with its peak memory; the
# DEBUG DIGEST verification is reported apart. Ends with the ratios of issue 6's goal.
#   bash bench/restore.sh [KEYS] [VALUE_BYTES]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keys=${1:-4000000}
size=${2:-240}
. "$root/bench/lib.sh"
bench_setup restore


generate_rdb "$work/src" "$keys" "$size"
rdb="$work/src/dump.rdb"; echo "rdb: $(stat -c %s "$rdb") bytes, digest $digest"

echo "== (b) redis-server loading the RDB at startup"
mkdir -p "$work/native"; cp "$rdb" "$work/native/dump.rdb"; p=$(port)
t0=$(date +%s.%N); start "$work/native" "$p" --dbfilename dump.rdb; loaded "$p"; t1=$(date +%s.%N)
native=$(echo "$t1 - $t0" | bc)
echo "native load: seconds=$native keys=$(redis-cli -p "$p" dbsize)"; stop "$p"

pipe() { # label file: times redis-cli --pipe loading file into a fresh server, prints seconds
    local label=$1 file=$2 q t0 t1
    mkdir -p "$work/$label"; q=$(port); start "$work/$label" "$q"
    t0=$(date +%s.%N); /usr/bin/time -f "client: cpu_user_s=%U cpu_sys_s=%S max_rss_kib=%M" redis-cli -p "$q" --pipe < "$file" 2>&1 | tail -2 >&2; t1=$(date +%s.%N)
    echo "redis-cli --pipe ($label): seconds=$(echo "$t1 - $t0" | bc) keys=$(redis-cli -p "$q" dbsize) digest_match=$([ "$(redis-cli -p "$q" debug digest)" = "$digest" ] && echo yes || echo no)" >&2
    stop "$q"; rm -f "$file"; echo "$t1 - $t0" | bc
}

echo "== (a) redis-cli --pipe with the equivalent RESTORE protocol"
t0=$(date +%s.%N); $bench restore-protocol "$rdb" "$work/restore.resp"; t1=$(date +%s.%N)
echo "RESTORE protocol written by the bench verb (not counted below): seconds=$(echo "$t1 - $t0" | bc) bytes=$(stat -c %s "$work/restore.resp")"
pipe_restore=$(pipe pipe-restore "$work/restore.resp")

echo "== (a') redis-cli --pipe with exactly our command stream"
mkdir -p "$work/capture"; p=$(port); start "$work/capture" "$p"
$bench restore-capture "$rdb" "127.0.0.1:$p" "$work/ours.resp"; stop "$p"
pipe_ours=$(pipe pipe-ours "$work/ours.resp")

echo "== Restore-RedisDatabase engine (online, pipelined: MSET batches for plain strings, RESTORE for the rest)"
mkdir -p "$work/ours"; p=$(port); start "$work/ours" "$p"
out=$(/usr/bin/time -f "client: cpu_user_s=%U cpu_sys_s=%S max_rss_kib=%M" $bench restore "$rdb" "127.0.0.1:$p" 2>&1) || true
echo "$out"
echo "digest_match=$([ "$(redis-cli -p "$p" debug digest)" = "$digest" ] && echo yes || echo no)"; stop "$p"
total=$(echo "$out" | sed -n 's/.* seconds=\([0-9.]*\) of_which_verification=\([0-9.]*\).*/\1/p')
verification=$(echo "$out" | sed -n 's/.* of_which_verification=\([0-9.]*\).*/\1/p')
ours=$(echo "$total - $verification" | bc)

echo "== ratios (issue 6: ours <= redis-cli --pipe RESTORE protocol, ours <= 2x native load)"
printf 'restore seconds: ours=%s native=%s pipe_restore=%s pipe_our_stream=%s (verification %s s apart)\n' "$ours" "$native" "$pipe_restore" "$pipe_ours" "$verification"
printf 'ours/native=%.2f ours/pipe_restore=%.2f ours/pipe_our_stream=%.2f\n' "$(echo "$ours / $native" | bc -l)" "$(echo "$ours / $pipe_restore" | bc -l)" "$(echo "$ours / $pipe_ours" | bc -l)"
