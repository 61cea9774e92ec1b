# bash completion for memlens: subcommands, each one's options (read from its --help, so
# they are always those of the installed binary), PIDs with their names, snapshot files.
# Needs only bash itself (bash-completion's helpers are not required).

# Subcommands, from 'memlens help'.
_memlens_commands() {
	"$1" help 2>/dev/null | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}'
}

# "OPTION ARG" per option of a subcommand (ARG "-" for none), from its --help.
_memlens_options() {
	"$@" --help 2>/dev/null | awk '
		/^options:/ {on = 1; next}
		on && /^  +-/ {
			line = $0
			sub(/^ +/, "", line)
			n = split(line, w, /[ ,]+/)
			k = 0; arg = "-"
			for (i = 1; i <= n; i++) {
				if (w[i] ~ /^--?[A-Za-z0-9]/) {
					opt = w[i]
					if (opt ~ /=/) { arg = substr(opt, index(opt, "=") + 1); opt = substr(opt, 1, index(opt, "=") - 1) }
					names[++k] = opt
				} else {
					if (w[i] ~ /^[A-Z][A-Z0-9_.,-]*$/) arg = w[i]
					break
				}
			}
			for (i = 1; i <= k; i++) print names[i], arg
		}'
}

# PIDs of processes that have user memory; while listing (several candidates, or TAB TAB),
# each is shown with its name as "PID (name)".
_memlens_pids() {
	local cur=$1 d pid comm out=()
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[[ $pid == "$cur"* ]] || continue
		[ -e "$d/exe" ] || continue # kernel threads, and processes this user may not read
		read -r comm <"$d/comm" 2>/dev/null || continue
		out+=("$pid" "$comm")
	done
	_memlens_pid_reply "${out[@]}"
}

# PIDs of processes whose name starts with @1 (a name is completed to its PID).
_memlens_named() {
	local cur=$1 d comm out=()
	for d in /proc/[0-9]*; do
		[ -e "$d/exe" ] || continue
		read -r comm <"$d/comm" 2>/dev/null || continue
		[[ $comm == "$cur"* ]] && out+=("${d#/proc/}" "$comm")
	done
	_memlens_pid_reply "${out[@]}"
}

_memlens_pid_reply() { # PID NAME PID NAME ...
	local i n=$(($# / 2)) a=("$@")
	if [ "$n" -eq 1 ]; then
		COMPREPLY+=("${a[0]}")
		return
	fi
	for ((i = 0; i < ${#a[@]}; i += 2)); do
		COMPREPLY+=("${a[i]} (${a[i + 1]})")
	done
}

_memlens_files() {
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen -f -- "$1"))
}

_memlens() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev= prog=${COMP_WORDS[0]}
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	command -v "$prog" >/dev/null 2>&1 || prog=memlens
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$(_memlens_commands "$prog") help --help --version" -- "$cur"))
		return 0
	fi
	local cmd=(${COMP_WORDS[1]}) first=2
	if [ "${COMP_WORDS[1]}" = core ]; then
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "info verify expand export import" -- "$cur"))
			return 0
		fi
		cmd+=("${COMP_WORDS[2]}")
		first=3
	fi
	if [ "${COMP_WORDS[1]}" = help ]; then
		COMPREPLY=($(compgen -W "$(_memlens_commands "$prog")" -- "$cur"))
		return 0
	fi
	local opts arg= line
	opts=$(_memlens_options "$prog" "${cmd[@]}")
	# the argument of the option before the cursor
	if [[ $prev == -* ]]; then
		while read -r line; do
			[ "${line%% *}" = "$prev" ] && arg=${line#* }
		done <<<"$opts"
	fi
	case $arg in
	"" | -) ;;
	PID*) _memlens_pids "${cur##*,}"; return 0 ;;
	FILE* | CORE* | DIR*) _memlens_files "$cur"; return 0 ;;
	*) return 0 ;; # a value: nothing to offer
	esac
	if [[ $cur == -* ]]; then
		local IFS=$'\n'
		COMPREPLY=($(compgen -W "$(cut -d' ' -f1 <<<"$opts")" -- "$cur"))
		return 0
	fi
	# a positional argument: a PID (by number or name) or a snapshot file
	if [[ $cur =~ ^[0-9]*$ ]]; then
		_memlens_pids "$cur"
		[ -z "$cur" ] && _memlens_files "$cur"
	else
		_memlens_files "$cur"
		[[ $cur != */* && $cur != .* ]] && _memlens_named "$cur"
	fi
	return 0
}
complete -F _memlens memlens
