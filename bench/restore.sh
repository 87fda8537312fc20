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

echo "== generating $keys strings of $size bytes + $((keys / 80)) each of lists, hashes, sets, sorted sets, streams"
# rdbcompression off: DEBUG POPULATE pads values with zeros, which LZF would shrink to almost nothing.
mkdir -p "$work/src"; p=$(port); start "$work/src" "$p" --dbfilename dump.rdb --rdbcompression no
redis-cli -p "$p" debug populate "$keys" key "$size" >/dev/null
python3 - "$keys" <<'PY' | redis-cli -p "$p" --pipe >/dev/null
import sys
n = max(1, int(sys.argv[1]) // 80)
def cmd(*a):
    out = f"*{len(a)}\r\n" + "".join(f"${len(x.encode())}\r\n{x}\r\n" for x in a)
    sys.stdout.write(out)
for i in range(n):
    cmd("RPUSH", f"list:{i}", *[f"item-{j}-{i}" for j in range(20)])
    cmd("HSET", f"hash:{i}", *[x for j in range(10) for x in (f"field{j}", f"value-{j}-{i}")])
    cmd("SADD", f"set:{i}", *[str(i * 100 + j) for j in range(12)])
    cmd("ZADD", f"zset:{i}", *[x for j in range(10) for x in (str(j * 1.5), f"member-{j}")])
    cmd("XADD", f"stream:{i}", "*", "a", str(i), "b", "text")
PY
redis-cli -p "$p" save >/dev/null; digest=$(redis-cli -p "$p" debug digest); stop "$p"
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
