package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
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
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tm, src, err := LoadTrust(TrustOptions{FulcioRoot: fulcio, LookupEnv: env(map[string]string{
		"SIGSTORE_REKOR_PUBLIC_KEY": rekorKey, "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE": ctKey})})
	if err != nil || !strings.Contains(src, "pinned") {
		t.Fatalf("%v (%s)", err, src)
	}
	if _, err := mustNew(t, tm, billy).Verify(context.Background(), vec.payload, vec.sig, noID); err != nil {
		t.Errorf("with the real keys pinned: %v", err)
	}
	// A pinned Rekor key that is not the log's: the entry cannot verify.
	tm, _, err = LoadTrust(TrustOptions{LookupEnv: env(map[string]string{"SIGSTORE_REKOR_PUBLIC_KEY": ctKey})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mustNew(t, tm, billy).Verify(context.Background(), vec.payload, vec.sig, noID); err == nil ||
		!strings.Contains(err.Error(), "no valid transparency log entry") {
		t.Errorf("with a wrong Rekor key pinned: %v", err)
	}
	if _, _, err := LoadTrust(TrustOptions{TrustedRoot: filepath.Join(t.TempDir(), "missing.json")}); err == nil {
		t.Error("a missing trusted root file was accepted")
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
