# shellcheck shell=bash
# hack/bench/hook.sh: the benchmarks of `gitsign pre-receive`, the server
# hook of issue 18 (sourced by hack/bench/run, not run):
#
#   7. a push of BIG commits signed after one login: the hook's wall time
#      against `gitsign verify` over the same commits, both on all cores
#                                                           target <= 1.5x
#   8. memory: the hook's peak RSS over BIG commits against N commits: of
#      the gitsign process alone (the target), and of its largest process
#      with the git it runs (shown, not counted)        target: within 10%
#   9. a one-commit push: the wall time the hook adds to `git push` of one
#      signed commit                                        target <= 50 ms
#
# 7 and 8 run in a server repository made from a cached range (ranges.sh):
# a bare repository whose HEAD branch, main, holds the policy (a commit on
# the range's root that adds .gitsigners listing the range's signer), with
# gitsign.trustedRoot the range's trusted root and gitsign.receive.protect
# refs/heads/* and refs/tags/*. refs/heads/dev is the root. The range's
# commits are in the repository under refs/bench/range, a ref the hook does
# not take as verified. The hook runs in the repository, as git runs it,
# fed git's line "ROOT TIP refs/heads/dev": a fast-forward of a protected
# branch, so it also runs its ancestry check. It verifies exactly the
# commits of ROOT..TIP, and the reference is `gitsign verify
# --allowed-signers HEAD:.gitsigners ROOT..TIP` in the same repository.
# The end-to-end figure pushes the range with `git push` into a fresh copy
# of that repository without the range's commits, with and without the hook.
#
# 9 signs one commit on the policy commit in the stack's namespace (one
# login), then pushes it HOOK_PAIRS times to two fresh bare repositories
# whose main is the policy commit, one with hooks/pre-receive running
# `gitsign pre-receive`, one without, alternating which goes first; the
# figure is the median of the paired differences.
#
# Expects what hack/bench/run sets: REPO, TMP, GITSIGN, STACK, CLEAN,
# POLICY, N, BIG, the ranges (S_*, B_*), ROUNDS, RSS_RUNS.

if [ -n "${BENCH_QUICK:-}" ]; then
	HOOK_RUNS=(--warmup 0 --runs 1) HOOK_E2E_RUNS=(--runs 1) HOOK_PAIRS=7
else
	HOOK_RUNS=(--warmup 1 --runs 3) HOOK_E2E_RUNS=(--runs 2) HOOK_PAIRS=41
fi
# The allowed-signers line of the stack's signer, the one of POLICY.
HOOK_SIGNER="${POLICY[1]} ${POLICY[3]}"
# IN_SH INPUT CMD...: CMD with stdin from INPUT (hyperfine -N gives none).
# The sh execs CMD, so CMD is the process measured, as when git runs a
# hooks/pre-receive that execs gitsign.
# shellcheck disable=SC2016 # expanded by that sh
IN_SH=(sh -c 'in=$1; shift; exec "$@" <"$in"' sh)
E2E_NOTE=

# hook_git ARGS...: git in the clean environment, as the bench's committer.
hook_git() {
	clean_env GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.test \
		GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.test git "$@"
}

# hook_policy REPO [PARENT]: a commit (on PARENT) whose tree holds only
# .gitsigners listing the stack's signer; prints its id. It is unsigned:
# it is on the server before the hook.
hook_policy() {
	local blob tree
	blob=$(printf '%s\n' "$HOOK_SIGNER" | hook_git -C "$1" hash-object -w --stdin)
	tree=$(printf '100644 blob %s\t.gitsigners\n' "$blob" | hook_git -C "$1" mktree)
	hook_git -C "$1" commit-tree ${2:+-p "$2"} -m 'who may sign' "$tree"
}

# hook_install REPO: hooks/pre-receive as the README installs it.
hook_install() {
	printf '#!/bin/sh\nexec %s pre-receive\n' "$GITSIGN" >"$1/hooks/pre-receive"
	chmod +x "$1/hooks/pre-receive"
}

