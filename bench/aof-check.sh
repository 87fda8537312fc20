#!/usr/bin/env bash
# Checks a >= 1 GiB AOF written by a real redis-server, with RedisRecovery (the engine behind Test-AofFile) and with
# redis-check-aof, in the same run, and prints wall time and peak memory (/usr/bin/time -v) of both.
#   bash bench/aof-check.sh [GiB, default 1.1]
# The AOF is generated once (redis-server 7 with appendonly yes, no rewrites, timestamps on, filled by
# redis-benchmark) in $BENCH_DIR (default /tmp/redisrecovery-bench-aof) and reused by later runs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${BENCH_DIR:-/tmp/redisrecovery-bench-aof}
gib=${1:-1.1}
target=$(awk -v g="$gib" 'BEGIN { printf "%d", g * 1073741824 }')
server_dir="$work/server"
aof_dir="$server_dir/appendonlydir"
mkdir -p "$server_dir"

aof_bytes() { du -cb "$aof_dir"/*.aof 2>/dev/null | tail -n 1 | cut -f 1; }

if [ ! -d "$aof_dir" ] || [ "$(aof_bytes)" -lt "$target" ]; then
    rm -rf "$aof_dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$port" --bind 127.0.0.1 --dir "$server_dir" --save "" --appendonly yes \
        --aof-use-rdb-preamble no --auto-aof-rewrite-percentage 0 --aof-timestamp-enabled yes \
        --appendfsync no --logfile redis.log --daemonize no &
    server_pid=$!
    trap 'kill $server_pid 2>/dev/null || true' EXIT
    until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
    while [ "$(aof_bytes)" -lt "$target" ]; do
        redis-benchmark -p "$port" -t set,hset,incr,lpush,rpop -n 1000000 -d 300 -r 2000000 -P 64 -q >/dev/null
    done
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
    trap - EXIT
fi
manifest=$(ls "$aof_dir"/*.manifest)
echo "AOF: $aof_dir ($(aof_bytes) bytes; $(cat "$manifest" | tr '\n' ';'))"

dotnet build "$root/bench/RedisRecovery.Bench" -c Release -nologo -v quiet >/dev/null
bench_dll="$root/bench/RedisRecovery.Bench/bin/Release/net10.0/RedisRecovery.Bench.dll"

measure() { # label command...
    local label=$1; shift
    cat "$aof_dir"/*.aof > /dev/null   # same warm page cache for both
    /usr/bin/time -v "$@" > "$work/$label.out" 2> "$work/$label.time" || true
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$work/$label.time")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/$label.time")
    echo "$label: wall ${wall}s, peak RSS ${rss} MiB"
    tail -n 3 "$work/$label.out" | sed 's/^/    /'
    eval "${label//-/_}_wall=$wall"
}

measure redis-check-aof redis-check-aof "$manifest"
measure redisrecovery dotnet "$bench_dll" aof-check "$aof_dir"
awk -v a="$redis_check_aof_wall" -v b="$redisrecovery_wall" 'BEGIN { printf "speed-up: %.2fx (redis-check-aof %.2fs / RedisRecovery %.2fs)\n", a / b, a, b }'
