//go:build e2e

package e2e

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"

	"github.com/github/smimesign/ietf-cms/oid"
	"github.com/github/smimesign/ietf-cms/protocol"
)

// TestHostileSignerInfoMatrix: a gitsign signature has one SignerInfo,
// naming its certificate by issuer and serial, with SHA-256 only and
// exactly the contentType (id-data), signingTime and messageDigest
// (OCTET STRING) signed attributes. Every other shape of the real
// signature is refused before its cryptography is looked at, as a
// signature gitsign cannot check (ERRSIG, %G? E), each with its own error.
func TestHostileSignerInfoMatrix(t *testing.T) {
	hostileRun(t, []hostileCase{
		{name: "two SignerInfos", status: 'E', git: "2 signers, want exactly 1",
			sig: hostileEdit(func(t *testing.T, sd *protocol.SignedData, si *protocol.SignerInfo) {
				sd.SignerInfos = append(sd.SignerInfos, *si)
			})},
		{name: "SID by subject key identifier", status: 'E', git: "the signer is named by subject key identifier",
			sig: hostileEdit(func(t *testing.T, sd *protocol.SignedData, si *protocol.SignerInfo) {
				certs, err := sd.X509Certificates()
				if err != nil || len(certs[0].SubjectKeyId) == 0 {
					t.Fatalf("no subject key identifier: %v", err)
				}
				si.Version = 3
				si.SID = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: certs[0].SubjectKeyId}
			})},
		{name: "two messageDigest attributes", status: 'E', git: "signed attribute messageDigest appears more than once",
			sig: hostileEdit(func(t *testing.T, sd *protocol.SignedData, si *protocol.SignerInfo) {
				si.SignedAttrs = append(si.SignedAttrs, hostileAttr(t, oid.AttributeMessageDigest, bytes.Repeat([]byte{1}, 32)))
			})},
		{name: "messageDigest not an OCTET STRING", status: 'E', git: "signed attribute messageDigest is not an OCTET STRING",
			sig: hostileEdit(func(t *testing.T, sd *protocol.SignedData, si *protocol.SignerInfo) {
				digest, err := si.GetMessageDigestAttribute()
				if err != nil {
					t.Fatal(err)
				}
				hostileReplace(t, si, oid.AttributeMessageDigest, asn1.BitString{Bytes: digest, BitLength: 8 * len(digest)})
			})},
		{name: "no contentType", status: 'E', git: "no contentType signed attribute",
			sig: hostileEdit(func(t *testing.T, sd *protocol.SignedData, si *protocol.SignerInfo) {
				var keep protocol.Attributes
				for _, a := range si.SignedAttrs {
					if !a.Type.Equal(oid.AttributeContentType) {
						keep = append(keep, a)
					}
				}
				if len(keep) != len(si.SignedAttrs)-1 {
					t.Fatal("no contentType to remove")
				}
				si.SignedAttrs = keep
			})},
		{name: "wrong contentType", status: 'E', git: "signed attribute contentType is 1.2.840.113549.1.7.2, want id-data",
			sig: hostileEdit(func(t *testing.T, sd *protocol.SignedData, si *protocol.SignerInfo) {
				hostileReplace(t, si, oid.AttributeContentType, oid.ContentTypeSignedData)
			})},
		{name: "SignerInfo digest SHA-384", status: 'E', git: "signer digest algorithm 2.16.840.1.101.3.4.2.2, want SHA-256",
			sig: hostileEdit(func(t *testing.T, sd *protocol.SignedData, si *protocol.SignerInfo) {
				si.DigestAlgorithm = pkix.AlgorithmIdentifier{Algorithm: oid.DigestAlgorithmSHA384}
			})},
		{name: "SignedData digestAlgorithms with SHA-1", status: 'E', git: "1.3.14.3.2.26, 2.16.840.1.101.3.4.2.1, want only SHA-256",
			sig: hostileEdit(func(t *testing.T, sd *protocol.SignedData, si *protocol.SignerInfo) {
				sd.DigestAlgorithms = append(sd.DigestAlgorithms, pkix.AlgorithmIdentifier{Algorithm: oid.DigestAlgorithmSHA1})
			})},
	})
}

// hostileReplace replaces the value of a signed attribute, in place.
func hostileReplace(t *testing.T, si *protocol.SignerInfo, typ asn1.ObjectIdentifier, val any) {
	t.Helper()
	for i, a := range si.SignedAttrs {
		if a.Type.Equal(typ) {
			si.SignedAttrs[i] = hostileAttr(t, typ, val)
			return
		}
	}
	t.Fatalf("no signed attribute %s", typ)
}