# hook_server DEST RANGE_DIR ROOT TIP [empty]: the server repository of a
# range (above), and DEST.line, git's line for the push of the range. With
# "empty", without the range's commits (for git push to bring them).
hook_server() {
	local dest=$1 dir=$2 root=$3 tip=$4
	clean_env git init -q --bare -b main "$dest"
	if [ "${5:-}" = empty ]; then
		hook_git -C "$dest" fetch -q --no-tags "$dir/repo" refs/tags/bench-root:refs/heads/dev
	else
		# The commits alone, as a pack: fetch would also pack their tree,
		# and the commits of hack/bench/mkrange name one that is not there.
		hook_git -C "$dir/repo" rev-list "$root^!" "$tip" | hook_git -C "$dir/repo" pack-objects -q --stdout |
			hook_git -C "$dest" index-pack --stdin >/dev/null
		hook_git -C "$dest" update-ref refs/bench/range "$tip"
		hook_git -C "$dest" update-ref refs/heads/dev "$root"
	fi
	hook_git -C "$dest" update-ref refs/heads/main "$(hook_policy "$dest" "$root")"
	hook_git -C "$dest" config gitsign.trustedRoot "$dir/trusted_root.json"
	hook_git -C "$dest" config gitsign.receive.protect 'refs/heads/*'
	hook_git -C "$dest" config --add gitsign.receive.protect 'refs/tags/*'
	echo "$root $tip refs/heads/dev" >"$dest.line"
}

# hook_expect DIR WANT: gitsign pre-receive in DIR, fed DIR.line, accepts
# the push and says WANT (e.g. "1000 new objects verified").
hook_expect() {
	local out
	out=$(cd "$1" && clean_env "$GITSIGN" pre-receive <"$1.line" 2>&1) ||
		{ echo "$out" >&2; die "gitsign pre-receive in $1 refused the push"; }
	grep -q "push accepted: $2" <<<"$out" || { echo "$out" >&2; die "gitsign pre-receive in $1: want \"$2\""; }
}

# hook_reset_script: writes $TMP/hook-reset, which makes $1 a fresh copy of
# the repository $2 (hyperfine's --prepare, and before each pair of pushes).
hook_reset_script() {
	# shellcheck disable=SC2016 # the script's own arguments
	printf '#!/bin/sh\nrm -rf "$1" && exec cp -a "$2" "$1"\n' >"$TMP/hook-reset"
	chmod +x "$TMP/hook-reset"
}

fig_hook() {
	say "7-9 gitsign pre-receive: a push of $BIG commits against gitsign verify; memory over $N and $BIG; a one-commit push"
	hook_reset_script
	HS=$TMP/hook-small.git HB=$TMP/hook-big.git
	hook_server "$HS" "$S_DIR" "$S_ROOT" "$S_TIP"
	hook_server "$HB" "$B_DIR" "$B_ROOT" "$B_TIP"
	V_HOOK=(verify --allowed-signers HEAD:.gitsigners "$B_ROOT..$B_TIP")
	hook_expect "$HS" "$N new objects verified"
	hook_expect "$HB" "$BIG new objects verified"
	expect_good "$BIG" "$HB" "$GITSIGN" "${V_HOOK[@]}"
	local r
	RUNS=("${HOOK_RUNS[@]}")
	for ((r = 0; r < ROUNDS; r++)); do
		(cd "$HB" && hf hook-verify "${IN_SH[@]}" /dev/null "$GITSIGN" "${V_HOOK[@]}")
		(cd "$HB" && hf hook-big "${IN_SH[@]}" "$HB.line" "$GITSIGN" pre-receive)
	done
	# Memory: the whole hook (rss: its largest process), gitsign alone, and
	# the fast-forward check of the protected ref alone.
	(cd "$HS" && rss rss-hook-n "${CLEAN[@]}" "${IN_SH[@]}" "$HS.line" "$GITSIGN" pre-receive)
	(cd "$HB" && rss rss-hook-big "${CLEAN[@]}" "${IN_SH[@]}" "$HB.line" "$GITSIGN" pre-receive)
	(cd "$HS" && own_rss own-hook-n "$HS.line" "${CLEAN[@]}" "$GITSIGN" pre-receive)
	(cd "$HB" && own_rss own-hook-big "$HB.line" "${CLEAN[@]}" "$GITSIGN" pre-receive)
	(cd "$HS" && rss rss-ancestry-n "${CLEAN[@]}" git merge-base --is-ancestor "$S_ROOT" "$S_TIP")
	(cd "$HB" && rss rss-ancestry-big "${CLEAN[@]}" git merge-base --is-ancestor "$B_ROOT" "$B_TIP")
	hook_e2e
	hook_one
}

