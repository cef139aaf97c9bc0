package attest

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/gitsign-dev/gitsign/verify"
)

const vectorCommit = "7e1f4e0ca1b54786a976ab3e37a90fd1725e31bd"

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vectorVerifier verifies the vectors: the stack's trusted root, alice.
func vectorVerifier(t testing.TB, identity string) *verify.Verifier {
	t.Helper()
	tm, _, err := verify.LoadTrust(verify.TrustOptions{TrustedRoot: "testdata/trusted_root.json"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(tm, verify.Options{Policy: verify.Policy{Identities: []string{identity}, Issuers: []string{"http://127.0.0.1:5556"}}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVectors: both vectors verify offline, are about their commit, and
// carry what the README says; under another identity they do not.
func TestVectors(t *testing.T) {
	v := vectorVerifier(t, "alice@example.test")
	for name, want := range map[string]string{"rekor-v1.sig": `{"buildType":"x","n":1}`, "rekor-v2.sig": `{"v2":true}`} {
		sig := readVector(t, name)
		o := Check(v, DigestCommit, vectorCommit, File{Name: "p", Predicate: []byte(want), Sig: sig})
		if o.Err != nil {
			t.Fatalf("%s: %v", name, o.Err)
		}
		if string(o.Statement.Predicate) != want || !o.Result.Timestamped || o.Result.Identity != "alice@example.test" {
			t.Errorf("%s: %s %+v", name, o.Statement.Predicate, o.Result)
		}
		if o := Check(v, DigestCommit, strings.Repeat("0", 40), File{Name: "p", Sig: sig}); o.Err == nil || !strings.Contains(o.Err.Error(), "not an attestation of this object") {
			t.Errorf("%s for another commit: %v", name, o.Err)
		}
		if o := Check(v, DigestTree, vectorCommit, File{Name: "p", Sig: sig}); o.Err == nil {
			t.Errorf("%s as a tree's: verified", name)
		}
		if o := Check(vectorVerifier(t, "bob@example.test"), DigestCommit, vectorCommit, File{Name: "p", Sig: sig}); o.Err == nil || !strings.Contains(o.Err.Error(), "not accepted") {
			t.Errorf("%s for bob: %v", name, o.Err)
		}
	}
}

// TestBundle: a .sig file's bundle is a Sigstore bundle sigstore-go reads.
func TestBundle(t *testing.T) {
	for _, name := range []string{"rekor-v1.sig", "rekor-v2.sig"} {
		b, err := Bundle(readVector(t, name))
		if err != nil {
			t.Fatal(err)
		}
		var sb bundle.Bundle
		if err := sb.UnmarshalJSON(b); err != nil {
			t.Errorf("%s: sigstore-go refuses its bundle: %v\n%s", name, err, b)
		}
	}
}

// TestParseSigReference: an envelope as the reference writes it (no
// verification material) is read, and reported as not verifiable.
func TestParseSigReference(t *testing.T) {
	var f map[string]json.RawMessage
	json.Unmarshal(readVector(t, "rekor-v1.sig"), &f)
	ref, _ := json.Marshal(map[string]json.RawMessage{"payloadType": f["payloadType"], "payload": f["payload"], "signatures": f["signatures"]})
	s, err := ParseSig(ref)
	if err != nil || s.Material {
		t.Fatalf("the reference's envelope: %+v %v", s, err)
	}
	o := Check(vectorVerifier(t, "alice@example.test"), DigestCommit, vectorCommit, File{Name: "p", Sig: ref})
	if o.Statement == nil || o.Err == nil || !strings.Contains(o.Err.Error(), "cannot be verified offline") {
		t.Errorf("the reference's envelope: %v", o.Err)
	}
}

// TestParseSigRefuses: anything but one envelope of one in-toto statement
// with its material in its one encoding is refused.
func TestParseSigRefuses(t *testing.T) {
	good := readVector(t, "rekor-v1.sig")
	edit := func(f func(map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(good, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	sigs := func(m map[string]any) []any { return m["signatures"].([]any) }
	for name, b := range map[string][]byte{
		"unknown field":         edit(func(m map[string]any) { m["extra"] = 1 }),
		"two signatures":        edit(func(m map[string]any) { m["signatures"] = append(sigs(m), sigs(m)[0]) }),
		"no signature":          edit(func(m map[string]any) { m["signatures"] = []any{} }),
		"other payload type":    edit(func(m map[string]any) { m["payloadType"] = "application/json" }),
		"unpadded payload":      edit(func(m map[string]any) { m["payload"] = strings.TrimRight(m["payload"].(string), "=") }),
		"url-safe signature":    edit(func(m map[string]any) { sigs(m)[0].(map[string]any)["sig"] = "-_" }),
		"other media type":      edit(func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.2+json" }),
		"material without type": edit(func(m map[string]any) { delete(m, "mediaType") }),
		"two values":            append(bytes.Clone(good), []byte("{}")...),
		"a repeated member":     bytes.Replace(good, []byte(`"payloadType"`), []byte(`"payload": "e30=", "payloadType"`), 1),
		"too deep":              []byte(strings.Repeat("[", 100) + strings.Repeat("]", 100)),
		"unknown material field": edit(func(m map[string]any) {
			m["verificationMaterial"].(map[string]any)["extra"] = 1
		}),
		"two timestamps": edit(func(m map[string]any) {
			tvd := m["verificationMaterial"].(map[string]any)["timestampVerificationData"].(map[string]any)
			ts := tvd["rfc3161Timestamps"].([]any)
			tvd["rfc3161Timestamps"] = append(ts, ts[0])
		}),
		"no log entry": edit(func(m map[string]any) { m["verificationMaterial"].(map[string]any)["tlogEntries"] = []any{} }),
	} {
		if _, err := ParseSig(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseSig(make([]byte, MaxSigSize+1)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("an oversized file: %v", err)
	}
}
