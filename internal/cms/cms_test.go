package cms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/github/smimesign/ietf-cms/oid"
	"github.com/github/smimesign/ietf-cms/protocol"

	"github.com/gitsign-dev/gitsign/internal/testcert"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedIdentity returns a key derived from a constant scalar and a
// self-signed certificate for it, so signatures are reproducible.
func fixedIdentity(t *testing.T) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := testcert.New(t, testcert.Options{
		Serial: 7, CommonName: "golden", Key: key, Deterministic: true,
		NotBefore:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:    time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	})
	return key, cert
}

var payload = []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.test> 1767225600 +0000\ncommitter A <a@example.test> 1767225600 +0000\n\ngolden\n")

func TestSignGolden(t *testing.T) {
	key, cert := fixedIdentity(t)
	s, err := Sign(payload, cert, key, time.Date(2026, 1, 1, 0, 1, 2, 0, time.UTC), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddUnsignedAttribute(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 3, 1}, []byte("entry")); err != nil {
		t.Fatal(err)
	}
	der, err := s.DER()
	if err != nil {
		t.Fatal(err)
	}
	got := Armor(der)
	path := filepath.Join("testdata", "golden-detached.pem")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("signature differs from %s (run with -update if the change is intended)\ngot:\n%s", path, got)
	}
}

// TestLayout checks the structure the reference implementation writes.
func TestLayout(t *testing.T) {
	key, cert := fixedIdentity(t)
	s, err := Sign(payload, cert, key, time.Now(), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := s.DER()
	p, err := ParseDER(der)
	if err != nil {
		t.Fatal(err)
	}
	sd := p.SignedData
	if sd.Version != 1 || len(sd.DigestAlgorithms) != 1 || !sd.DigestAlgorithms[0].Algorithm.Equal(oid.DigestAlgorithmSHA256) {
		t.Errorf("SignedData version %d digests %v", sd.Version, sd.DigestAlgorithms)
	}
	if !sd.EncapContentInfo.IsTypeData() || len(sd.EncapContentInfo.EContent.Bytes) != 0 {
		t.Error("want detached id-data content")
	}
	certs, err := sd.X509Certificates()
	if err != nil || len(certs) != 1 || !certs[0].Equal(cert) {
		t.Errorf("want only the leaf in the bag, got %d (%v)", len(certs), err)
	}
	si := sd.SignerInfos[0]
	var order []string
	for _, a := range si.SignedAttrs {
		order = append(order, a.Type.String())
	}
	if got := strings.Join(order, " "); got != "1.2.840.113549.1.9.3 1.2.840.113549.1.9.5 1.2.840.113549.1.9.4" {
		t.Errorf("signed attribute order %s", got)
	}
	md, err := si.GetMessageDigestAttribute()
	sum := sha256.Sum256(payload)
	if err != nil || !bytes.Equal(md, sum[:]) {
		t.Errorf("messageDigest %x, want %x (%v)", md, sum, err)
	}
	found, err := si.FindCertificate(certs)
	if err != nil || !found.Equal(cert) {
		t.Fatalf("signer identifier does not name the leaf: %v", err)
	}
	tbs, _ := si.SignedAttrs.MarshaledForVerification()
	if err := cert.CheckSignature(x509.ECDSAWithSHA256, tbs, si.Signature); err != nil {
		t.Errorf("signature does not verify over the signed attributes: %v", err)
	}
	if !si.SignatureAlgorithm.Algorithm.Equal(oid.SignatureAlgorithmECDSAWithSHA256) {
		t.Errorf("signature algorithm %v", si.SignatureAlgorithm.Algorithm)
	}
}

// TestMatchesReferenceAttributes rebuilds the signed attributes of a real
// signature made by the reference implementation from their values and
// expects the same bytes.
func TestMatchesReferenceAttributes(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/realworld/commits/*.commit")
	if len(files) == 0 {
		t.Fatal("no real-world vectors found in testdata/realworld")
	}
	re := regexp.MustCompile(`(?s)gpgsig (-----BEGIN SIGNED MESSAGE-----.*?-----END SIGNED MESSAGE-----)`)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindSubmatch(raw)
		if m == nil {
			t.Fatalf("%s: no signature", f)
		}
		p, err := Parse(append(bytes.ReplaceAll(m[1], []byte("\n "), []byte("\n")), '\n'))
		if err != nil {
			t.Fatal(err)
		}
		si := p.Signer
		st, err := si.GetSigningTimeAttribute()
		if err != nil {
			t.Fatal(err)
		}
		md, _ := si.GetMessageDigestAttribute()
		ours, err := signedAttributes(oid.ContentTypeData, st, md)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := ours.MarshaledForVerification()
		b, _ := si.SignedAttrs.MarshaledForVerification()
		if !bytes.Equal(a, b) {
			t.Errorf("%s: our signed attributes differ from the reference's", filepath.Base(f))
		}
	}
}

func TestSignRejectsWrongKey(t *testing.T) {
	key, cert := fixedIdentity(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), nil)
	if _, err := Sign(payload, cert, other, time.Now(), true, nil); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("signing with a key that is not the certificate's: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), nil)
	_ = key
	if _, err := Sign(payload, cert, p384, time.Now(), true, nil); err == nil {
		t.Error("signing with a P-384 key succeeded")
	}
}

func TestAttachedCarriesPayload(t *testing.T) {
	key, cert := fixedIdentity(t)
	s, err := Sign(payload, cert, key, time.Now(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := s.DER()
	if _, err := ParseDER(der); err == nil || !strings.Contains(err.Error(), "attached") {
		t.Errorf("Parse accepted an attached signature: %v", err)
	}
	ci, err := protocol.ParseContentInfo(der)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ci.SignedDataContent()
	if err != nil {
		t.Fatal(err)
	}
	got, err := sd.EncapContentInfo.DataEContent()
	if err != nil || !bytes.Equal(got, payload) {
		t.Errorf("attached content %q (%v)", got, err)
	}
}

func TestDearmor(t *testing.T) {
	if _, err := Dearmor([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")); err == nil {
		t.Error("accepted a certificate block")
	}
	der, err := Dearmor(Armor([]byte{1, 2, 3}))
	if err != nil || !bytes.Equal(der, []byte{1, 2, 3}) {
		t.Errorf("round trip: %x %v", der, err)
	}
}

// otherCert is a self-signed certificate of a bystander, not the signer.
func otherCert(t *testing.T) *x509.Certificate {
	t.Helper()
	c, _ := testcert.New(t, testcert.Options{Serial: 99, CommonName: "bystander"})
	return c
}