# hook_e2e: git push of the BIG range into a fresh server repository, with
# and without the hook, when git can pack the range.
hook_e2e() {
	local tree src=$TMP/hook-e2e-src.git srv=$TMP/hook-e2e.git out r
	tree=$(clean_env git -C "$B_DIR/repo" cat-file commit "$B_ROOT" | sed -n '1s/^tree //p')
	if ! clean_env git -C "$B_DIR/repo" cat-file -e "$tree" 2>/dev/null; then
		E2E_NOTE="not measured: the range's commits name tree $tree, which is not in its repository, so git cannot pack them for a push"
		return
	fi
	clean_env git init -q --bare "$src"
	echo "$B_DIR/repo/.git/objects" >"$src/objects/info/alternates"
	hook_server "$TMP/hook-e2e-none.tpl" "$B_DIR" "$B_ROOT" "$B_TIP" empty
	hook_server "$TMP/hook-e2e-hook.tpl" "$B_DIR" "$B_ROOT" "$B_TIP" empty
	hook_install "$TMP/hook-e2e-hook.tpl"
	"$TMP/hook-reset" "$srv" "$TMP/hook-e2e-hook.tpl"
	out=$(clean_env git -C "$src" push "$srv" "$B_TIP:refs/heads/dev" 2>&1) || { echo "$out" >&2; die "git push of the $BIG commits failed"; }
	grep -q "push accepted: $BIG new objects verified" <<<"$out" || { echo "$out" >&2; die "git push of the $BIG commits: the hook did not verify them"; }
	[ "$(clean_env git -C "$srv" rev-parse refs/heads/dev)" = "$B_TIP" ] || die "git push of the $BIG commits did not update refs/heads/dev"
	for ((r = 0; r < ROUNDS; r++)); do
		RUNS=("${HOOK_E2E_RUNS[@]}" --prepare "$TMP/hook-reset $srv $TMP/hook-e2e-none.tpl")
		hf push-big-none git -C "$src" push -q "$srv" "$B_TIP:refs/heads/dev"
		RUNS=("${HOOK_E2E_RUNS[@]}" --prepare "$TMP/hook-reset $srv $TMP/hook-e2e-hook.tpl")
		hf push-big-hook git -C "$src" push -q "$srv" "$B_TIP:refs/heads/dev"
	done
}

# hook_push SERVER: the wall time in seconds of one git push of HOOK_ONE
# onto SERVER's main.
hook_push() {
	local t0 t1
	t0=${EPOCHREALTIME/,/.}
	"${CLEAN[@]}" git -C "$HC" push -q "$1" "$HOOK_ONE:refs/heads/main" 2>>"$TMP/hook-push.log" ||
		{ tail -n 5 "$TMP/hook-push.log" >&2; die "git push to $1 failed"; }
	t1=${EPOCHREALTIME/,/.}
	calc 'printf "%.6f", b - a' a="$t0" b="$t1"
}

