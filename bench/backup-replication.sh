#!/usr/bin/env bash
# Side-by-side: a replication backup (RedisRecovery.Bench backup-replication, the engine behind
# Backup-RdbSnapshot -Method Replication: stream to disk, SHA-256, fsync, full parse, sidecar, rename) against
# `redis-cli --rdb` (stream to disk only), from the same server in the same run, each twice, alternating.
#   bench/backup-replication.sh          KEYS strings of VALUE_BYTES (default 9000000 x 100: an RDB of about 1.1 GiB)
# DEBUG POPULATE values compress well, so the server runs with rdbcompression no to put a real gigabyte on the wire.
# The master syncs diskless (repl-diskless-sync yes, delay 0), Redis 7's default mode, so both clients wait for the
# same fork and receive the same $EOF:-framed stream.
# Needs redis-server, redis-cli, /usr/bin/time and the .NET SDK.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results="$root/bench/results/backup-replication"
rm -rf "$results"
mkdir -p "$results/server" "$results/ours" "$results/theirs"
keys=${KEYS:-9000000}
value_bytes=${VALUE_BYTES:-100}

dotnet build "$root/bench/RedisRecovery.Bench" -c Release -nologo -v quiet >/dev/null
bench_dll="$root/bench/RedisRecovery.Bench/bin/Release/net10.0/RedisRecovery.Bench.dll"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$results/server" --save "" --appendonly no \
    --enable-debug-command yes --rdbcompression no --repl-diskless-sync yes --repl-diskless-sync-delay 0 \
    --logfile "$results/server/redis.log" --daemonize no &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
echo "populating $keys keys of $value_bytes bytes" >&2
redis-cli -p "$port" DEBUG POPULATE "$keys" key "$value_bytes" >/dev/null

measure() {   # name, command... -> "seconds peak_kib"
    local log="$results/$1.time"
    shift
    /usr/bin/time -v "$@" >"$log.out" 2>"$log"
    local wall peak
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    peak=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
    echo "$wall $peak"
}

declare -a rows
for run in 1 2; do
    rm -rf "$results/ours"/* "$results/theirs"/*
    read -r s kib < <(measure "ours-$run" dotnet "$bench_dll" backup-replication "127.0.0.1:$port" "$results/ours")
    cat "$results/ours-$run.time.out"
    rows+=("RedisRecovery run $run|$s|$kib")
    read -r s kib < <(measure "theirs-$run" redis-cli -p "$port" --rdb "$results/theirs/dump.rdb")
    rows+=("redis-cli --rdb run $run|$s|$kib")
done
size=$(stat -c %s "$results/theirs/dump.rdb")
echo "RDB size: $((size / 1024 / 1024)) MiB"
printf '\n%-26s %10s %14s\n' "" "wall (s)" "peak RSS (MiB)"
for row in "${rows[@]}"; do
    IFS='|' read -r name s kib <<<"$row"
    printf '%-26s %10.2f %14.1f\n' "$name" "$s" "$(echo "$kib / 1024" | bc -l)"
done
best() { printf '%s\n' "${rows[@]}" | grep "^$1" | cut -d'|' -f2 | sort -n | head -n 1; }
ours=$(best RedisRecovery); theirs=$(best redis-cli)
printf 'best-of-2 ratio RedisRecovery/redis-cli: %.2f\n' "$(echo "$ours / $theirs" | bc -l)"
