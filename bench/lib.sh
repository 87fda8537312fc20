# Sourced by the benchmarks: server helpers, and generate_rdb DIR KEYS VALUE_BYTES, which saves into DIR/dump.rdb a dataset of KEYS strings of
# VALUE_BYTES bytes plus KEYS/80 each of lists, hashes, sets, sorted sets and streams (~1 GiB at 4000000 x 240), and
# sets $digest to the DEBUG DIGEST of the server that saved it.
# bench_setup NAME: a work directory $work (removed on exit, with every server started in it killed) and $bench, the
# freshly built bench verbs.
bench_setup() {
    work=$(mktemp -d "/tmp/$1-bench.XXXXXX")
    trap 'for p in $(cat "$work"/*/server.pid 2>/dev/null); do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
    dotnet build "$root/bench/RedisRecovery.Bench" -c Release -nologo -v quiet >/dev/null
    bench="dotnet $root/bench/RedisRecovery.Bench/bin/Release/net10.0/RedisRecovery.Bench.dll"
}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { # dir port [args...]
    local dir=$1 p=$2; shift 2
    redis-server --port "$p" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --enable-debug-command yes \
        --logfile "$dir/redis.log" --daemonize no "$@" & echo $! > "$dir/server.pid"
    until redis-cli -p "$p" ping 2>/dev/null | grep -q PONG; do sleep 0.05; done
}
loaded() { until [ "$(redis-cli -p "$1" info persistence | tr -d '\r' | sed -n 's/^loading://p')" = 0 ]; do sleep 0.02; done; }
stop() { redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true; sleep 0.3; }
generate_rdb() {
    local dir=$1 keys=$2 size=$3 p
    echo "== generating $keys strings of $size bytes + $((keys / 80)) each of lists, hashes, sets, sorted sets, streams"
    # rdbcompression off: DEBUG POPULATE pads values with zeros, which LZF would shrink to almost nothing.
    mkdir -p "$dir"; p=$(port); start "$dir" "$p" --dbfilename dump.rdb --rdbcompression no
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
}