# hook_one: figure 9, and what the hook costs alone for one commit.
hook_one() {
	stack_up
	local tr token t i th tn out hd=$TMP/hook-one.git
	tr=$TMP/hook-trusted_root.json
	cp "$(stack_var GITSIGN_TRUSTED_ROOT)" "$tr"
	token=$("$STACK" token) || die "hack/sigstore-local token failed"
	HC=$TMP/hook-client.git
	clean_env git init -q --bare -b main "$HC"
	HOOK_BASE=$(hook_policy "$HC")
	mapfile -t vars < <(stack_client_env)
	HOOK_ONE=$(cd "$TMP/home" && "$STACK" exec "${CLEAN[@]}" "${vars[@]}" SIGSTORE_ID_TOKEN="$token" GITSIGN_CACHE=off \
		GITSIGN_TRUSTED_ROOT="$tr" GIT_AUTHOR_NAME=Alice GIT_AUTHOR_EMAIL=alice@example.test GIT_COMMITTER_NAME=Alice \
		GIT_COMMITTER_EMAIL=alice@example.test git -C "$HC" -c gpg.format=x509 -c gpg.x509.program="$GITSIGN" \
		commit-tree -S -p "$HOOK_BASE" -m 'one signed commit' "$HOOK_BASE^{tree}" 2>"$TMP/hook-sign.log") ||
		{ cat "$TMP/hook-sign.log" >&2; die "signing the commit of the one-commit push failed"; }
	hook_git -C "$HC" update-ref refs/heads/main "$HOOK_ONE"
	for t in none hook; do
		clean_env git init -q --bare -b main "$TMP/hook-one-$t.tpl"
		clean_env git -C "$HC" push -q "$TMP/hook-one-$t.tpl" "$HOOK_BASE:refs/heads/main"
		clean_env git -C "$TMP/hook-one-$t.tpl" config gitsign.trustedRoot "$tr"
	done
	hook_install "$TMP/hook-one-hook.tpl"
	# The push is accepted through the hook; and the hook alone, fed the
	# push's line, with the commit already in the repository.
	"$TMP/hook-reset" "$TMP/hook-one-h.git" "$TMP/hook-one-hook.tpl"
	out=$(clean_env git -C "$HC" push "$TMP/hook-one-h.git" "$HOOK_ONE:refs/heads/main" 2>&1) ||
		{ echo "$out" >&2; die "the one-commit push through the hook failed"; }
	grep -q 'push accepted: 1 new object verified' <<<"$out" || { echo "$out" >&2; die "the one-commit push: the hook did not verify it"; }
	"$TMP/hook-reset" "$hd" "$TMP/hook-one-none.tpl"
	clean_env git -C "$HC" push -q "$hd" "$HOOK_ONE:refs/bench/one"
	echo "$HOOK_BASE $HOOK_ONE refs/heads/main" >"$hd.line"
	hook_expect "$hd" "1 new object verified"
	(cd "$hd" && clean_env GIT_TRACE="$TMP/hook-trace" "$GITSIGN" pre-receive <"$hd.line" 2>/dev/null)
	HOOK_GITS=$(grep -c 'trace: built-in: git' "$TMP/hook-trace")
	for ((i = 0; i < HOOK_PAIRS; i++)); do
		"$TMP/hook-reset" "$TMP/hook-one-h.git" "$TMP/hook-one-hook.tpl"
		"$TMP/hook-reset" "$TMP/hook-one-n.git" "$TMP/hook-one-none.tpl"
		if ((i % 2)); then
			th=$(hook_push "$TMP/hook-one-h.git")
			tn=$(hook_push "$TMP/hook-one-n.git")
		else
			tn=$(hook_push "$TMP/hook-one-n.git")
			th=$(hook_push "$TMP/hook-one-h.git")
		fi
		record push-one-hook "$th"
		record push-one-none "$tn"
		record push-one-diff "$(calc 'printf "%.6f", a - b' a="$th" b="$tn")"
	done
	# shellcheck disable=SC2034 # read by hf
	RUNS=("${VC_RUNS[@]}")
	for ((i = 0; i < ROUNDS; i++)); do
		(cd "$hd" && hf hook-one "${IN_SH[@]}" "$hd.line" "$GITSIGN" pre-receive)
		(cd "$hd" && hf hook-version "$GITSIGN" --version)
		(cd "$hd" && hf hook-git git rev-parse --git-dir)
	done
}

# ---------------------------------------------------------------------------
# Report

# quartiles NAME: "q1-q3" of NAME's values, in ms.
quartiles() {
	awk -F, -v n="$1" '$1 == n { print $2 * 1000 }' "$TMP/values.csv" | sort -g |
		awk '{ v[NR] = $1 } END { printf "%.1f to %.1f", v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)] }'
}

hook_rows() {
	row hook-verify "gitsign verify, $BIG commits (server repository)"
	row hook-big "gitsign pre-receive, the same $BIG commits" "$(mib "$(val rss-hook-big)")"
	if [ -z "$E2E_NOTE" ]; then
		row push-big-none "git push, $BIG commits, no hook"
		row push-big-hook "git push, $BIG commits, pre-receive hook"
	fi
	row hook-one "gitsign pre-receive, one commit (fed the line)"
	row hook-version "  gitsign --version (same runs)"
	row hook-git "  git rev-parse --git-dir (one git process)"
}

# ms_line NUM LABEL DETAIL MS TARGET: a line of RATIOS for a target in ms.
ms_line() {
	local v
	v=$(verdict "$4" "$5")
	TARGETS=$((TARGETS + 1))
	case $v in MET*) MET=$((MET + 1)) ;; esac
	printf '  %-2s %-56s %-24s = %6s ms target <= %s ms: %s\n' "$1" "$2" "$3" "$4" "$5" "$v"
}

