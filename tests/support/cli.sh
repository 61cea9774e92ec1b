# Shared pieces of the CLI tests (sourced by tests/cli/*.sh, once: a second time would
# forget what ml_not_run recorded).
[ -n "${ML_CLI_SH:-}" ] && return 0
ML_CLI_SH=1

# ml_nobody_stage [HELPER...]: copies the memlens binary, its library and the named helper
# programs into a new directory that uid 65534 can reach, since the build tree may sit
# under a private directory such as /root. Sets NB_DIR and NB_MEMLENS (an argv prefix):
#   setpriv --reuid=65534 ... "${NB_MEMLENS[@]}" maps PID
ml_nobody_stage() {
	NB_DIR=$(mktemp -d /tmp/memlens-nobody.XXXXXX) || return 1
	cp "$MEMLENS" "$NB_DIR/memlens" || return 1
	cp -P "$ML_BINARY_DIR"/lib/libmemlens.so* "$NB_DIR/" || return 1
	local h
	for h in "$@"; do cp "$ML_HELPERS/$h" "$NB_DIR/$h" || return 1; done
	chmod -R a+rX "$NB_DIR"
	NB_MEMLENS=(env LD_LIBRARY_PATH="$NB_DIR" "$NB_DIR/memlens")
}

ml_nobody_clean() {
	[ -n "${NB_DIR:-}" ] && rm -rf "$NB_DIR"
	NB_DIR=
}

# ml_exec_done PID NAME: returns once PID has exec'd NAME (its comm), or 1 if PID is gone.
# A child started with `cmd &` is the shell's fork until then; memlens opened on it in that
# window would see the shell's address space go away under its reads.
ml_exec_done() {
	local c
	while c=$(cat "/proc/$1/comm" 2>/dev/null); do
		[ "$c" = "$2" ] && return 0
	done
	return 1
}

# ml_rows_rss FILE: the rows of a maps listing as "RANGE RSS" lines, to tell whether two
# listings agree (Pss is left out: it moves whenever another process maps a shared library)
ml_rows_rss() { awk '/^[0-9a-f]+-/ {print $1, $7}' "$1"; }

# ml_not_run REASON: a part of this test that cannot run on this machine or build. The test
# then ends as skipped (ml_done: "SKIP: ..." with every reason, exit 77), never as passed:
# a pass means that every check ran.
ML_NOT_RUN=()
ml_not_run() {
	ML_NOT_RUN+=("$*")
	echo "not run: $*"
}

# ml_done [STATUS]: the end of a test. A failure (STATUS != 0) stands; otherwise exit 77 if
# a part was not run, else 0.
ml_done() {
	local st=${1:-0}
	[ "$st" -ne 0 ] && exit "$st"
	if [ ${#ML_NOT_RUN[@]} -gt 0 ]; then
		printf 'SKIP: %s\n' "${ML_NOT_RUN[@]}"
		exit 77
	fi
	exit 0
}
