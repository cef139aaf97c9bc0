#!/usr/bin/env bash
# Smoke test of the local Sigstore stack, with curl and openssl only:
# ID token -> Fulcio certificate (with SCT, issued by the P-384 intermediate
# under the P-384 root) -> signature -> RFC 3161 timestamp
# -> hashedrekord in Rekor v1 and Rekor v2; then the log IDs the servers
# return are looked up in trusted_root.json, and both results are verified as
# Sigstore bundles by sigstore-go (hack/trustroot verify). The CI issuer is
# checked too: its token service, and a Fulcio certificate for one of its
# tokens with the workflow's URI and extensions; and so are the Buildkite,
# Google and SPIFFE issuers: a certificate for a token of each, with the
# identity Fulcio builds from it, and a token of each kind Fulcio refuses.
#
# Run it as `hack/sigstore-local selftest` (inside the stack's namespace).
# Set KEEP=dir to keep the work files there.
set -euo pipefail

SL=${SIGSTORE_LOCAL:?run as hack/sigstore-local selftest}
BIN=$(dirname "$SL")/.stack/bin
eval "$("$SL" env)"

work=${KEEP:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cd "$work"

t0=$(date +%s.%N)
step() { printf '%6.2fs  %s\n' "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "$*"; }
fail() { echo "selftest: FAIL: $*" >&2; exit 1; }
b64url_decode() { local s=${1//-/+}; s=${s//_//}; while [ $((${#s} % 4)) -ne 0 ]; do s+='='; done; base64 -d <<<"$s"; }
hex2b64() { tr 'a-f' 'A-F' <<<"$1" | tr -d '\n' | basenc --base16 -d | base64 -w0; }
b642hex() { base64 -d <<<"$1" | od -An -v -tx1 | tr -d ' \n'; }

# 1. ID token through the issuer's login pages.
token=$("$SL" token alice)
email=$(b64url_decode "$(cut -d. -f2 <<<"$token")" | jq -r .email)
[ "$email" = alice@example.test ] || fail "token email is $email"
step "ID token for $email"

# 2. Fulcio certificate. Proof of possession: a signature over the email.
openssl ecparam -name prime256v1 -genkey -noout -out key.pem 2>/dev/null
openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null
pop=$(printf %s "$email" | openssl dgst -sha256 -sign key.pem | base64 -w0)
jq -n --arg t "$token" --arg k "$(cat pub.pem)" --arg p "$pop" \
	'{credentials:{oidcIdentityToken:$t},publicKeyRequest:{publicKey:{algorithm:"ECDSA",content:$k},proofOfPossession:$p}}' >certreq.json
curl -fsS -m 10 -H 'Content-Type: application/json' --data @certreq.json "$GITSIGN_FULCIO_URL/api/v2/signingCert" >certresp.json ||
	fail "Fulcio refused: $(cat certresp.json 2>/dev/null)"
jq -r '.signedCertificateEmbeddedSct.chain.certificates[0]' certresp.json >leaf.pem
# The CA has the public-good shape: the leaf is issued by the intermediate,
# which the root signed; Fulcio sends the chain leaf, intermediate, root.
openssl verify -x509_strict -CAfile "$GITSIGN_LOCAL_FULCIO_ROOT" -untrusted "$GITSIGN_LOCAL_FULCIO_INTERMEDIATE" leaf.pem >/dev/null ||
	fail "leaf does not chain to the Fulcio root through the intermediate"
if openssl verify -CAfile "$GITSIGN_LOCAL_FULCIO_ROOT" leaf.pem >/dev/null 2>&1; then
	fail "leaf verifies under the Fulcio root without the intermediate"
fi
[ "$(openssl x509 -in leaf.pem -noout -issuer)" = "issuer=$(openssl x509 -in "$GITSIGN_LOCAL_FULCIO_INTERMEDIATE" -noout -subject | sed 's/^subject=//')" ] ||
	fail "leaf issuer is $(openssl x509 -in leaf.pem -noout -issuer), not the intermediate"
jq -r '.signedCertificateEmbeddedSct.chain.certificates[1:][]' certresp.json >fulcio-chain.pem
cmp -s <(openssl crl2pkcs7 -nocrl -certfile fulcio-chain.pem | openssl pkcs7 -print_certs -noout) \
	<(openssl crl2pkcs7 -nocrl -certfile "$GITSIGN_LOCAL_FULCIO_CHAIN" | openssl pkcs7 -print_certs -noout) ||
	fail "Fulcio's chain is not intermediate, root"
for c in "$GITSIGN_LOCAL_FULCIO_INTERMEDIATE" "$GITSIGN_LOCAL_FULCIO_ROOT"; do
	openssl x509 -in "$c" -noout -text | grep -q 'NIST CURVE: P-384' || fail "$c is not a P-384 certificate"
done
step "Fulcio chain: leaf <- $(openssl x509 -in "$GITSIGN_LOCAL_FULCIO_INTERMEDIATE" -noout -subject -nameopt multiline | awk -F' = ' '/commonName/{print $2}') <- $(openssl x509 -in "$GITSIGN_LOCAL_FULCIO_ROOT" -noout -subject -nameopt multiline | awk -F' = ' '/commonName/{print $2}') (P-384)"
openssl x509 -in leaf.pem -noout -ext subjectAltName | grep -q "email:$email" || fail "leaf SAN is not $email"
sct_ids=$(openssl x509 -in leaf.pem -noout -text | awk '
	/Log ID/ { f = 1; sub(/.*Log ID *: */, ""); s = $0; next }
	f && /Timestamp/ { f = 0; print s; next }
	f { gsub(/ /, ""); s = s $0 }' | tr -d ':' | tr 'A-F' 'a-f')
[ -n "$sct_ids" ] || fail "no SCT in the leaf certificate"
step "Fulcio certificate for $email with SCT from log $(head -c 16 <<<"$sct_ids")…"

# certreq TOKEN SUBJECT OUT: a certificate request for key.pem, proving
# possession by signing SUBJECT.
certreq() {
	local p
	p=$(printf %s "$2" | openssl dgst -sha256 -sign key.pem | base64 -w0)
	jq -n --arg t "$1" --arg k "$(cat pub.pem)" --arg p "$p" \
		'{credentials:{oidcIdentityToken:$t},publicKeyRequest:{publicKey:{algorithm:"ECDSA",content:$k},proofOfPossession:$p}}' >"$3"
}
claim() { b64url_decode "$(cut -d. -f2 <<<"$1")" | jq -r ".$2"; }

# 2b. The CI issuer: its job token service, then a certificate for a
# workflow on a tag, with the workflow's URI and the CI extensions.
code=$(curl -sS -m 10 -o ci-denied.json -w '%{http_code}' -H 'Authorization: bearer not-a-job' \
	"$GITSIGN_LOCAL_ACTIONS_REQUEST_URL&audience=sigstore")
[ "$code" = 401 ] || fail "the CI token service answered HTTP $code to an unknown request token"
curl -fsS -m 10 -H "Authorization: bearer $GITSIGN_LOCAL_ACTIONS_REQUEST_TOKEN" \
	"$GITSIGN_LOCAL_ACTIONS_REQUEST_URL&audience=sigstore" >ci-job.json || fail "the CI token service refused the job's request token"
ci=$(jq -r .value ci-job.json)
if [ "$(claim "$ci" aud)" != sigstore ] || [ "$(claim "$ci" iss)" != "$GITSIGN_LOCAL_ACTIONS_ISSUER" ]; then
	fail "the CI token service gave aud $(claim "$ci" aud), iss $(claim "$ci" iss)"
fi
step "CI token service: a job token for $(claim "$ci" sub)"

ci_sha=$(head -c 20 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
ci=$("$SL" token --actions --repository acme/app --ref refs/tags/v1.0.0 --workflow .github/workflows/release.yml \
	--event push --sha "$ci_sha")
certreq "$ci" "$(claim "$ci" sub)" cicertreq.json
curl -fsS -m 10 -H 'Content-Type: application/json' --data @cicertreq.json "$GITSIGN_FULCIO_URL/api/v2/signingCert" >cicertresp.json ||
	fail "Fulcio refused the CI token: $(cat cicertresp.json 2>/dev/null)"
jq -r '.signedCertificateEmbeddedSct.chain.certificates[0]' cicertresp.json >cileaf.pem
openssl verify -x509_strict -CAfile "$GITSIGN_LOCAL_FULCIO_ROOT" -untrusted "$GITSIGN_LOCAL_FULCIO_INTERMEDIATE" cileaf.pem >/dev/null ||
	fail "the CI leaf does not chain to the Fulcio root"
openssl x509 -in cileaf.pem -noout -text >cileaf.txt
ci_san=https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0
grep -qxF "                URI:$ci_san" cileaf.txt || fail "the CI leaf's SAN is not URI:$ci_san"
# ext FILE OID VALUE: in the certificate text FILE, the extension's value,
# as openssl prints it, is VALUE after at most its DER tag and length.
ext() {
	awk -v oid="$2:" -v want="$3" '
		$1 == oid { getline v; sub(/^ +/, "", v); n = length(v) - length(want)
			found = n >= 0 && n <= 4 && substr(v, n + 1) == want }
		END { exit !found }' "$1" || fail "the extension $2 of $1 is not $3"
}
x=1.3.6.1.4.1.57264.1
ext cileaf.txt $x.8 "$GITSIGN_LOCAL_ACTIONS_ISSUER"
ext cileaf.txt $x.2 push
ext cileaf.txt $x.3 "$ci_sha"
ext cileaf.txt $x.4 .github/workflows/release.yml
ext cileaf.txt $x.5 acme/app
ext cileaf.txt $x.6 refs/tags/v1.0.0
ext cileaf.txt $x.9 "$ci_san"
ext cileaf.txt $x.10 "$ci_sha"
ext cileaf.txt $x.11 github-hosted
ext cileaf.txt $x.12 https://github.com/acme/app
ext cileaf.txt $x.13 "$ci_sha"
ext cileaf.txt $x.14 refs/tags/v1.0.0
ext cileaf.txt $x.16 https://github.com/acme
ext cileaf.txt $x.18 "$ci_san"
ext cileaf.txt $x.20 push
ext cileaf.txt $x.22 public
ext cileaf.txt $x.24 repo:acme/app:ref:refs/tags/v1.0.0
step "Fulcio certificate for the workflow $ci_san with its CI extensions"

# 2c. The Buildkite, Google and SPIFFE issuers.
# leaf NAME TOKEN SUBJECT: a certificate for TOKEN (proving possession by
# signing SUBJECT) that chains to the root, as NAME.pem and its text
# NAME.txt.
leaf() {
	certreq "$2" "$3" "$1-req.json"
	curl -fsS -m 10 -H 'Content-Type: application/json' --data @"$1-req.json" "$GITSIGN_FULCIO_URL/api/v2/signingCert" >"$1-resp.json" ||
		fail "Fulcio refused the $1 token: $(cat "$1-resp.json" 2>/dev/null)"
	jq -r '.signedCertificateEmbeddedSct.chain.certificates[0]' "$1-resp.json" >"$1.pem"
	openssl verify -x509_strict -CAfile "$GITSIGN_LOCAL_FULCIO_ROOT" -untrusted "$GITSIGN_LOCAL_FULCIO_INTERMEDIATE" "$1.pem" >/dev/null ||
		fail "the $1 leaf does not chain to the Fulcio root"
	openssl x509 -in "$1.pem" -noout -text >"$1.txt"
}
# refused NAME TOKEN SUBJECT: Fulcio answers a certificate request for
# TOKEN with an error.
refused() {
	certreq "$2" "$3" "$1-req.json"
	code=$(curl -sS -m 10 -o "$1-resp.json" -w '%{http_code}' -H 'Content-Type: application/json' --data @"$1-req.json" "$GITSIGN_FULCIO_URL/api/v2/signingCert")
	case $code in 4??) ;; *) fail "Fulcio answered HTTP $code to $1: $(cat "$1-resp.json")" ;; esac
}
# A token of the stack's default Buildkite job, asked for through the agent
# API as buildkite-agent asks.
bk=$(curl -fsS -m 10 -H "Authorization: Token $GITSIGN_LOCAL_BUILDKITE_AGENT_ACCESS_TOKEN" -H 'Content-Type: application/json' \
	--data '{"audience":"sigstore"}' "$GITSIGN_LOCAL_BUILDKITE_AGENT_ENDPOINT/jobs/$GITSIGN_LOCAL_BUILDKITE_JOB_ID/oidc/tokens" | jq -r .token) ||
	fail "the Buildkite agent API refused the default job's access token"
leaf buildkite "$bk" "$(claim "$bk" sub)"
grep -qxF "                URI:https://buildkite.com/acme/app" buildkite.txt || fail "the Buildkite leaf's SAN is not URI:https://buildkite.com/acme/app"
ext buildkite.txt $x.8 "$GITSIGN_LOCAL_BUILDKITE_ISSUER"
ext buildkite.txt $x.11 self-hosted
ext buildkite.txt $x.13 "$(claim "$bk" build_commit)"
ext buildkite.txt $x.20 webhook
ext buildkite.txt $x.21 "https://buildkite.com/acme/app/builds/$(claim "$bk" build_number)#$GITSIGN_LOCAL_BUILDKITE_JOB_ID"
ext buildkite.txt $x.24 "$(claim "$bk" sub)"
step "Fulcio certificate for the Buildkite pipeline https://buildkite.com/acme/app with its CI extensions"

google=$("$SL" token --google --email signer@acme-ci.iam.gserviceaccount.com)
leaf google "$google" signer@acme-ci.iam.gserviceaccount.com
grep -qxF "                email:signer@acme-ci.iam.gserviceaccount.com" google.txt || fail "the Google leaf's SAN is not the service account"
ext google.txt $x.8 "$GITSIGN_LOCAL_GOOGLE_ISSUER"
unverified=$("$SL" token --google --email signer@acme-ci.iam.gserviceaccount.com --email-verified false)
refused google-unverified "$unverified" signer@acme-ci.iam.gserviceaccount.com
step "Fulcio certificate for the service account signer@acme-ci.iam.gserviceaccount.com; email_verified false refused"

svid=$("$SL" token --spiffe --spiffe-id "spiffe://$GITSIGN_LOCAL_SPIFFE_TRUST_DOMAIN/ns/ci/sa/builder")
leaf spiffe "$svid" "spiffe://$GITSIGN_LOCAL_SPIFFE_TRUST_DOMAIN/ns/ci/sa/builder"
grep -qxF "                URI:spiffe://$GITSIGN_LOCAL_SPIFFE_TRUST_DOMAIN/ns/ci/sa/builder" spiffe.txt || fail "the SPIFFE leaf's SAN is not the SPIFFE ID"
ext spiffe.txt $x.8 "$GITSIGN_LOCAL_SPIFFE_ISSUER"
foreign=$("$SL" token --spiffe --spiffe-id spiffe://other.test/ns/ci/sa/builder)
refused spiffe-foreign "$foreign" spiffe://other.test/ns/ci/sa/builder
step "Fulcio certificate for spiffe://$GITSIGN_LOCAL_SPIFFE_TRUST_DOMAIN/ns/ci/sa/builder; another trust domain refused"

# A refused token: aud other-client is not Fulcio's client id.
other=$("$SL" token --client other-client alice)
jq -n --arg t "$other" --arg k "$(cat pub.pem)" --arg p "$pop" \
	'{credentials:{oidcIdentityToken:$t},publicKeyRequest:{publicKey:{algorithm:"ECDSA",content:$k},proofOfPossession:$p}}' >otherreq.json
code=$(curl -sS -m 10 -o otherresp.json -w '%{http_code}' -H 'Content-Type: application/json' --data @otherreq.json "$GITSIGN_FULCIO_URL/api/v2/signingCert")
case $code in 2??) fail "Fulcio accepted a token for other-client" ;; esac
step "Fulcio refused an other-client token (HTTP $code)"

# 3. Sign an artifact.
printf 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor alice <alice@example.test> %s +0000\n\nselftest %s\n' \
	"$(date +%s)" "$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" >artifact
openssl dgst -sha256 -sign key.pem -out sig.der artifact
digest_hex=$(openssl dgst -sha256 -r artifact | cut -d' ' -f1)
sig_b64=$(base64 -w0 sig.der)
leaf_der_b64=$(openssl x509 -in leaf.pem -outform DER | base64 -w0)

# 4. RFC 3161 timestamp over the signature.
openssl ts -query -data sig.der -sha256 -cert -out req.tsq 2>/dev/null
curl -fsS -m 10 -H 'Content-Type: application/timestamp-query' --data-binary @req.tsq "$GITSIGN_TIMESTAMP_SERVER_URL" -o resp.tsr ||
	fail "TSA request failed"
# The chain is leaf first, root last: trust only the root.
awk '/BEGIN CERT/{buf=""} {buf = buf $0 "\n"} END{printf "%s", buf}' "$GITSIGN_LOCAL_TSA_CHAIN" >tsa-root.pem
openssl ts -verify -in resp.tsr -data sig.der -CAfile tsa-root.pem -untrusted "$GITSIGN_LOCAL_TSA_CHAIN" >/dev/null 2>&1 ||
	fail "TSA response does not verify"
step "RFC 3161 timestamp verified against the TSA chain"

# 5. Rekor v1 hashedrekord.
jq -n --arg s "$sig_b64" --arg k "$(base64 -w0 leaf.pem)" --arg h "$digest_hex" \
	'{apiVersion:"0.0.1",kind:"hashedrekord",spec:{signature:{content:$s,publicKey:{content:$k}},data:{hash:{algorithm:"sha256",value:$h}}}}' >v1req.json
curl -fsS -m 20 -H 'Content-Type: application/json' --data @v1req.json "$GITSIGN_REKOR_URL/api/v1/log/entries" >v1resp.json ||
	fail "Rekor v1 upload failed: $(cat v1resp.json 2>/dev/null)"
v1_log_id=$(jq -r 'to_entries[0].value.logID' v1resp.json)
v1_index=$(jq -r 'to_entries[0].value.logIndex' v1resp.json)
step "Rekor v1 entry $v1_index, logID $v1_log_id"

# 6. Rekor v2 hashedrekord v0.0.2.
jq -n --arg d "$(hex2b64 "$digest_hex")" --arg s "$sig_b64" --arg c "$leaf_der_b64" \
	'{hashedRekordRequestV002:{digest:$d,signature:{content:$s,verifier:{x509Certificate:{rawBytes:$c},keyDetails:"PKIX_ECDSA_P256_SHA_256"}}}}' >v2req.json
curl -fsS -m 20 -H 'Content-Type: application/json' --data @v2req.json "$GITSIGN_LOCAL_REKOR_V2_URL/api/v2/log/entries" >v2resp.json ||
	fail "Rekor v2 upload failed: $(cat v2resp.json 2>/dev/null)"
v2_key_id=$(jq -r .logId.keyId v2resp.json)
step "Rekor v2 entry $(jq -r .logIndex v2resp.json), logId.keyId $v2_key_id ($(b642hex "$v2_key_id"))"

# 7. The trusted root knows every log that answered.
ct_args=()
for id in $sct_ids; do ct_args+=(-ct-log-id "$id"); done
"$BIN/trustroot" check -root "$GITSIGN_TRUSTED_ROOT" -fulcio-chain "$GITSIGN_LOCAL_FULCIO_CHAIN" -rekor-log-id "$v1_log_id" -rekor-log-id "$v2_key_id" "${ct_args[@]}" >check.txt ||
	{ cat check.txt; fail "trusted root does not match the servers"; }
grep '^ok' check.txt
step "trusted_root.json matches the Fulcio chain and the CT log, Rekor v1 and Rekor v2 log IDs"

# 8. Bundles, verified by sigstore-go against the trusted root.
tsr_b64=$(base64 -w0 resp.tsr)
digest_b64=$(hex2b64 "$digest_hex")
hashes=$(jq -r 'to_entries[0].value.verification.inclusionProof.hashes[]' v1resp.json | while read -r h; do hex2b64 "$h"; echo; done | jq -R . | jq -s .)
jq --arg keyid "$(hex2b64 "$v1_log_id")" --arg root "$(hex2b64 "$(jq -r 'to_entries[0].value.verification.inclusionProof.rootHash' v1resp.json)")" \
	--argjson hashes "$hashes" '
	to_entries[0].value as $e | {
		logIndex: ($e.logIndex|tostring), logId: {keyId: $keyid},
		kindVersion: {kind: "hashedrekord", version: "0.0.1"},
		integratedTime: ($e.integratedTime|tostring),
		inclusionPromise: {signedEntryTimestamp: $e.verification.signedEntryTimestamp},
		inclusionProof: {logIndex: ($e.verification.inclusionProof.logIndex|tostring), rootHash: $root,
			treeSize: ($e.verification.inclusionProof.treeSize|tostring), hashes: $hashes,
			checkpoint: {envelope: $e.verification.inclusionProof.checkpoint}},
		canonicalizedBody: $e.body }' v1resp.json >v1tle.json
for v in v1 v2; do
	tle=v1tle.json
	[ "$v" = v2 ] && tle=v2resp.json
	jq -n --slurpfile tle "$tle" --arg cert "$leaf_der_b64" --arg tsr "$tsr_b64" --arg dig "$digest_b64" --arg sig "$sig_b64" '{
		mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		verificationMaterial: {certificate: {rawBytes: $cert}, tlogEntries: $tle,
			timestampVerificationData: {rfc3161Timestamps: [{signedTimestamp: $tsr}]}},
		messageSignature: {messageDigest: {algorithm: "SHA2_256", digest: $dig}, signature: $sig}}' >"bundle-$v.json"
	"$BIN/trustroot" verify -root "$GITSIGN_TRUSTED_ROOT" -bundle "bundle-$v.json" -artifact artifact \
		-identity "$email" -issuer "$GITSIGN_OIDC_ISSUER" >"verify-$v.txt" 2>&1 ||
		{ cat "verify-$v.txt" >&2; fail "sigstore-go rejected the Rekor $v bundle"; }
	step "sigstore-go: Rekor $v bundle $(tail -1 "verify-$v.txt")"
done
echo "selftest: PASS"
