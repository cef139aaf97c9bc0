# shellcheck shell=bash
# hack/bench/ranges.sh: the signed commit ranges of hack/bench/run
# (sourced, not run), made once against the local Sigstore stack and
# cached in the git-ignored hack/.stack/bench/:
#
#   shared-N/  N commits signed after one login (hack/bench/mkrange): every
#              commit has the same certificate
#   unique-N/  N commits each signed by bin/gitsign through `git
#              commit-tree -S` with the credential cache off, so each one
#              logs in and gets a fresh key and certificate from Fulcio
#
# Each holds repo/ (refs/heads/bench is the tip, refs/tags/bench-root the
# root; ROOT..TIP is exactly N commits), trusted_root.json (the stack's
# trusted root when the range was made: a restart makes new keys, so later
# runs verify with this copy) and meta ("ROOT TIP N CHAINS SECONDS
# CA-SHAPE"). A cache is made again with BENCH_REGEN=1, when it is missing
# or broken, and when the stack is up and its Fulcio CA chain has another
# shape (key types) than the one the range was signed under.
#
# Expects REPO, TMP, GO, STACK, CACHE, GITSIGN and CLEAN from hack/bench/run.

RANGE_NOTES=()

# stack_up: the local stack, started when it is not answering.
stack_up() {
	"$STACK" status >/dev/null 2>&1 || "$STACK" up || die "hack/sigstore-local up failed"
}

# stack_var NAME: a variable of `hack/sigstore-local env`.
stack_var() {
	local v
	v=$("$STACK" env | sed -n "s/^export $1=//p")
	[ -n "$v" ] || die "hack/sigstore-local env does not set $1"
	printf '%s\n' "$v"
}

# stack_client_env: NAME=VALUE words that point gitsign at the stack, as
# hack/bench/mkrange gets them (no timestamp authority: like the public
# instance with Rekor v1).
stack_client_env() {
	local v
	for v in GITSIGN_FULCIO_URL GITSIGN_REKOR_URL GITSIGN_OIDC_ISSUER GITSIGN_OIDC_CLIENT_ID; do
		printf '%s=%s\n' "$v" "$(stack_var "$v")"
	done
}

# ca_shape FILE: the key types of the Fulcio CA chains of a trusted root,
# e.g. "id-ecPublicKey/secp384r1,id-ecPublicKey/secp384r1".
ca_shape() {
	jq -r '.certificateAuthorities[].certChain.certificates[].rawBytes' "$1" | while read -r b; do
		base64 -d <<<"$b" | openssl x509 -inform DER -noout -text 2>/dev/null |
			awk '/Public Key Algorithm:/ { alg = $NF } /ASN1 OID:/ { curve = $NF } /Public-Key:/ { bits = $2 }
				END { print alg "/" (curve != "" ? curve : bits) }' | tr -d '()'
	done | paste -sd, -
}

# cache_ok DIR N: DIR holds a usable range of N commits.
cache_ok() {
	local dir=$1 n=$2 root tip count _ shape
	[ -z "${BENCH_REGEN:-}" ] && [ -f "$dir/meta" ] && [ -f "$dir/trusted_root.json" ] && [ -d "$dir/repo/.git" ] || return 1
	read -r root tip count _ _ shape <"$dir/meta" || return 1
	[ "$count" = "$n" ] || return 1
	[ "$(git -C "$dir/repo" rev-list --count "$root..$tip" 2>/dev/null)" = "$n" ] || return 1
	# Ranges made before mkrange named git's real empty tree cannot be pushed.
	if [ "$(git -C "$dir/repo" rev-parse "$tip^{tree}" 2>/dev/null)" != 4b825dc642cb6eb9a060e54bf8d69288fbee4904 ]; then
		say "${dir#"$REPO"/} names a tree that is not git's empty tree: making it again"
		return 1
	fi
	if "$STACK" status >/dev/null 2>&1; then
		local now_shape
		now_shape=$(ca_shape "$(stack_var GITSIGN_TRUSTED_ROOT)")
		if [ "$shape" != "$now_shape" ]; then
			say "${dir#"$REPO"/} was signed under a CA chain of $shape; the stack's is now $now_shape: making it again"
			return 1
		fi
	fi
}

# range_vars DIR: sets ROOT, TIP and GEN_SECS from DIR's meta. (ensure_*
# add a line about each range to RANGE_NOTES.)
range_vars() {
	read -r ROOT TIP _ _ GEN_SECS _ <"$1/meta"
}

# ensure_shared N: the shared-certificate range of N commits; sets
# SHARED_DIR, ROOT and TIP.
ensure_shared() {
	local n=$1 chains=${BENCH_CHAINS:-8}
	SHARED_DIR=$CACHE/shared-$n
	if cache_ok "$SHARED_DIR" "$n"; then
		range_vars "$SHARED_DIR"
		RANGE_NOTES+=("$n commits, one certificate: cached (made in $GEN_SECS s)")
		return
	fi
	say "making $n commits signed after one login (hack/bench/mkrange; once, cached in ${SHARED_DIR#"$REPO"/})"
	local g0 tr_src token out
	g0=$(now)
	stack_up
	tr_src=$(stack_var GITSIGN_TRUSTED_ROOT)
	[ -f "$tr_src" ] || die "the stack has no trusted root ($tr_src)"
	[ -x "$TMP/mkrange" ] || (cd "$REPO" && $GO build -o "$TMP/mkrange" ./hack/bench/mkrange) ||
		die "building hack/bench/mkrange failed"
	token=$("$STACK" token) || die "hack/sigstore-local token failed"
	rm -rf "$SHARED_DIR"
	mkdir -p "$SHARED_DIR"
	cp "$tr_src" "$SHARED_DIR/trusted_root.json"
	mapfile -t vars < <(stack_client_env)
	out=$(cd "$TMP/home" && "$STACK" exec "${CLEAN[@]}" "${vars[@]}" SIGSTORE_ID_TOKEN="$token" \
		"$TMP/mkrange" -repo "$SHARED_DIR/repo" -n "$n" -chains "$chains") || die "hack/bench/mkrange failed"
	read -r ROOT TIP <<<"$out"
	GEN_SECS=$(since "$g0")
	echo "$ROOT $TIP $n $chains $GEN_SECS $(ca_shape "$SHARED_DIR/trusted_root.json")" >"$SHARED_DIR/meta"
	RANGE_NOTES+=("$n commits, one certificate: made now in $GEN_SECS s ($chains chains)")
	say "made the $n-commit range in ${GEN_SECS}s"
}

