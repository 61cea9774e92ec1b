# Shared pieces of the CLI tests (sourced by tests/cli/*.sh).

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
