#!/usr/bin/env bash
# tests/integration/run.sh [PATH_TO_cvisor] [TEST_SCRIPT...]
# Runs tests/integration/test_*.sh (or the scripts given) against a cvisor binary.
# Each script prints TAP; this prints every script's output, a per-script summary and
# a final "N passed, M failed" line (N/M count TAP test points). Exit 1 on failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CVISOR=${1:-$top/bin/cvisor}
[ $# -gt 0 ] && shift
case "$CVISOR" in /*) ;; *) CVISOR="$(pwd)/$CVISOR" ;; esac
export CVISOR
scripts=("$@")
[ ${#scripts[@]} -eq 0 ] && scripts=("$here"/test_*.sh)

pass=0
fail=0
summary=()
out=$(mktemp "${TMPDIR:-/tmp}/cvisor-integ.XXXXXX")
trap 'rm -f "$out"' EXIT
for s in "${scripts[@]}"; do
	name=$(basename "$s")
	echo "# === $name"
	( timeout -k 5 "${INTEGRATION_TIMEOUT:-600}" bash "$s" 2>&1; exit $? ) 2>/dev/null | tee "$out"
	rc=${PIPESTATUS[0]}
	okc=$(grep -c '^ok ' "$out")
	notok=$(grep -c '^not ok ' "$out")
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$out" | cut -d. -f3)
	extra=0
	if [ -z "$plan" ] || [ "$plan" -ne $((okc + notok)) ]; then
		extra=1   # aborted script: count as one more failure
	fi
	pass=$((pass + okc))
	fail=$((fail + notok + extra))
	summary+=("$(printf '%-24s %d ok, %d not ok%s (exit %d)' "$name" "$okc" "$notok" \
		"$([ $extra -eq 1 ] && echo ', plan mismatch')" "$rc")")
done
echo
for l in "${summary[@]}"; do echo "$l"; done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
