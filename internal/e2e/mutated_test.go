//go:build e2e

package e2e

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"

	"github.com/github/smimesign/ietf-cms/protocol"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/proto"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// TestMutatedObjects signs commits through real git against the local
// stack (Rekor v1 with a timestamp, and Rekor v2), then stores, next to
// them, one object for each class of the sweep in verify/sweep_test.go,
// each changed in a way the verifier accepted before issue 17, and checks
// that git verify-commit (gitsign's helper) and gitsign verify both
// refuse it. The exception is the object class: git removes every
// gpgsig... header before it hands the helper the payload, so only
// gitsign verify, which reads whole objects, can refuse a commit with one.
func TestMutatedObjects(t *testing.T) {
	tsaEnv := "GITSIGN_TIMESTAMP_SERVER_URL=" + stackEnv(t, "GITSIGN_TIMESTAMP_SERVER_URL")
	v1 := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t), tsaEnv)
	v1.setPolicy("alice@example.test", stackEnv(t, "GITSIGN_OIDC_ISSUER"))
	v1.commit("signed with Rekor v1 and a timestamp")
	v2 := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t), tsaEnv, "GITSIGN_REKOR_VERSION=2",
		"GITSIGN_REKOR_URL="+stackEnv(t, "GITSIGN_LOCAL_REKOR_V2_URL"))
	v2.setPolicy("alice@example.test", stackEnv(t, "GITSIGN_OIDC_ISSUER"))
	v2.commit("signed with Rekor v2 and a timestamp")
	for _, r := range []*repo{v1, v2} {
		if _, stderr, err := r.run("git", "verify-commit", "--raw", "HEAD"); err != nil || !strings.Contains(stderr, "TRUST_FULLY") {
			t.Fatalf("the signed commit itself: %v\n%s", err, stderr)
		}
	}
	for _, c := range []struct {
		class, name string
		repo        *repo
		edit        func(t *testing.T, raw []byte) []byte
		gitSees     bool // git's helper path can refuse it
		why         string
	}{
		{"der", "the tag of the OCTET STRING around the token's TSTInfo", v1, editToken(func(sd *protocol.SignedData) {
			ec := sd.EncapContentInfo.EContent
			full := bytes.Clone(ec.FullBytes)
			full[len(full)-len(ec.Bytes)] = 0x84
			sd.EncapContentInfo.EContent = asn1.RawValue{FullBytes: full}
		}), true, "not in an OCTET STRING"},
		{"token", "SHA-1 added to the token's digest algorithms", v1, editToken(func(sd *protocol.SignedData) {
			sd.DigestAlgorithms = append(sd.DigestAlgorithms, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}})
		}), true, "digestAlgorithms"},
		{"entry", "the Rekor v1 proof's tree size", v1, editEntryOf(func(e *protorekor.TransparencyLogEntry) {
			e.InclusionProof.TreeSize++
		}), true, "tree_size"},
		{"entry", "the Rekor v1 SET dropped beside a timestamp", v1, editEntryOf(func(e *protorekor.TransparencyLogEntry) {
			e.InclusionPromise = nil
		}), true, "inclusion_promise"},
		{"entry", "a Rekor v2 integrated time", v2, editEntryOf(func(e *protorekor.TransparencyLogEntry) {
			e.IntegratedTime = e.InclusionProof.TreeSize + 1_700_000_000
		}), true, "integrated_time"},
		{"entry", "a Rekor v2 body re-encoded", v2, editEntryOf(func(e *protorekor.TransparencyLogEntry) {
			e.CanonicalizedBody = append(e.CanonicalizedBody, ' ')
		}), true, "canonicalized_body"},
		{"cms", "NULL parameters on the signature's digest algorithm", v1, editSignature(func(sd *protocol.SignedData) {
			sd.SignerInfos[0].DigestAlgorithm.Parameters = asn1.NullRawValue
		}), true, "signer digest algorithm"},
		{"attribute", "the timestamp token of the Rekor v2 commit", v1, func(t *testing.T, raw []byte) []byte {
			other := signatureOf(t, []byte(v2.git("cat-file", "commit", "HEAD")))
			return withUnsigned(t, raw, tsa.OIDTimeStampToken, asn1.RawValue{FullBytes: other.UnsignedAttribute(tsa.OIDTimeStampToken)})
		}, true, "timestamp"},
		{"object", "a gpgsig-sha256 header beside the signature", v1, func(t *testing.T, raw []byte) []byte {
			return bytes.Replace(raw, []byte("\ngpgsig "), []byte("\ngpgsig-sha256 anything\ngpgsig "), 1)
		}, false, "gpgsig-sha256 header besides its gpgsig signature"},
		{"object", "the signature header moved before the committer", v1, func(t *testing.T, raw []byte) []byte {
			head, body, _ := bytes.Cut(raw, []byte("\n\n"))
			at := bytes.Index(head, []byte("\ngpgsig "))
			committer := bytes.Index(head, []byte("\ncommitter "))
			if at < 0 || committer < 0 || committer > at {
				t.Fatalf("unexpected commit layout:\n%s", head)
			}
			moved := append(append(bytes.Clone(head[:committer]), head[at:]...), head[committer:at]...)
			return append(append(moved, "\n\n"...), body...)
		}, false, "signature is not its last header"},
	} {
		t.Run(c.class+": "+c.name, func(t *testing.T) {
			r := c.repo
			raw := []byte(r.git("cat-file", "commit", "HEAD"))
			id := r.writeLiterally("commit", string(c.edit(t, raw)))
			_, status, err := r.run("git", "verify-commit", "--raw", id)
			gitRefused := err != nil && !strings.Contains(status, "GOODSIG")
			if gitRefused != c.gitSees {
				t.Errorf("git verify-commit: refused %v, want %v (%v)\n%s", gitRefused, c.gitSees, err, status)
			}
			// Without --raw, git shows what gitsign said.
			if _, said, _ := r.run("git", "verify-commit", id); c.gitSees && !strings.Contains(said, c.why) {
				t.Errorf("git verify-commit does not say why (%q):\n%s", c.why, said)
			}
			out, errOut, err := r.run(gitsignBin, "verify", id)
			if err == nil || !strings.Contains(out+errOut, c.why) {
				t.Errorf("gitsign verify: %v, want a refusal saying %q\n%s%s", err, c.why, out, errOut)
			}
		})
	}
}

