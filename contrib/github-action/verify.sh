#!/usr/bin/env bash
# The script of the gitsign verify action (action.yml beside it): verify
# the signatures of the commits a GitHub event brings, with the
# allowed-signers file as it is on the base, by object ids only.
#
# Inputs come from the environment (action.yml maps each input to one
# variable; nothing is ever interpolated into this text):
#   INPUT_BASE, INPUT_HEAD       full object ids; empty: from the event
#   INPUT_ALLOWED_SIGNERS        empty: BASE:.gitsigners
#   INPUT_TRUSTED_ROOT           a trusted_root.json (optional)
#   INPUT_GITSIGN                the gitsign binary (default: gitsign)
#   INPUT_JSON                   write gitsign's JSON report to this file
#   INPUT_ALLOW_EMPTY            true, false, or empty: true for push only
# and from the runner: GITHUB_EVENT_NAME, GITHUB_EVENT_PATH,
# GITHUB_STEP_SUMMARY, GITHUB_ACTIONS.
#
# Exit status: gitsign's (0 every commit verified, 1 one did not or there
# was nothing to verify, 2 a mistake in the setup), or 2 for a mistake
# found here, before gitsign runs.
set -euo pipefail

summary() {
	if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
		printf '%s\n' "$1" >>"$GITHUB_STEP_SUMMARY"
	fi
}

# shown makes a value safe to print: at most 80 characters, anything but
# [A-Za-z0-9._/:-] shown as '?', so no value can forge a log line or a
# workflow command.
shown() {
	local v=${1:0:80}
	printf "'%s'" "$(printf '%s' "$v" | LC_ALL=C tr -c 'A-Za-z0-9._/:-' '?')"
}

# annotate prints a workflow command (error or warning) in Actions.
annotate() {
	if [ "${GITHUB_ACTIONS:-}" = true ]; then
		local m=${2//'%'/'%25'}
		m=${m//$'\r'/'%0D'}
		m=${m//$'\n'/'%0A'}
		printf '::%s title=gitsign verify::%s\n' "$1" "$m"
	fi
}

die() {
	printf 'gitsign-verify: error: %s\n' "$1" >&2
	annotate error "$1"
	summary "gitsign verify: error: $1"
	exit 2
}

warn() {
	printf 'gitsign-verify: warning: %s\n' "$1" >&2
	annotate warning "$1"
}

zeros='^0+$'
hex='^([0-9a-f]{40}|[0-9a-f]{64})$'

# fromEvent sets the variable $1 to the string at jq path $2 of the event,
# exactly (no newline added or removed); a missing value or null is empty,
# other non-strings come out as JSON and fail the object id check.
fromEvent() {
	local v
	v=$(jq -j "($2 // \"\") | if type == \"string\" then . else tojson end" "$GITHUB_EVENT_PATH" && printf x) ||
		die "cannot read $2 from the event payload $(shown "$GITHUB_EVENT_PATH")"
	printf -v "$1" '%s' "${v%x}"
}

event=${GITHUB_EVENT_NAME:-}
base=${INPUT_BASE:-}
head=${INPUT_HEAD:-}
if [ -z "$base" ] || [ -z "$head" ]; then
	case $event in
	pull_request | pull_request_target) bq=.pull_request.base.sha hq=.pull_request.head.sha ;;
	push) bq=.before hq=.after ;;
	merge_group) bq=.merge_group.base_sha hq=.merge_group.head_sha ;;
	*) die "the $(shown "$event") event has no base and head commits: set the action's base and head inputs to object ids" ;;
	esac
	if [ -z "${GITHUB_EVENT_PATH:-}" ] || [ ! -r "$GITHUB_EVENT_PATH" ]; then
		die "no event payload to read (GITHUB_EVENT_PATH): set the action's base and head inputs"
	fi
	if [ -z "$base" ]; then
		fromEvent base "$bq"
		if [[ $base =~ $zeros ]]; then
			die "the push created the branch (its before is all zeros), so there is no base to compare with: set the action's base input to the object id of the commit the branch starts from, e.g. the default branch's"
		fi
		[ -n "$base" ] || die "the $event event payload has no $bq: set the action's base input"
	fi
	if [ -z "$head" ]; then
		fromEvent head "$hq"
		if [[ $head =~ $zeros ]]; then
			die "the push deleted the branch (its after is all zeros): nothing to verify; do not run this action for deletions"
		fi
		[ -n "$head" ] || die "the $event event payload has no $hq: set the action's head input"
	fi