// TestHostileRegexpAnchoring: an identity regexp matches whole values
// only, and one written to escape its anchoring (`a)|(.*`) does not
// compile as a policy at all: git gets no good signature from it.
func TestHostileRegexpAnchoring(t *testing.T) {
	r, _ := hostileRepo(t)
	id := hostileVector
	escape := `nobody@x\.com)|(.*`
	r.git("config", "gitsign.certificateIdentityRegexp", escape)
	r.git("config", "gitsign.certificateOIDCIssuer", hostileIssuer)
	hostileGit(t, r, id, 'E', "cannot check the signature: identity regexp", "not a valid regular expression", escape)
	hostileHelper(t, r, id, 2, 'E', escape)
	hostileCLI(t, r, id, 2, escape, "--certificate-identity-regexp", escape, "--certificate-oidc-issuer", hostileIssuer)

	// A prefix of the identity is not the identity.
	r.git("config", "--replace-all", "gitsign.certificateIdentityRegexp", "billy@chainguard")
	hostileGit(t, r, id, 'B', "BAD signature: signed by", "not accepted by")
	hostileHelper(t, r, id, 1, 'B', "not accepted by")
	hostileCLI(t, r, id, 1, "not accepted by", "--certificate-identity-regexp", "billy@chainguard", "--certificate-oidc-issuer", hostileIssuer)

	// A pattern for the whole value matches.
	whole := `.*@chainguard\.dev`
	r.git("config", "--replace-all", "gitsign.certificateIdentityRegexp", whole)
	if _, raw, err := r.run("git", "verify-commit", "--raw", id); err != nil || !strings.Contains(raw, "[GNUPG:] GOODSIG ") || !strings.Contains(raw, "TRUST_FULLY") {
		t.Errorf("git verify-commit with %s: %v\n%s", whole, err, raw)
	}
	if g := hostileG(t, r, id); g != "G" {
		t.Errorf("%%G? with %s is %q, want G", whole, g)
	}
	out, errOut, err := r.run(gitsignBin, "verify", "--certificate-identity-regexp", whole, "--certificate-oidc-issuer", hostileIssuer, id)
	if err != nil || !strings.HasPrefix(out, id+" commit: good signature from billy@chainguard.dev") {
		t.Errorf("gitsign verify with %s: %v\n%s%s", whole, err, out, errOut)
	}
}

// TestHostileNoPolicy: with no policy git gets a good signature of
// unknown validity (%G? U, exit 0) and a hint with the signer's
// allowed-signers line and a command that makes it the policy. gpg.minTrustLevel=fully is how to make git itself refuse
// signatures that no policy vouches for.
func TestHostileNoPolicy(t *testing.T) {
	r, _ := hostileRepo(t)
	id := hostileVector
	_, human, err := r.run("git", "verify-commit", id)
	if err != nil || !strings.Contains(human, "good signature from billy@chainguard.dev") {
		t.Errorf("git verify-commit without policy: %v\n%s", err, human)
	}
	if g := hostileG(t, r, id); g != "U" {
		t.Errorf("%%G? without policy is %q, want U", g)
	}
	for _, want := range []string{
		"the allowed-signers line that accepts this signer is: billy@chainguard.dev https://accounts.google.com\n",
		`to require it: printf '%s\n' 'billy@chainguard.dev https://accounts.google.com' >> "$(git rev-parse --show-toplevel)/.gitsigners" && git config gitsign.allowedSignersFile .gitsigners` + "\n",
	} {
		if !strings.Contains(human, want) {
			t.Errorf("no copyable hint %q:\n%s", want, human)
		}
	}
	t.Logf("git verify-commit without policy: exit 0, %%G? U:\n%s", strings.TrimSpace(human))
	_, human, err = r.run("git", "-c", "gpg.minTrustLevel=fully", "verify-commit", id)
	if hostileExit(err) <= 0 {
		t.Errorf("git -c gpg.minTrustLevel=fully verify-commit: exit %d (%v), want a failure\n%s", hostileExit(err), err, human)
	}
	t.Logf("git -c gpg.minTrustLevel=fully verify-commit: exit %d", hostileExit(err))

	// Copy the hint's command as printed: then git trusts the signer.
	_, command, ok := strings.Cut(human, "to require it: ")
	command, _, _ = strings.Cut(command, "\n")
	if !ok {
		t.Fatalf("no hint:\n%s", human)
	}
	if out, errOut, err := r.run("sh", "-c", command); err != nil {
		t.Fatalf("running the hint %q: %v\n%s%s", command, err, out, errOut)
	}
	if _, raw, err := r.run("git", "-c", "gpg.minTrustLevel=fully", "verify-commit", "--raw", id); err != nil || !strings.Contains(raw, "TRUST_FULLY") {
		t.Errorf("after the hint's command: %v\n%s", err, raw)
	}
	if g := hostileG(t, r, id); g != "G" {
		t.Errorf("%%G? after the hint's command is %q, want G", g)
	}
}
