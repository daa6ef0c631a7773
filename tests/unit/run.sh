#!/usr/bin/env bash
# tests/unit/run.sh [--timeout SEC] BINARY... — run sentry unit tests (TAP) natively.
# Prints one line per binary (PASS/FAIL/CRASH/TIMEOUT with passed/planned), the
# failing TAP lines, and a final "N passed, M failed" line (N/M count binaries).
# Exit status is 1 if any binary failed. Plain bash + coreutils.
set -u
TIMEOUT=120
if [ "${1:-}" = --timeout ]; then TIMEOUT=$2; shift 2; fi
pass=0
fail=0
out=$(mktemp "${TMPDIR:-/tmp}/cvisor-unit.XXXXXX")
trap 'rm -f "$out"' EXIT
for t in "$@"; do
	name=$(basename "$t")
	if [ ! -x "$t" ]; then
		printf '%-8s %s (not found)\n' MISSING "$name"
		fail=$((fail + 1))
		continue
	fi
	( timeout -k 5 "$TIMEOUT" "$t" >"$out" 2>&1 </dev/null; exit $? ) 2>/dev/null
	rc=$?
	okc=$(grep -c '^ok ' "$out")
	notok=$(grep -c '^not ok ' "$out")
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$out" | cut -d. -f3)
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		status=TIMEOUT
	elif [ $rc -gt 128 ] && [ $rc -lt 160 ]; then
		status="CRASH(SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128))))"
	elif [ $rc -ne 0 ] || [ -z "$plan" ] || [ "$notok" -ne 0 ] || [ "$plan" -ne $((okc + notok)) ]; then
		status=FAIL
	else
		status=PASS
	fi
	printf '%-8s %s %s/%s\n' "$status" "$name" "$okc" "${plan:-?}"
	if [ "$status" = PASS ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		[ -z "$plan" ] && echo "    (no TAP plan; exit status $rc)"
		[ -n "$plan" ] && [ "$plan" -ne $((okc + notok)) ] &&
			echo "    (plan 1..$plan but $((okc + notok)) test lines)"
		awk '/^not ok /{p=1; print "    " $0; next} /^#/{ if (p) print "    " $0; next} {p=0}' "$out" | head -40
		if [ "$status" != FAIL ] || [ -z "$plan" ]; then
			tail -n 10 "$out" | sed 's/^/    | /'
		fi
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