// signatureOf parses the signature of a raw commit.
func signatureOf(t *testing.T, raw []byte) *cms.Parsed {
	t.Helper()
	_, sig, err := gitobj.Split("commit", raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// withSignature returns the raw commit with its signature replaced by
// the re-encoding of sd.
func withSignature(t *testing.T, raw []byte, sd *protocol.SignedData) []byte {
	t.Helper()
	payload, _, err := gitobj.Split("commit", raw)
	if err != nil {
		t.Fatal(err)
	}
	der, err := sd.ContentInfoDER()
	if err != nil {
		t.Fatal(err)
	}
	obj, _, err := gitobj.WithSignature(payload, cms.Armor(der))
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// editSignature changes a commit's signature.
func editSignature(edit func(*protocol.SignedData)) func(*testing.T, []byte) []byte {
	return func(t *testing.T, raw []byte) []byte {
		p := signatureOf(t, raw)
		edit(p.SignedData)
		return withSignature(t, raw, p.SignedData)
	}
}

// withUnsigned replaces the value of one unsigned attribute.
func withUnsigned(t *testing.T, raw []byte, typ asn1.ObjectIdentifier, value any) []byte {
	t.Helper()
	p := signatureOf(t, raw)
	si := &p.SignedData.SignerInfos[0]
	for i, a := range si.UnsignedAttrs {
		if a.Type.Equal(typ) {
			attr, err := protocol.NewAttribute(typ, value)
			if err != nil {
				t.Fatal(err)
			}
			si.UnsignedAttrs[i] = attr
			return withSignature(t, raw, p.SignedData)
		}
	}
	t.Fatalf("the signature has no attribute %s", typ)
	return nil
}

// editToken changes the timestamp token in a commit's signature.
func editToken(edit func(*protocol.SignedData)) func(*testing.T, []byte) []byte {
	return func(t *testing.T, raw []byte) []byte {
		ci, err := cms.ContentInfo(signatureOf(t, raw).UnsignedAttribute(tsa.OIDTimeStampToken))
		if err != nil {
			t.Fatal(err)
		}
		sd, err := ci.SignedDataContent()
		if err != nil {
			t.Fatal(err)
		}
		edit(sd)
		der, err := sd.ContentInfoDER()
		if err != nil {
			t.Fatal(err)
		}
		return withUnsigned(t, raw, tsa.OIDTimeStampToken, asn1.RawValue{FullBytes: der})
	}
}

// editEntryOf changes the log entry embedded in a commit's signature,
// re-encoded canonically.
func editEntryOf(edit func(*protorekor.TransparencyLogEntry)) func(*testing.T, []byte) []byte {
	return func(t *testing.T, raw []byte) []byte {
		var octets []byte
		if _, err := asn1.Unmarshal(signatureOf(t, raw).UnsignedAttribute(rekor.OIDTransparencyLogEntry), &octets); err != nil {
			t.Fatal(err)
		}
		tle, err := rekor.DecodeEntry(octets)
		if err != nil {
			t.Fatal(err)
		}
		edit(tle)
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(tle)
		if err != nil {
			t.Fatal(err)
		}
		return withUnsigned(t, raw, rekor.OIDTransparencyLogEntry, b)
	}
}
