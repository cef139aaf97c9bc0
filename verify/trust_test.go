package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// pinFiles writes the public-good root's Fulcio chain, Rekor key and CT
// key as the PEM files the reference's env pins name.
func pinFiles(t *testing.T) (fulcio, rekorKey, ctKey string) {
	t.Helper()
	var tr struct {
		CertificateAuthorities []struct {
			CertChain struct{ Certificates []struct{ RawBytes string } }
		}
		Tlogs, Ctlogs []struct {
			PublicKey struct{ RawBytes string }
		}
	}
	if err := json.Unmarshal(publicGoodRoot, &tr); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pemOf := func(typ, b64 string) []byte {
		der, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	}
	var chain []byte
	ca := tr.CertificateAuthorities[len(tr.CertificateAuthorities)-1]
	for _, c := range ca.CertChain.Certificates {
		chain = append(chain, pemOf("CERTIFICATE", c.RawBytes)...)
	}
	fulcio, rekorKey, ctKey = filepath.Join(dir, "fulcio.pem"), filepath.Join(dir, "rekor.pub"), filepath.Join(dir, "ct.pub")
	os.WriteFile(fulcio, chain, 0o600)
	os.WriteFile(rekorKey, pemOf("PUBLIC KEY", tr.Tlogs[len(tr.Tlogs)-1].PublicKey.RawBytes), 0o600)
	var cts []byte
	for _, c := range tr.Ctlogs {
		cts = pemOf("PUBLIC KEY", c.PublicKey.RawBytes) // the newest CT log signs these certificates
	}
	os.WriteFile(ctKey, cts, 0o600)
	return
}

func TestTrustPins(t *testing.T) {
	fulcio, rekorKey, ctKey := pinFiles(t)
	vec := vectors(t, "commits")[0]
	tm, src, err := LoadTrust(TrustOptions{FulcioRoot: fulcio, RekorPublicKey: rekorKey, CTLogPublicKey: ctKey})
	if err != nil || !strings.Contains(src, "pinned") {
		t.Fatalf("%v (%s)", err, src)
	}
	if _, err := mustNew(t, tm, billy).Verify(context.Background(), vec.payload, vec.sig, noID); err != nil {
		t.Errorf("with the real keys pinned: %v", err)
	}
	// A pinned Rekor key that is not the log's: the entry cannot verify.
	tm, _, err = LoadTrust(TrustOptions{RekorPublicKey: ctKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mustNew(t, tm, billy).Verify(context.Background(), vec.payload, vec.sig, noID); err == nil ||
		!strings.Contains(err.Error(), "no valid transparency log entry") {
		t.Errorf("with a wrong Rekor key pinned: %v", err)
	}
}

// TestTrustErrors: each unusable part of the trust material is a
// *TrustError naming the part and the file, and no environment variable.
func TestTrustErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o    TrustOptions
		part TrustPart
		path string
	}{
		{TrustOptions{TrustedRoot: missing}, PartTrustedRoot, missing},
		{TrustOptions{TrustedRoot: notPEM}, PartTrustedRoot, notPEM},
		{TrustOptions{FulcioRoot: notPEM}, PartFulcioRoot, notPEM},
		{TrustOptions{TimestampCertChain: missing}, PartTimestampChain, missing},
		{TrustOptions{RekorPublicKey: notPEM}, PartRekorKey, notPEM},
		{TrustOptions{CTLogPublicKey: missing}, PartCTLogKey, missing},
	} {
		_, _, err := LoadTrust(tc.o)
		var te *TrustError
		if !errors.As(err, &te) || te.Part != tc.part || te.Path != tc.path {
			t.Errorf("%+v: %v, want a *TrustError for the %s %s", tc.o, err, tc.part, tc.path)
			continue
		}
		if msg := err.Error(); strings.Count(msg, tc.path) != 1 || strings.Contains(msg, "SIGSTORE_") || strings.Contains(msg, "TUF_ROOT") {
			t.Errorf("message %q: want the path once and no environment variable", msg)
		}
	}
}

// TestTrustTUFCache: a trusted root cached by TUF (for the mirror
// RememberMirror recorded) is used, and a broken one is a *TrustError.
func TestTrustTUFCache(t *testing.T) {
	dir := t.TempDir()
	if _, src, err := LoadTrust(TrustOptions{TUFCache: dir}); err != nil || !strings.Contains(src, "built into gitsign") {
		t.Fatalf("empty cache: %v (%s)", err, src)
	}
	const mirror = "https://tuf.example.test/repo"
	if err := RememberMirror(dir, mirror); err != nil {
		t.Fatal(err)
	}
	targets := filepath.Join(dir, "tuf.example.test-repo", "targets")
	if err := os.MkdirAll(targets, 0o700); err != nil {
		t.Fatal(err)
	}
	cached := filepath.Join(targets, "trusted_root.json")
	if err := os.WriteFile(cached, publicGoodRoot, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, src, err := LoadTrust(TrustOptions{TUFCache: dir}); err != nil || src != cached {
		t.Errorf("cached root: %v (%s), want %s", err, src, cached)
	}
	if _, src, err := LoadTrust(TrustOptions{TUFCache: dir, TrustedRoot: cached + ".explicit"}); err == nil {
		t.Errorf("an explicit trusted root that is missing fell back to %s", src)
	}
	if err := os.WriteFile(cached, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	var te *TrustError
	if _, _, err := LoadTrust(TrustOptions{TUFCache: dir}); !errors.As(err, &te) || te.Part != PartCachedRoot || te.Path != cached {
		t.Errorf("broken cached root: %v", err)
	}
}

// FuzzVerify mutates real signatures: whatever the input, Verify either
// fails or reports the one identity the policy accepts.
func FuzzVerify(f *testing.F) {
	vecs := vectors(f, "commits")
	for _, v := range vecs[:2] {
		f.Add(v.sig)
	}
	v := builtinVerifier(f, billy)
	payload := vecs[0].payload
	f.Fuzz(func(t *testing.T, sig []byte) {
		res, err := v.Verify(context.Background(), payload, sig, noID)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if res.Identity != "billy@chainguard.dev" || !res.PolicyChecked || res.Cert == nil {
			t.Fatalf("accepted a signature outside the policy: %+v", res)
		}
	})
}

func mustNew(t testing.TB, tm root.TrustedMaterial, p Policy) *Verifier {
	t.Helper()
	v, err := New(tm, Options{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
