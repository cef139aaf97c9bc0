package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// testCA makes a P-384 CA certificate named cn, signed by parent (self-signed
// when parent is nil).
func testCA(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, pathLen int) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{Organization: []string{"test"}, CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            pathLen,
		MaxPathLenZero:        pathLen == 0,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func TestCheckChain(t *testing.T) {
	rootCert, rootKey := testCA(t, "root", nil, nil, -1)
	inter, _ := testCA(t, "intermediate", rootCert, rootKey, 0)
	otherRoot, otherKey := testCA(t, "root", nil, nil, -1)
	stranger, _ := testCA(t, "intermediate", otherRoot, otherKey, 0)

	for _, c := range []struct {
		name  string
		chain []*x509.Certificate
		want  string // "" = accepted
	}{
		{"intermediate then root", []*x509.Certificate{inter, rootCert}, ""},
		{"a lone root", []*x509.Certificate{rootCert}, ""},
		{"root first", []*x509.Certificate{rootCert, inter}, "put the issuing CA first and the root last"},
		{"intermediate of another root", []*x509.Certificate{stranger, rootCert}, "is not signed by certificate 2"},
		{"no root", []*x509.Certificate{inter}, "is not a self-signed root"},
		{"empty", nil, "no certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkChain(c.chain)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func writePEM(t *testing.T, path, typ string, ders ...[]byte) {
	t.Helper()
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCreateChainOrder writes a trusted root from an intermediate+root
// chain and checks its certChain is in that order, that check accepts
// that chain and refuses the root alone, and that create refuses the
// chain root first.
func TestCreateChainOrder(t *testing.T) {
	dir := t.TempDir()
	rootCert, rootKey := testCA(t, "root", nil, nil, -1)
	inter, _ := testCA(t, "intermediate", rootCert, rootKey, 0)
	tsaRoot, tsaKey := testCA(t, "tsa-root", nil, nil, -1)
	tsaLeaf, _ := testCA(t, "tsa-leaf", tsaRoot, tsaKey, 0)
	path := func(n string) string { return filepath.Join(dir, n) }
	writePEM(t, path("chain.pem"), "CERTIFICATE", inter.Raw, rootCert.Raw)
	writePEM(t, path("root.pem"), "CERTIFICATE", rootCert.Raw)
	writePEM(t, path("reversed.pem"), "CERTIFICATE", rootCert.Raw, inter.Raw)
	writePEM(t, path("tsa.pem"), "CERTIFICATE", tsaLeaf.Raw, tsaRoot.Raw)
	for _, name := range []string{"ct.pem", "rekor1.pem"} {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		writePEM(t, path(name), "PUBLIC KEY", der)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	writePEM(t, path("rekor2.pem"), "PUBLIC KEY", der)

	args := func(chain string) []string {
		return []string{"-out", path("trusted_root.json"), "-fulcio-chain", path(chain), "-ctlog-key", path("ct.pem"),
			"-rekor-v1-key", path("rekor1.pem"), "-rekor-v2-key", path("rekor2.pem"), "-tsa-chain", path("tsa.pem")}
	}
	if err := create(args("chain.pem")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path("trusted_root.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		CertificateAuthorities []struct {
			CertChain struct {
				Certificates []struct {
					RawBytes []byte `json:"rawBytes"`
				} `json:"certificates"`
			} `json:"certChain"`
		} `json:"certificateAuthorities"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.CertificateAuthorities) != 1 {
		t.Fatalf("%d certificate authorities, want 1", len(doc.CertificateAuthorities))
	}
	certs := doc.CertificateAuthorities[0].CertChain.Certificates
	if len(certs) != 2 || string(certs[0].RawBytes) != string(inter.Raw) || string(certs[1].RawBytes) != string(rootCert.Raw) {
		t.Fatalf("certChain has %d certificates, want the intermediate then the root", len(certs))
	}
	tr, err := root.NewTrustedRootFromPath(path("trusted_root.json"))
	if err != nil {
		t.Fatal(err)
	}
	ca := tr.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	if err := sameChain(ca, []*x509.Certificate{inter, rootCert}); err != nil {
		t.Errorf("sameChain with the chain written: %v", err)
	}
	if err := sameChain(ca, []*x509.Certificate{rootCert}); err == nil {
		t.Error("sameChain accepted the root alone")
	}
	if err := check([]string{"-root", path("trusted_root.json"), "-fulcio-chain", path("chain.pem")}); err != nil {
		t.Errorf("check -fulcio-chain with the chain written: %v", err)
	}
	if err := check([]string{"-root", path("trusted_root.json"), "-fulcio-chain", path("root.pem")}); err == nil {
		t.Error("check -fulcio-chain accepted the root alone")
	}

	if err := create(args("reversed.pem")); err == nil || !strings.Contains(err.Error(), "issuing CA first") {
		t.Errorf("create with the root first: %v", err)
	}
}
