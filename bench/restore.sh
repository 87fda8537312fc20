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
trap 'for p in $(cat "$work"/*.pid 2>/dev/null); do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { # dir port [args...]
    local dir=$1 p=$2; shift 2
    redis-server --port "$p" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --enable-debug-command yes \
        --logfile "$dir/redis.log" --daemonize no "$@" & echo $! > "$dir/server.pid"
    until redis-cli -p "$p" ping 2>/dev/null | grep -q PONG; do sleep 0.05; done
}
loaded() { until [ "$(redis-cli -p "$1" info persistence | tr -d '\r' | sed -n 's/^loading://p')" = 0 ]; do sleep 0.02; done; }
stop() { redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true; sleep 0.3; }

dotnet build "$root/bench/RedisRecovery.Bench" -c Release -nologo -v quiet >/dev/null
bench="dotnet $root/bench/RedisRecovery.Bench/bin/Release/net10.0/RedisRecovery.Bench.dll"

echo "== generating $keys keys (strings of $size bytes + lists, hashes, sets, sorted sets)"
mkdir -p "$work/src"; p=$(port); start "$work/src" "$p" --dbfilename dump.rdb
redis-cli -p "$p" debug populate "$keys" key "$size" >/dev/null
for i in $(seq 1 2000); do echo "RPUSH list:$i a b c d e f g h"; echo "HSET hash:$i f1 v1 f2 v2 f3 v3"; echo "SADD set:$i 1 2 3 x y"; echo "ZADD zset:$i 1 a 2 b 3 c"; done | redis-cli -p "$p" >/dev/null
redis-cli -p "$p" save >/dev/null; digest=$(redis-cli -p "$p" debug digest); stop "$p"
rdb="$work/src/dump.rdb"; echo "rdb: $(stat -c %s "$rdb") bytes, digest $digest"

echo "== (b) redis-server loading the RDB at startup"
mkdir -p "$work/native"; cp "$rdb" "$work/native/dump.rdb"; p=$(port)
t0=$(date +%s.%N); start "$work/native" "$p" --dbfilename dump.rdb; loaded "$p"; t1=$(date +%s.%N)
echo "native load: seconds=$(echo "$t1 - $t0" | bc) keys=$(redis-cli -p "$p" dbsize)"; stop "$p"

echo "== (a) redis-cli --pipe with the equivalent RESTORE protocol"
$bench restore-protocol "$rdb" "$work/restore.resp"
mkdir -p "$work/pipe"; p=$(port); start "$work/pipe" "$p"
t0=$(date +%s.%N); redis-cli -p "$p" --pipe < "$work/restore.resp" | tail -1; t1=$(date +%s.%N)
echo "redis-cli --pipe: seconds=$(echo "$t1 - $t0" | bc) keys=$(redis-cli -p "$p" dbsize) digest_match=$([ "$(redis-cli -p "$p" debug digest)" = "$digest" ] && echo yes || echo no)"
stop "$p"; rm -f "$work/restore.resp"

echo "== Restore-RedisDatabase engine (online, pipelined RESTORE)"
mkdir -p "$work/ours"; p=$(port); start "$work/ours" "$p"
$bench restore "$rdb" "127.0.0.1:$p"
echo "digest_match=$([ "$(redis-cli -p "$p" debug digest)" = "$digest" ] && echo yes || echo no)"; stop "$p"
