# shellcheck shell=bash
# hack/bench/lib.sh: helpers of hack/bench/run (sourced, not run): messages,
# what the benchmarks need installed, the clean environment every timed
# command runs in, hyperfine and peak-RSS measurement, and the statistics
# and verdicts of the report. Expects REPO, TMP, ROUNDS and GO to be set.

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# calc EXPR [NAME=VALUE...]: awk arithmetic, printed as given by EXPR's printf.
calc() {
	local expr=$1 vars=()
	shift
	for v in "$@"; do vars+=(-v "$v"); done
	awk "${vars[@]}" "BEGIN { $expr }"
}

# install_missing: the Debian packages the benchmarks use, installed when
# missing (needs root, as `make bench` runs on the project's machines).
install_missing() {
	local missing=()
	command -v hyperfine >/dev/null || missing+=(hyperfine)
	[ -x /usr/bin/time ] || missing+=(time)
	command -v gpg >/dev/null || missing+=(gnupg)
	command -v ssh-keygen >/dev/null || missing+=(openssh-client)
	command -v unshare >/dev/null || missing+=(util-linux)
	command -v jq >/dev/null || missing+=(jq)
	command -v openssl >/dev/null || missing+=(openssl)
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then die "need root to apt-get install ${missing[*]} (or install them yourself)"; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$TMP/apt.log" 2>&1 ||
		{ apt-get update -q >>"$TMP/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$TMP/apt.log" 2>&1; } ||
		{ tail -n 20 "$TMP/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
}

# CLEAN: run a command with nothing from the caller's environment that
# could change what git, gpg or gitsign do: the scratch HOME, no system git
# config, the throwaway GNUPGHOME, no GITSIGN_ or SIGSTORE_ variables.
CLEAN=(env -i PATH="$PATH" HOME="$TMP/home" LANG=C.UTF-8 GIT_CONFIG_NOSYSTEM=1 GNUPGHOME="$TMP/gnupg")
clean_env() { "${CLEAN[@]}" "$@"; }

# hf NAME CMD...: hyperfine -N (no shell) one command with RUNS, hyperfine
# itself running in the clean environment plus XENV (NAME=VALUE words), so
# that no wrapper process is timed, behind WRAP when set (e.g. the stack's
# network namespace). Appends "name,median,user,system,mean,stddev,min,max"
# (seconds; user and system are hyperfine's means) to $TMP/results.csv.
WRAP=()
XENV=()
hf() {
	local name=$1
	shift
	local csv=$TMP/hf-$name.csv
	${WRAP[@]+"${WRAP[@]}"} "${CLEAN[@]}" ${XENV[@]+"${XENV[@]}"} hyperfine -N --style none "${RUNS[@]}" \
		--export-csv "$csv" -n "$name" "$(printf '%q ' "$@")" >"$TMP/hf-$name.log" 2>&1 ||
		{ cat "$TMP/hf-$name.log" >&2; die "hyperfine $name failed"; }
	# hyperfine's CSV: command,mean,stddev,median,user,system,min,max
	awk -F, -v n="$name" 'NR == 2 { print n "," $4 "," $5 "," $6 "," $2 "," $3 "," $7 "," $8 }' "$csv" >>"$TMP/results.csv"
}

# rss NAME CMD...: run CMD RSS_RUNS times under /usr/bin/time, recording
# each run's peak RSS in KiB as NAME (for a tree of processes, that of the
# largest one) and its wall time in seconds as NAME-secs; read them back
# with val. The last run's output is left in $TMP/rss.out.
rss() {
	local name=$1 i
	shift
	for ((i = 0; i < RSS_RUNS; i++)); do
		/usr/bin/time -f '%M %e' -o "$TMP/rss" "$@" >"$TMP/rss.out" 2>"$TMP/rss.err" || { cat "$TMP/rss.err" >&2; die "failed: $*"; }
		read -r kib secs < <(tail -n 1 "$TMP/rss")
		record "$name" "$kib"
		record "$name-secs" "$secs"
	done
}

# median: the median of the numbers on stdin, one a line.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# record NAME VALUE: a figure measured outside hyperfine (one per round),
# summarised like hyperfine's with val.
record() { echo "$1,$2" >>"$TMP/values.csv"; }
val() { awk -F, -v n="$1" '$1 == n { print $2 }' "$TMP/values.csv" | median; }

# col NAME COLUMN: the median over NAME's rounds (2 median, 3 user,
# 4 system, 5 mean), in seconds.
col() { awk -F, -v n="$1" -v c="$2" '$1 == n { print $c }' "$TMP/results.csv" | median; }
# cpu NAME: the median over rounds of user+system, in seconds.
cpu() { awk -F, -v n="$1" '$1 == n { print $3 + $4 }' "$TMP/results.csv" | median; }
# spread NAME: "lo-hi" of NAME's round medians in ms, when it had rounds.
spread() {
	awk -F, -v n="$1" '$1 == n { k++; m = $2 * 1000; if (k == 1 || m < lo) lo = m; if (k == 1 || m > hi) hi = m }
		END { if (k > 1) printf "%.2f-%.2f", lo, hi }' "$TMP/results.csv"
}
ms() { calc 'printf "%.2f", s * 1000' s="$(col "$1" 2)"; }
ratio() { calc 'printf "%.2f", a / b' a="$(col "$1" 2)" b="$(col "$2" 2)"; }

# verdict RATIO TARGET [STRETCH]: MET or MISSED, against the target (and
# the stretch target, when given).
verdict() {
	calc 'if (r <= t) v = "MET"; else v = sprintf("MISSED (%.0f%% over)", (r / t - 1) * 100)
		if (s != "") v = v sprintf("; stretch <= %sx: %s", s, r <= s ? "MET" : "MISSED"); print v' r="$1" t="$2" s="${3:-}"
}

# row NAME LABEL [RSS]: one line of the table of hyperfine results.
row() {
	printf '| %-58s | %9s | %-17s | %8.2f | %8.2f | %9s |\n' "$2" "$(ms "$1")" "$(spread "$1")" \
		"$(calc 'print s * 1000' s="$(col "$1" 3)")" "$(calc 'print s * 1000' s="$(col "$1" 4)")" "${3:-}"
}
table_head() {
	echo "| command (hyperfine -N, median of round medians)            | median ms | rounds ms         |  user ms |   sys ms | peak RSS  |"
	echo "|------------------------------------------------------------|-----------|-------------------|----------|----------|-----------|"
}
mib() { calc 'printf "%.1f MiB", k / 1024' k="$1"; }

# proc_cpu_ns PID: CPU time (user+system) of all of PID's threads so far,
# in ns (from the scheduler's per-thread counters, else clock ticks).
proc_cpu_ns() {
	local t sum=0 v
	for t in /proc/"$1"/task/*/schedstat; do
		read -r v _ <"$t" 2>/dev/null || continue
		sum=$((sum + v))
	done
	if [ "$sum" -gt 0 ]; then echo "$sum"; return; fi
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f\n", ($14 + $15) * 1e9 / hz }' "/proc/$1/stat"
}

# own_rss NAME INPUT CMD...: run CMD RSS_RUNS times with stdin from INPUT,
# recording as NAME the peak RSS in KiB of CMD's own process alone
# (VmHWM, read from /proc every 10 ms until it exits; its children, e.g.
# the git it runs, are not counted, unlike with rss). CMD must exec the
# measured program in its own process (env does).
own_rss() {
	local name=$1 in=$2 i pid st hwm tick
	shift 2
	[ -p "$TMP/tick" ] || mkfifo "$TMP/tick"
	exec {tick}<>"$TMP/tick" # never written: read -t on it is a sleep without a fork
	for ((i = 0; i < RSS_RUNS; i++)); do
		"$@" <"$in" >"$TMP/own.out" 2>"$TMP/own.err" &
		pid=$!
		hwm=
		while :; do
			# The whole file in one read: read line by line, bash seeks
			# back after each line, the kernel makes the file again, and
			# a line can go missing. A zombie's status has no VmHWM: the
			# process has exited.
			st=
			IFS= read -r -d '' st 2>/dev/null <"/proc/$pid/status" || true
			[[ $st == *VmHWM:* ]] || break
			st=${st#*VmHWM:}
			st=${st%%kB*}
			hwm=${st//[[:space:]]/}
			read -r -t 0.01 -u "$tick" _ || true
		done
		wait "$pid" || { cat "$TMP/own.err" >&2; die "failed: $*"; }
		[ -n "$hwm" ] || die "no VmHWM read for $*"
		record "$name" "$hwm"
	done
	exec {tick}>&-
}
