#!/usr/bin/env bash
# Restore benchmark: builds an RDB of KEYS keys (mixed types, ~1 GiB at the default size), then in the same run
# (b) times redis-server loading it at startup, (a) times redis-cli --pipe loading the equivalent RESTORE protocol,
# and times Restore-RedisDatabase's engine (bench verb "restore") into an empty live server, with its peak memory.
#   bash bench/restore.sh [KEYS] [VALUE_BYTES]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keys=${1:-4000000}
size=${2:-240}
work=$(mktemp -d /tmp/restore-bench.XXXXXX)
. "$root/bench/lib.sh"
trap 'for p in $(cat "$work"/*.pid 2>/dev/null); do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

dotnet build "$root/bench/RedisRecovery.Bench" -c Release -nologo -v quiet >/dev/null
bench="dotnet $root/bench/RedisRecovery.Bench/bin/Release/net10.0/RedisRecovery.Bench.dll"

generate_rdb "$work/src" "$keys" "$size"
rdb="$work/src/dump.rdb"; echo "rdb: $(stat -c %s "$rdb") bytes, digest $digest"

echo "== (b) redis-server loading the RDB at startup"
mkdir -p "$work/native"; cp "$rdb" "$work/native/dump.rdb"; p=$(port)
t0=$(date +%s.%N); start "$work/native" "$p" --dbfilename dump.rdb; loaded "$p"; t1=$(date +%s.%N)
echo "native load: seconds=$(echo "$t1 - $t0" | bc) keys=$(redis-cli -p "$p" dbsize)"; stop "$p"

echo "== (a) redis-cli --pipe with the equivalent RESTORE protocol"
t0=$(date +%s.%N); $bench restore-protocol "$rdb" "$work/restore.resp"; t1=$(date +%s.%N)
echo "RESTORE protocol written by the bench verb (not counted below): seconds=$(echo "$t1 - $t0" | bc) bytes=$(stat -c %s "$work/restore.resp")"
mkdir -p "$work/pipe"; p=$(port); start "$work/pipe" "$p"
t0=$(date +%s.%N); /usr/bin/time -f "client: cpu_user_s=%U cpu_sys_s=%S max_rss_kib=%M" redis-cli -p "$p" --pipe < "$work/restore.resp" | tail -1; t1=$(date +%s.%N)
echo "redis-cli --pipe: seconds=$(echo "$t1 - $t0" | bc) keys=$(redis-cli -p "$p" dbsize) digest_match=$([ "$(redis-cli -p "$p" debug digest)" = "$digest" ] && echo yes || echo no)"
stop "$p"; rm -f "$work/restore.resp"

echo "== Restore-RedisDatabase engine (online, pipelined RESTORE)"
mkdir -p "$work/ours"; p=$(port); start "$work/ours" "$p"
/usr/bin/time -f "client: cpu_user_s=%U cpu_sys_s=%S max_rss_kib=%M" $bench restore "$rdb" "127.0.0.1:$p"
echo "digest_match=$([ "$(redis-cli -p "$p" debug digest)" = "$digest" ] && echo yes || echo no)"; stop "$p"
