#!/usr/bin/env bash
# Runs the integration and CLI tests of build dir $1 again under the transparent huge page
# settings the machine does not have, so that both sides of each THP difference are tested
# wherever CI runs: "always" with the huge zero page off (use_zero_page=0: a read fault
# maps a private THP), then "never". The machine's own settings are put back on exit,
# also after a failure or an interrupt. Needs root and a writable /sys; where they are
# not, it says so and runs nothing (exit 0): the settings cannot be chosen there.
set -euo pipefail
bdir=${1:-build}
T=/sys/kernel/mm/transparent_hugepage
if [ ! -e "$T/enabled" ]; then
	echo "thp-modes: SKIP: this kernel has no transparent huge pages ($T/enabled missing)"
	exit 0
fi
mode=$(sed 's/.*\[\(.*\)\].*/\1/' "$T/enabled")
zero=$(cat "$T/use_zero_page" 2>/dev/null || echo)
if ! { [ -w "$T/enabled" ] && echo "$mode" > "$T/enabled"; } 2>/dev/null; then
	echo "thp-modes: SKIP: $T/enabled cannot be written here (needs root and a writable /sys); the suite ran under \"$mode\" only"
	exit 0
fi
restore() {
	echo "$mode" > "$T/enabled"
	[ -n "$zero" ] && echo "$zero" > "$T/use_zero_page"
	echo "thp-modes: restored enabled=$mode${zero:+ use_zero_page=$zero}"
}
trap restore EXIT
trap 'exit 130' INT TERM
fail=0
for cfg in always:0 never:; do
	m=${cfg%%:*} z=${cfg#*:}
	echo "$m" > "$T/enabled"
	[ -n "$z" ] && [ -n "$zero" ] && echo "$z" > "$T/use_zero_page"
	echo "thp-modes: enabled=$m${z:+ use_zero_page=$z}"
	ctest --test-dir "$bdir" --output-on-failure -j"$(nproc)" -L 'integration|cli' || fail=1
	[ -n "$zero" ] && echo "$zero" > "$T/use_zero_page"
done
exit $fail