hook_ratios() {
	local own_n own_b tree_n tree_b over r
	own_n=$(val own-hook-n) own_b=$(val own-hook-big)
	tree_n=$(val rss-hook-n) tree_b=$(val rss-hook-big)
	over=$(calc 'printf "%.1f", d * 1000' d="$(val push-one-diff)")
	ratio_line 7 "pre-receive, $BIG commits: wall / gitsign verify" "$(ms hook-big) / $(ms hook-verify) ms" "$(ratio hook-big hook-verify)" 1.5
	ratio_line 8 "pre-receive peak RSS, $BIG vs $N: gitsign alone" "$(mib "$own_b") / $(mib "$own_n")" \
		"$(calc 'printf "%.2f", (a > b ? a / b : b / a)' a="$own_b" b="$own_n")" 1.1
	# Not counted as a target (it is git's memory), but shown beside it.
	r=$(calc 'printf "%.2f", (a > b ? a / b : b / a)' a="$tree_b" b="$tree_n")
	printf '  %-2s %-56s %-24s = %6sx  (not a target) within 1.1x: %s\n' "" "  the whole hook: its largest process (see PRE-RECEIVE)" \
		"$(mib "$tree_b") / $(mib "$tree_n")" "$r" "$(calc 'print (r <= 1.1 ? "yes" : "no")' r="$r")"
	ms_line 9 "one-commit git push: what the hook adds (median)" "$(mss "$(val push-one-hook)") - $(mss "$(val push-one-none)")" "$over" 50
}

hook_details() {
	local c
	echo "PRE-RECEIVE (gitsign pre-receive in a bare repository: policy HEAD:.gitsigners on main; the push: ROOT..TIP onto refs/heads/dev, protected)"
	echo "  $BIG commits: hook $(calc 'printf "%.3f", s * 1e3 / n' s="$(col hook-big 2)" n="$BIG") ms per commit," \
		"gitsign verify $(calc 'printf "%.3f", s * 1e3 / n' s="$(col hook-verify 2)" n="$BIG") ms;" \
		"CPU (user+sys) hook $(calc 'printf "%.2f", s' s="$(cpu hook-big)") s, verify $(calc 'printf "%.2f", s' s="$(cpu hook-verify)") s"
	if [ -z "$E2E_NOTE" ]; then
		echo "  git push of the $BIG commits, end to end: $(calc 'printf "%.2f", s' s="$(col push-big-hook 2)") s with the hook," \
			"$(calc 'printf "%.2f", s' s="$(col push-big-none 2)") s without: the hook adds $(calc 'printf "%.2f", a - b' a="$(col push-big-hook 2)" b="$(col push-big-none 2)") s"
	else
		echo "  git push of the $BIG commits, end to end: $E2E_NOTE"
	fi
	echo "  peak RSS, $N / $BIG commits: gitsign alone $(mib "$(val own-hook-n)") / $(mib "$(val own-hook-big)");" \
		"its largest process $(mib "$(val rss-hook-n)") / $(mib "$(val rss-hook-big)");" \
		"git merge-base --is-ancestor ROOT TIP alone (the fast-forward check) $(mib "$(val rss-ancestry-n)") / $(mib "$(val rss-ancestry-big)")"
	c=$(awk -F, '$1 == "push-one-diff" { k++ } END { print k + 0 }' "$TMP/values.csv")
	echo "  one-commit push, $c pairs: $(mss "$(val push-one-hook)") with the hook, $(mss "$(val push-one-none)") without (medians);" \
		"the difference: median $(calc 'printf "%.1f", d * 1e3' d="$(val push-one-diff)") ms, quartiles $(quartiles push-one-diff) ms"
	echo "  the hook alone for that commit: $(ms hook-one) ms, of which gitsign's start-up (--version) $(ms hook-version) ms" \
		"and $HOOK_GITS git processes at about $(ms hook-git) ms each (git rev-parse --git-dir)"
}

# hook_report: the report of BENCH_HOOK_ONLY=1.
hook_report() {
	report_head
	table_head
	hook_rows
	echo
	echo "RATIOS (each against its reference measured in this run)"
	hook_ratios
	echo "  targets met: $MET of $TARGETS"
	echo
	hook_details
	echo
	echo "bench: done in $(since "$T0") s"
}