# ensure_unique N: the unique-certificate range of N commits; sets
# UNIQUE_DIR, ROOT and TIP. Each commit is `git commit-tree -S` through
# bin/gitsign with GITSIGN_CACHE=off and the ID token in SIGSTORE_ID_TOKEN:
# one login, one fresh key and one Fulcio certificate per commit. CHAINS
# chains grow from the root side by side and a signed merge joins them.
ensure_unique() {
	local n=$1 chains=${BENCH_UNIQUE_CHAINS:-4}
	UNIQUE_DIR=$CACHE/unique-$n
	if cache_ok "$UNIQUE_DIR" "$n"; then
		range_vars "$UNIQUE_DIR"
		RANGE_NOTES+=("$n commits, a certificate each: cached (made in $GEN_SECS s)")
		return
	fi
	[ "$n" -gt "$chains" ] || die "BENCH_UNIQUE must be more than BENCH_UNIQUE_CHAINS ($chains)"
	say "making $n commits, one login and one certificate each (once, cached in ${UNIQUE_DIR#"$REPO"/})"
	local g0 tr_src token tree c pids=() heads=()
	g0=$(now)
	stack_up
	tr_src=$(stack_var GITSIGN_TRUSTED_ROOT)
	[ -f "$tr_src" ] || die "the stack has no trusted root ($tr_src)"
	token=$("$STACK" token) || die "hack/sigstore-local token failed"
	rm -rf "$UNIQUE_DIR"
	mkdir -p "$UNIQUE_DIR"
	cp "$tr_src" "$UNIQUE_DIR/trusted_root.json"
	clean_env git init -q -b main "$UNIQUE_DIR/repo"
	tree=$(clean_env git -C "$UNIQUE_DIR/repo" hash-object -t tree -w --stdin </dev/null)
	mapfile -t vars < <(stack_client_env)
	SIGN_ENV=("${vars[@]}" SIGSTORE_ID_TOKEN="$token" GITSIGN_CACHE=off GITSIGN_TRUSTED_ROOT="$tr_src"
		GIT_AUTHOR_NAME=Alice GIT_AUTHOR_EMAIL=alice@example.test GIT_COMMITTER_NAME=Alice GIT_COMMITTER_EMAIL=alice@example.test)
	ROOT=$(unique_commit "$tree" "root") || die "signing the root commit failed"
	# Chain c gets commits c, c+chains, ...: n-1 in all, then the merge.
	for ((c = 0; c < chains; c++)); do
		(
			prev=$ROOT
			for ((i = c + 1; i < n; i += chains)); do
				prev=$(unique_commit "$tree" "commit $i" -p "$prev") || exit 1
			done
			echo "$prev" >"$TMP/unique-head-$c"
		) &
		pids+=($!)
	done
	for c in "${!pids[@]}"; do
		wait "${pids[$c]}" || die "signing chain $c of the unique-certificate range failed"
		heads+=(-p "$(cat "$TMP/unique-head-$c")")
	done
	TIP=$(unique_commit "$tree" "merge" "${heads[@]}") || die "signing the merge commit failed"
	clean_env git -C "$UNIQUE_DIR/repo" update-ref refs/heads/bench "$TIP"
	clean_env git -C "$UNIQUE_DIR/repo" update-ref refs/tags/bench-root "$ROOT"
	[ "$(clean_env git -C "$UNIQUE_DIR/repo" rev-list --count "$ROOT..$TIP")" = "$n" ] || die "the unique-certificate range is not $n commits"
	GEN_SECS=$(since "$g0")
	echo "$ROOT $TIP $n $chains $GEN_SECS $(ca_shape "$UNIQUE_DIR/trusted_root.json")" >"$UNIQUE_DIR/meta"
	RANGE_NOTES+=("$n commits, a certificate each: made now in $GEN_SECS s ($chains chains)")
	say "made the $n-commit unique-certificate range in ${GEN_SECS}s"
}

# unique_commit TREE MESSAGE [-p PARENT]...: one commit signed by
# bin/gitsign in the stack's namespace with SIGN_ENV; prints its id.
unique_commit() {
	local tree=$1 msg=$2 err
	shift 2
	err=$TMP/unique-$BASHPID.err
	(cd "$TMP/home" && "$STACK" exec "${CLEAN[@]}" "${SIGN_ENV[@]}" \
		git -C "$UNIQUE_DIR/repo" -c gpg.format=x509 -c gpg.x509.program="$GITSIGN" \
		commit-tree -S "$@" -m "$msg" "$tree") 2>"$err" || { cat "$err" >&2; return 1; }
}