fi
for v in base:"$base" head:"$head"; do
	[[ ${v#*:} =~ $hex ]] ||
		die "$(shown "${v#*:}") is not a full object id (40 or 64 lowercase hex digits), and the ${v%%:*} is never taken as a name, which a pushed branch or tag could redirect"
done

git rev-parse --git-dir >/dev/null 2>&1 ||
	die "$(shown "$PWD") is not a git repository: run actions/checkout (with fetch-depth: 0) before this action"
if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
	die "this is a shallow clone, in which the range may stop short of commits it should verify: use actions/checkout with fetch-depth: 0"
fi
for v in base:"$base" head:"$head"; do
	if [ "$(git cat-file -t "${v#*:}" 2>/dev/null)" != commit ]; then
		die "the ${v%%:*} commit ${v#*:} is not in this repository: use actions/checkout with fetch-depth: 0 (a commit only a fork or a force-pushed-away branch has must be fetched by id, or set the ${v%%:*} input)"
	fi
done

policy=${INPUT_ALLOWED_SIGNERS:-$base:.gitsigners}
case $policy in
:* | /* | ./* | ../*) warn "allowed-signers $(shown "$policy") is a file in the checked-out tree, which the commits being verified can change; the default, BASE:.gitsigners, reads the base's" ;;
*:*)
	rev=${policy%%:*}
	if ! [[ $rev =~ $hex ]] && [[ $rev != refs/* ]]; then
		warn "allowed-signers $(shown "$policy") names its revision by a short name, which a pushed tag or branch of that name can redirect: use an object id or a full ref name (refs/remotes/origin/main)"
	fi
	;;
*) warn "allowed-signers $(shown "$policy") is a file in the checked-out tree, which the commits being verified can change; the default, BASE:.gitsigners, reads the base's" ;;
esac

gitsign=${INPUT_GITSIGN:-gitsign}
command -v "$gitsign" >/dev/null ||
	die "gitsign ($(shown "$gitsign")) is not installed: install it in an earlier step, or set the action's gitsign input to its path"

case ${INPUT_ALLOW_EMPTY:-} in
'') allowEmpty=$([ "$event" = push ] && echo true || echo false) ;;
true | false) allowEmpty=$INPUT_ALLOW_EMPTY ;;
*) die "allow-empty is $(shown "$INPUT_ALLOW_EMPTY"): use true, false, or leave it empty (true for push events only)" ;;
esac

args=(verify --allowed-signers "$policy")
if [ -n "${INPUT_TRUSTED_ROOT:-}" ]; then
	args+=(--trusted-root "$INPUT_TRUSTED_ROOT")
fi
if [ "$allowEmpty" = true ]; then
	args+=(--allow-empty)
fi
count=$(git rev-list --count "$base..$head")
range="$base..$head"
printf 'gitsign-verify: %s commit(s) in %s, who may sign from %s\n' "$count" "$range" "$(shown "$policy")"

rc=0
if [ -n "${INPUT_JSON:-}" ]; then
	"$gitsign" "${args[@]}" --json -- "$range" >"$INPUT_JSON" || rc=$?
	# One line per object, its untrusted text JSON-quoted. The report is
	# gitsign's JSON schema 1 (docs/json.md); an older gitsign wrote a
	# bare array.
	if jq -e 'type == "object" and .schema == 1' "$INPUT_JSON" >/dev/null 2>&1; then
		jq -r '.results[] | "\(.object) \(.type): " + if .verified
			then "good signature from \(.signer.identity | tojson) (accepted by \(.rule // "" | tojson))"
			else "FAILED: \(.error // "" | tojson)" end' "$INPUT_JSON"
	elif jq -e 'type == "array"' "$INPUT_JSON" >/dev/null 2>&1; then
		jq -r '.[] | "\(.object) \(.type): " + if .verified
			then "good signature from \(.identity | tojson) (accepted by \(.rule // "" | tojson))"
			else "FAILED: \(.error // "" | tojson)" end' "$INPUT_JSON"
	fi
else
	"$gitsign" "${args[@]}" -- "$range" || rc=$?
fi

short="${base:0:12}..${head:0:12}"
if [ "$rc" = 0 ]; then
	summary "gitsign verify: passed: $count commit(s) in $short, who may sign from $(shown "$policy")"
else
	summary "gitsign verify: FAILED (exit $rc): $count commit(s) in $short, who may sign from $(shown "$policy")"
fi
exit "$rc"
