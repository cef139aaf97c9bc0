#!/usr/bin/env bash
# Get a fresh ID token from the local OIDC issuer by walking its real login
# pages with curl: authorization-code flow with PKCE (S256), the dev login
# form, then the consent form, then the token endpoint.
#
# usage: token.sh [--client ID] [USER]     (default client sigstore, user alice)
# env:   OIDC_ISSUER (default http://127.0.0.1:5556)
# Prints the ID token (a JWT) on one line on stdout.
set -euo pipefail

client=sigstore
user=
while [ $# -gt 0 ]; do
	case "$1" in
	--client) client=${2:?--client needs a value}; shift 2 ;;
	--client=*) client=${1#--client=}; shift ;;
	-h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "token: unknown flag $1" >&2; exit 2 ;;
	*) [ -z "$user" ] || { echo "token: only one USER" >&2; exit 2; }; user=$1; shift ;;
	esac
done
user=${user:-alice}
issuer=${OIDC_ISSUER:-http://127.0.0.1:5556}
# Loopback redirect: the issuer ignores the port, and nothing needs to listen.
redirect=http://127.0.0.1:5557/callback

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jar=$tmp/cookies

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
urlenc() { jq -rn --arg v "$1" '$v|@uri'; }
die() { echo "token: $*" >&2; exit 1; }

verifier=$(head -c 48 /dev/urandom | b64url)
challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | b64url)
state=$(head -c 12 /dev/urandom | b64url)
nonce=$(head -c 12 /dev/urandom | b64url)

url="$issuer/auth?client_id=$(urlenc "$client")&response_type=code&scope=openid%20email"
url+="&redirect_uri=$(urlenc "$redirect")&state=$state&nonce=$nonce"
url+="&code_challenge=$challenge&code_challenge_method=S256"

# fetch METHOD URL [curl args...]: writes $tmp/body, sets $status and $location.
fetch() {
	local method=$1 u=$2
	shift 2
	: >"$tmp/headers"
	status=$(curl -sS -X "$method" -b "$jar" -c "$jar" -o "$tmp/body" -D "$tmp/headers" \
		-w '%{http_code}' --max-time 10 "$@" "$u") || die "request to $u failed"
	location=$(sed -n 's/^[Ll]ocation: *//p' "$tmp/headers" | tr -d '\r' | tail -1)
	case "$location" in
	/*) location="$issuer$location" ;;
	esac
}

code=
fetch GET "$url"
for _ in $(seq 1 12); do
	case "$location" in
	"${redirect}"?*)
		q=${location#*\?}
		err=$(printf '%s\n' "${q//&/$'\n'}" | sed -n 's/^error_description=//p')
		[ -z "$err" ] || die "issuer refused: $(printf '%b' "${err//%/\\x}")"
		code=$(printf '%s\n' "${q//&/$'\n'}" | sed -n 's/^code=//p')
		got_state=$(printf '%s\n' "${q//&/$'\n'}" | sed -n 's/^state=//p')
		[ "$got_state" = "$state" ] || die "state mismatch"
		break
		;;
	?*)
		fetch GET "$location"
		continue
		;;
	esac
	# No redirect: this should be an interaction page with a form.
	[ "$status" = 200 ] || die "unexpected HTTP $status: $(head -c 300 "$tmp/body")"
	action=$(grep -o 'action="[^"]*"' "$tmp/body" | head -1 | sed 's/^action="//; s/"$//')
	prompt=$(grep -o 'name="prompt" value="[^"]*"' "$tmp/body" | head -1 | sed 's/.*value="//; s/"$//')
	if [ -z "$action" ] || [ -z "$prompt" ]; then die "no interaction form in page: $(head -c 300 "$tmp/body")"; fi
	case "$action" in
	/*) action="$issuer$action" ;;
	esac
	if [ "$prompt" = login ]; then
		fetch POST "$action" --data-urlencode prompt=login --data-urlencode "login=$user" --data-urlencode password=x
	else
		fetch POST "$action" --data-urlencode "prompt=$prompt"
	fi
done
[ -n "$code" ] || die "did not reach the redirect URI"

resp=$(curl -sS --max-time 10 "$issuer/token" \
	--data-urlencode grant_type=authorization_code \
	--data-urlencode "client_id=$client" \
	--data-urlencode "code=$code" \
	--data-urlencode "redirect_uri=$redirect" \
	--data-urlencode "code_verifier=$verifier") || die "token request failed"
idt=$(jq -r '.id_token // empty' <<<"$resp")
[ -n "$idt" ] || die "no id_token in token response: $resp"
printf '%s\n' "$idt"
