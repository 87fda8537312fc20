#!/usr/bin/env bash
# Digest benchmark: builds the RDB of bench/restore.sh (KEYS keys of mixed types, ~1 GiB at the default size), then in
# the same run times redis-server's DEBUG DIGEST over the loaded data and the module's digest of the file (bench verb
# "rdb-digest", what a restore computes alongside the target's DEBUG DIGEST), and checks that both agree.
#   bash bench/digest.sh [KEYS] [VALUE_BYTES]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keys=${1:-4000000}
size=${2:-240}
. "$root/bench/lib.sh"
bench_setup digest


generate_rdb "$work/src" "$keys" "$size"
rdb="$work/src/dump.rdb"; echo "rdb: $(stat -c %s "$rdb") bytes"

echo "== redis-server: DEBUG DIGEST over the loaded data (the server answers nobody meanwhile)"
mkdir -p "$work/native"; cp "$rdb" "$work/native/dump.rdb"; p=$(port)
start "$work/native" "$p" --dbfilename dump.rdb; loaded "$p"
t0=$(date +%s.%N); server_digest=$(redis-cli -p "$p" debug digest); t1=$(date +%s.%N)
echo "DEBUG DIGEST: digest=$server_digest seconds=$(echo "$t1 - $t0" | bc) keys=$(redis-cli -p "$p" dbsize)"; stop "$p"

echo "== RedisRecovery: the digest computed from the file"
/usr/bin/time -f "client: cpu_user_s=%U cpu_sys_s=%S max_rss_kib=%M" $bench rdb-digest "$rdb" | tee "$work/ours.txt"
echo "digest_match=$(grep -q "digest=$server_digest " "$work/ours.txt" && echo yes || echo no)"
