#!/usr/bin/env bash
# Side-by-side: our RDB check (RedisRecovery.Bench rdb-check, the engine behind Test-RdbFile) against
# redis-check-rdb on the same file, in the same run. Generates the file with a real redis-server unless one is given:
#   bench/rdb-check.sh                 generate (about 1.3 GiB) into bench/results/, then compare
#   bench/rdb-check.sh path/to/dump.rdb   compare on an existing file
# Scale with KEYS (plain strings, default 4000000), COLLECTIONS (of each type, default 150000) and HUGE_MB (one
# incompressible string of this size, default 640, above the 512 MiB bulk limit so it streams through).
# Needs redis-server, redis-cli, redis-check-rdb, /usr/bin/time and the .NET SDK.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results="$root/bench/results"
mkdir -p "$results"
keys=${KEYS:-4000000}
collections=${COLLECTIONS:-150000}
huge_mb=${HUGE_MB:-640}

dotnet build "$root/bench/RedisRecovery.Bench" -c Release -nologo -v quiet >/dev/null
bench_dll="$root/bench/RedisRecovery.Bench/bin/Release/net10.0/RedisRecovery.Bench.dll"

generate() {
    local dir="$results/server" port
    rm -rf "$dir"; mkdir -p "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --dbfilename dump.rdb --save "" --appendonly no \
        --enable-debug-command yes --proto-max-bulk-len 2gb --logfile "$dir/redis.log" --daemonize no &
    local pid=$!
    trap 'kill $pid 2>/dev/null || true' EXIT
    until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
    local cli=(redis-cli -p "$port")

    echo "populating: $keys strings, $collections hashes/lists/sets/zsets each (listpack and hashtable sizes), 2 streams, one ${huge_mb} MiB string" >&2
    "${cli[@]}" DEBUG POPULATE "$keys" str 120 >/dev/null
    # Collections through the mass-insert protocol; every 10th one is big enough for the hashtable/skiplist/quicklist encodings.
    python3 - "$collections" <<'PY' | "${cli[@]}" --pipe >&2
import random, sys
out = sys.stdout.buffer
def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    out.write(b"".join(parts))
random.seed(7)
n = int(sys.argv[1])
for k in range(n):
    size = 300 if k % 10 == 0 else 12
    r = [random.randrange(10**9) for _ in range(size)]
    hash_args = []
    for f in range(size):
        hash_args += ["field:%d" % f, "value-%d" % r[f]]
    cmd("HSET", "hash:%d" % k, *hash_args)
    cmd("RPUSH", "list:%d" % k, *["item-%d" % x for x in r])
    cmd("SADD", "set:%d" % k, *([x for x in r] if k % 3 == 0 else ["member-%d" % x for x in r]))
    zset_args = []
    for x in r:
        zset_args += ["%.3f" % (x / 1e6), "m-%d" % x]
    cmd("ZADD", "zset:%d" % k, *zset_args)
    if k % 4 == 0:
        cmd("PEXPIREAT", "hash:%d" % k, 4102444800000 + k)
for k in range(20000):
    cmd("XADD", "stream:%d" % (k % 2), "*", "sensor", k, "reading", random.random())
PY
    "${cli[@]}" XGROUP CREATE stream:0 readers 0 >/dev/null
    "${cli[@]}" XREADGROUP GROUP readers alice COUNT 500 STREAMS stream:0 '>' >/dev/null
    local chunk="$results/chunk.bin"
    head -c $((64 * 1024 * 1024)) /dev/urandom >"$chunk"
    for ((i = 0; i < huge_mb / 64; i++)); do "${cli[@]}" -x APPEND huge:value <"$chunk" >/dev/null; done
    rm -f "$chunk"
    "${cli[@]}" SAVE >/dev/null
    "${cli[@]}" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    wait $pid 2>/dev/null || true
    trap - EXIT
    mv "$dir/dump.rdb" "$results/bench.rdb"
    rm -rf "$dir"
    echo "$results/bench.rdb"
}

file=${1:-}
if [ -z "$file" ]; then
    file=$(generate)
fi
size=$(stat -c %s "$file")
echo "file: $file ($((size / 1024 / 1024)) MiB)"
cat "$file" >/dev/null   # both runs start from a warm page cache

measure() {   # name, command... -> "wall_seconds cpu_seconds peak_kib"
    local log="$results/$1.time"
    shift
    /usr/bin/time -v "$@" >"$log.out" 2>"$log" || true
    local wall cpu peak
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$log")
    peak=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
    echo "$wall $cpu $peak"
}

read -r ours_s ours_cpu ours_kib < <(measure ours dotnet "$bench_dll" rdb-check "$file")
read -r theirs_s theirs_cpu theirs_kib < <(measure redis-check-rdb redis-check-rdb "$file")
cat "$results/ours.time.out"
tail -n 12 "$results/redis-check-rdb.time.out"
echo "load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf '\n%-28s %10s %10s %14s\n' "" "wall (s)" "CPU (s)" "peak RSS (MiB)"
printf '%-28s %10.2f %10.2f %14.1f\n' "RedisRecovery rdb-check" "$ours_s" "$ours_cpu" "$(echo "$ours_kib / 1024" | bc -l)"
printf '%-28s %10.2f %10.2f %14.1f\n' "redis-check-rdb 7.0.15" "$theirs_s" "$theirs_cpu" "$(echo "$theirs_kib / 1024" | bc -l)"
printf 'ratio ours/redis-check-rdb: %.2f (%.1fx faster)\n' "$(echo "$ours_s / $theirs_s" | bc -l)" "$(echo "$theirs_s / $ours_s" | bc -l)"
printf 'CPU ratio ours/redis-check-rdb: %.2f\n' "$(echo "$ours_cpu / $theirs_cpu" | bc -l)"
