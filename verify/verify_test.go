package verify

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

const realworld = "../testdata/realworld"

var billy = Policy{Identities: []string{"billy@chainguard.dev"}, Issuers: []string{"https://accounts.google.com"}}

type vector struct {
	name, typ, id string
	raw           []byte // the object as git stores it
	payload, sig  []byte
}

func vectors(t testing.TB, dir string) []vector {
	t.Helper()
	var out []vector
	files, _ := filepath.Glob(filepath.Join(realworld, dir, "*.commit"))
	for _, f := range files {
		out = append(out, load(t, f, "commit", strings.TrimSuffix(filepath.Base(f), ".commit")))
	}
	if dir == "commits" {
		oid, err := os.ReadFile(filepath.Join(realworld, "tags", "v0.17.0.oid"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, load(t, filepath.Join(realworld, "tags", "v0.17.0.tag"), "tag", strings.TrimSpace(string(oid))))
	}
	if len(out) == 0 {
		t.Fatalf("no vectors in %s/%s", realworld, dir)
	}
	return out
}

func load(t testing.TB, path, typ, id string) vector {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	payload, sig, err := gitobj.Split(typ, raw)
	if err != nil {
		t.Fatal(err)
	}
	return vector{name: filepath.Base(path), typ: typ, id: id, raw: raw, payload: payload, sig: sig}
}

func builtinVerifier(t testing.TB, p Policy) *Verifier {
	t.Helper()
	return builtinVerifierWith(t, Options{Policy: p, AnyIdentityUnsafe: !p.Configured()})
}

func builtinVerifierWith(t testing.TB, o Options) *Verifier {
	t.Helper()
	tm, src, err := LoadTrust(TrustOptions{})
	if err != nil || !strings.Contains(src, "built into gitsign") {
		t.Fatalf("trust: %v (%s)", err, src)
	}
	v, err := New(tm, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func noID() (string, error) { return "", errors.New("object id not needed") }

func TestRealWorldOffline(t *testing.T) {
	v := builtinVerifier(t, billy)
	for _, vec := range vectors(t, "commits") {
		res, err := v.Verify(context.Background(), vec.payload, vec.sig, noID)
		if err != nil {
			t.Errorf("%s: %v", vec.name, err)
			continue
		}
		if res.Identity != "billy@chainguard.dev" || res.Issuer != "https://accounts.google.com" || !res.PolicyChecked || res.Online || res.LogIndex <= 0 {
			t.Errorf("%s: %+v", vec.name, res)
		}
	}
}

func TestRealWorldOnlineNeedsRekor(t *testing.T) {
	v := builtinVerifier(t, billy)
	for _, vec := range vectors(t, "online") {
		_, err := v.Verify(context.Background(), vec.payload, vec.sig, func() (string, error) { return vec.id, nil })
		var ve *Error
		if !errors.As(err, &ve) || ve.Kind != Unverifiable || !strings.Contains(err.Error(), "online mode") || !strings.Contains(err.Error(), "Rekor") {
			t.Errorf("%s: %v", vec.name, err)
		}
	}
}

func expectFail(t *testing.T, v *Verifier, name string, payload, sig []byte, kind Kind, want string) {
	t.Helper()
	_, err := v.Verify(context.Background(), payload, sig, noID)
	var ve *Error
	if !errors.As(err, &ve) {
		t.Errorf("%s: verified (err %v)", name, err)
		return
	}
	t.Logf("%s: %v", name, err)
	if ve.Kind != kind || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: kind %d error %q, want kind %d containing %q", name, ve.Kind, err, kind, want)
	}
}

// TestRealWorldNegatives derives the negative variants the vectors' README
// lists; each must fail with its own error.
func TestRealWorldNegatives(t *testing.T) {
	vecs := vectors(t, "commits")
	a, b := vecs[0], vecs[1]
	v := builtinVerifier(t, billy)

	flipped := bytes.Clone(a.payload)
	flipped[len(flipped)-2] ^= 1
	expectFail(t, v, "one byte of the body changed", flipped, a.sig, Bad, "not over this object")
	expectFail(t, v, "signature moved to another commit", b.payload, a.sig, Bad, "not over this object")

	for name, p := range map[string]Policy{
		"wrong identity": {Identities: []string{"mallory@example.com"}, Issuers: billy.Issuers},
		"wrong issuer":   {Identities: billy.Identities, Issuers: []string{"https://github.com/login/oauth"}},
		"unanchored regexp does not match a longer identity": {IdentityRegexps: []string{"billy@chainguard"}, Issuers: billy.Issuers},
	} {
		expectFail(t, builtinVerifier(t, p), name, a.payload, a.sig, Mismatch, "not accepted by the identity policy")
	}
	if _, err := builtinVerifier(t, Policy{IdentityRegexps: []string{`.*@chainguard\.dev`}, IssuerRegexps: []string{`https://accounts\.google\.com`}}).
		Verify(context.Background(), a.payload, a.sig, noID); err != nil {
		t.Errorf("anchored regexps that match: %v", err)
	}

	// The embedded entry of another commit grafted onto this signature.
	grafted := graftEntry(t, a.sig, b.sig)
	expectFail(t, v, "log entry from a different commit", a.payload, grafted, Bad, "no valid transparency log entry")

	// Trust material without the Rekor key or the Fulcio intermediate.
	expectFail(t, verifierWithEditedRoot(t, func(m map[string]any) { m["tlogs"] = []any{} }),
		"no rekor key", a.payload, a.sig, Bad, "no valid transparency log entry")
	expectFail(t, verifierWithEditedRoot(t, dropIntermediates),
		"no fulcio intermediate", a.payload, a.sig, Bad, "leaf certificate verification failed")

	pemText := string(a.sig)
	expectFail(t, v, "truncated PEM", a.payload, []byte(pemText[:len(pemText)/2]), Unverifiable, "malformed PEM armor")
	first := strings.Index(pemText, "\n") + 1
	garbled := pemText[:first] + strings.Replace(pemText[first:], "M", "%", 3)
	expectFail(t, v, "garbled PEM", a.payload, []byte(garbled), Unverifiable, "malformed PEM armor")
}

func TestNoPolicyStillChecksSignature(t *testing.T) {
	vec := vectors(t, "commits")[0]
	v := builtinVerifier(t, Policy{})
	res, err := v.Verify(context.Background(), vec.payload, vec.sig, noID)
	if err != nil || res.PolicyChecked || res.Identity != "billy@chainguard.dev" {
		t.Fatalf("%+v %v", res, err)
	}
	expectFail(t, v, "changed body without policy", append(bytes.Clone(vec.payload), 'x'), vec.sig, Bad, "not over this object")
}

func TestPolicyComplete(t *testing.T) {
	if (Policy{Identities: []string{"a"}}).Complete() == nil || (Policy{Issuers: []string{"a"}}).Complete() == nil {
		t.Error("half a policy accepted")
	}
	if err := (Policy{IdentityRegexps: []string{"("}, Issuers: []string{"x"}}).Complete(); err == nil {
		t.Error("bad regexp accepted")
	}
}

// TestTamperedEntries changes one part of an embedded log entry at a time:
// each fails, as a bad signature where a log's signature or proof no longer
// verifies, and as a signature in a form gitsign refuses where an unsigned
// field no longer equals the signed value it stands for (the error names
// the field).
func TestTamperedEntries(t *testing.T) {
	vec := vectors(t, "commits")[0]
	v := builtinVerifier(t, billy)
	for _, c := range []struct {
		name string
		edit func(*protorekor.TransparencyLogEntry)
		kind Kind
		want string
	}{
		{"inclusion proof hash corrupted", func(e *protorekor.TransparencyLogEntry) { e.InclusionProof.Hashes[0][0] ^= 1 }, Bad, "does not match expected root"},
		{"root hash corrupted", func(e *protorekor.TransparencyLogEntry) { e.InclusionProof.RootHash[0] ^= 1 }, Unverifiable, "root_hash"},
		{"tree size changed", func(e *protorekor.TransparencyLogEntry) { e.InclusionProof.TreeSize++ }, Unverifiable, "tree_size"},
		{"proof index past the entry's", func(e *protorekor.TransparencyLogEntry) { e.InclusionProof.LogIndex = e.LogIndex + 1 }, Unverifiable, "log_index"},
		{"proof index changed", func(e *protorekor.TransparencyLogEntry) { e.InclusionProof.LogIndex-- }, Bad, "does not match expected root"},
		{"SET removed", func(e *protorekor.TransparencyLogEntry) { e.InclusionPromise = nil }, Unverifiable, "inclusion_promise"},
		{"integrated time in the future", func(e *protorekor.TransparencyLogEntry) { e.IntegratedTime += 86400 * 365 }, Bad, "signed entry timestamp"},
		{"integrated time before the certificate", func(e *protorekor.TransparencyLogEntry) { e.IntegratedTime -= 3600 }, Bad, "signed entry timestamp"},
		{"SET corrupted", func(e *protorekor.TransparencyLogEntry) { e.InclusionPromise.SignedEntryTimestamp[10] ^= 1 }, Bad, "signed entry timestamp"},
		{"log index changed", func(e *protorekor.TransparencyLogEntry) { e.LogIndex++ }, Bad, "signed entry timestamp"},
		{"checkpoint signature corrupted", func(e *protorekor.TransparencyLogEntry) {
			c := []byte(e.InclusionProof.Checkpoint.Envelope)
			c[len(c)-5] ^= 1
			e.InclusionProof.Checkpoint.Envelope = string(c)
		}, Bad, "checkpoint"},
	} {
		expectFail(t, v, c.name, vec.payload, editEntry(t, vec.sig, c.edit), c.kind, c.want)
	}
}

// TestNoTrustedCTLog: without the CT log's key the SCT cannot be checked.
func TestNoTrustedCTLog(t *testing.T) {
	vec := vectors(t, "commits")[0]
	v := verifierWithEditedRoot(t, func(m map[string]any) { m["ctlogs"] = []any{} })
	expectFail(t, v, "no CT log", vec.payload, vec.sig, Unverifiable, "lists no certificate transparency log")
}

// TestTrustValidityWindows: trust material counts only within the validity
// window the trusted root gives it, judged at the log's time (the
// reference ignored these windows; cosign once checked chains at the
// leaf's NotBefore, GHSA-wfqv-66vq-46rm).
func TestTrustValidityWindows(t *testing.T) {
	vec := vectors(t, "commits")[0] // signed July 2026
	end := func(list string) func(map[string]any) {
		return func(m map[string]any) {
			window := map[string]any{"start": "2020-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
			for _, x := range m[list].([]any) {
				x := x.(map[string]any)
				if pk, ok := x["publicKey"].(map[string]any); ok {
					pk["validFor"] = window // logs: the key's window
				} else {
					x["validFor"] = window // certificate authorities
				}
			}
		}
	}
	expectFail(t, verifierWithEditedRoot(t, end("certificateAuthorities")), "Fulcio CA window ended before the signature",
		vec.payload, vec.sig, Bad, "")
	expectFail(t, verifierWithEditedRoot(t, end("tlogs")), "Rekor key window ended before the signature",
		vec.payload, vec.sig, Bad, "")
	expectFail(t, verifierWithEditedRoot(t, end("ctlogs")), "CT log window ended before the certificate",
		vec.payload, vec.sig, Bad, "")
}
