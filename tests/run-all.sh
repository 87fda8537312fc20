#!/usr/bin/env bash
# The one command that runs every test suite: builds (which lays out out/RedisRecovery), runs the xUnit suites,
# runs the Pester suites when PowerShell 7 with Pester 5 is present, and ends with one line that sums them all:
#   N passed, N failed, N skipped
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
results="$root/TestResults"
rm -rf "$results"
mkdir -p "$results"

dotnet build RedisRecovery.sln -c Release -nologo -v quiet || { echo "build failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

status=0
dotnet test RedisRecovery.sln -c Release --no-build --nologo \
    --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@" || status=1

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    total=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    skipped=$((skipped + ${total:-0} - ${p:-0} - ${f:-0}))
done

if command -v pwsh >/dev/null 2>&1; then
    pester_summary=$(pwsh -NoProfile -NonInteractive -File "$root/tests/pester/Invoke-PesterSuite.ps1" -ModulePath "$root/out/RedisRecovery" | tail -n 1)
    echo "Pester: $pester_summary"
    if [[ "$pester_summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
        passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2])); skipped=$((skipped + BASH_REMATCH[3]))
        [ "${BASH_REMATCH[2]}" = 0 ] || status=1
    else
        failed=$((failed + 1)); status=1
    fi
else
    echo "Pester: not run (no pwsh on this machine; the suites in tests/pester run where PowerShell 7 and Pester 5 are installed)"
fi

[ "$failed" = 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
