package testcert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// TestDefaults: the zero Options are a self-signed certificate, serial 1,
// valid from about a minute ago for ten more minutes, for the key
// returned.
func TestDefaults(t *testing.T) {
	before := time.Now()
	cert, key := New(t, Options{})
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(key.Public()) || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T is not the returned P-256 key's", cert.PublicKey)
	}
	if cert.SerialNumber.Cmp(big.NewInt(1)) != 0 || cert.IsCA || len(cert.EmailAddresses)+len(cert.URIs) != 0 || cert.Subject.CommonName != "" {
		t.Errorf("serial %v, CA %v, SANs %v %v, CN %q", cert.SerialNumber, cert.IsCA, cert.EmailAddresses, cert.URIs, cert.Subject.CommonName)
	}
	// Certificate times are whole seconds.
	if early := before.Add(-time.Minute - time.Second); cert.NotBefore.Before(early) || cert.NotBefore.After(before) {
		t.Errorf("NotBefore %s, want about a minute before %s", cert.NotBefore, before)
	}
	if got := cert.NotAfter.Sub(cert.NotBefore); got < 11*time.Minute-2*time.Second || got > 11*time.Minute+2*time.Second {
		t.Errorf("valid for %s, want about 11m", got)
	}
}

// TestNames: the serial, common name, validity, emails, URIs, extra
// extensions and Fulcio's issuer land where a Fulcio certificate has
// them, read back as sigstore-go reads them.
func TestNames(t *testing.T) {
	nb := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	future := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 99}
	cert, _ := New(t, Options{
		Serial: 0x0abc, CommonName: "cn", Emails: []string{"a@example.test"},
		URIs: []string{"https://ci.example.test/wf@refs/heads/main"}, Issuer: "https://issuer.example.test",
		Extensions: []pkix.Extension{UTF8Extension(t, future, "future")},
		NotBefore:  nb, NotAfter: nb.Add(10 * time.Minute),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	if cert.SerialNumber.Int64() != 0x0abc || cert.Subject.CommonName != "cn" || !cert.NotBefore.Equal(nb) || !cert.NotAfter.Equal(nb.Add(10*time.Minute)) {
		t.Errorf("serial %x, CN %q, valid %s to %s", cert.SerialNumber, cert.Subject.CommonName, cert.NotBefore, cert.NotAfter)
	}
	if len(cert.EmailAddresses) != 1 || cert.EmailAddresses[0] != "a@example.test" ||
		len(cert.URIs) != 1 || cert.URIs[0].String() != "https://ci.example.test/wf@refs/heads/main" {
		t.Errorf("SANs %v %v", cert.EmailAddresses, cert.URIs)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning {
		t.Errorf("key usage %v, extended %v", cert.KeyUsage, cert.ExtKeyUsage)
	}
	ext, err := certificate.ParseExtensions(cert.Extensions)
	if err != nil || ext.Issuer != "https://issuer.example.test" {
		t.Errorf("sigstore-go reads issuer %q (%v)", ext.Issuer, err)
	}
	// The extra extension, then the issuer, each a DER UTF8String.
	var got []string
	for _, e := range cert.Extensions {
		if e.Id.Equal(future) || e.Id.Equal(OIDIssuerV2) {
			var s string
			if rest, err := asn1.UnmarshalWithParams(e.Value, &s, "utf8"); err != nil || len(rest) != 0 || e.Value[0] != asn1.TagUTF8String || e.Critical {
				t.Errorf("extension %s: %x (%v)", e.Id, e.Value, err)
			}
			got = append(got, e.Id.String()+"="+s)
		}
	}
	if want := "1.3.6.1.4.1.57264.1.99=future 1.3.6.1.4.1.57264.1.8=https://issuer.example.test"; strings.Join(got, " ") != want {
		t.Errorf("extensions %q, want %q", got, want)
	}
}

// TestChain: a CA issues an intermediate that issues a leaf, and the
// chain verifies; a requested public key is certified as given.
func TestChain(t *testing.T) {
	root, rootKey := New(t, Options{CommonName: "root", IsCA: true})
	inter, interKey := New(t, Options{CommonName: "inter", IsCA: true, Parent: root, ParentKey: rootKey})
	leaf, _ := New(t, Options{Emails: []string{"a@example.test"}, Parent: inter, ParentKey: interKey,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
	if !root.IsCA || !root.BasicConstraintsValid || root.KeyUsage != x509.KeyUsageCertSign || leaf.IsCA {
		t.Errorf("root CA %v (constraints %v, usage %v); leaf CA %v", root.IsCA, root.BasicConstraintsValid, root.KeyUsage, leaf.IsCA)
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	inters.AddCert(inter)
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	if _, err := leaf.Verify(opts); err != nil {
		t.Errorf("leaf does not verify up to the root: %v", err)
	}
	if err := leaf.CheckSignatureFrom(root); err == nil {
		t.Error("the leaf verifies against the root it was not issued by")
	}

	requested, _ := New(t, Options{})
	cert, key, err := Make(Options{PublicKey: requested.PublicKey, Parent: inter, ParentKey: interKey})
	if err != nil || key != nil || !cert.PublicKey.(*ecdsa.PublicKey).Equal(requested.PublicKey) || cert.CheckSignatureFrom(inter) != nil {
		t.Errorf("certifying a given key: %v, key %v", err, key)
	}
}

// TestDeterministic: with a fixed key and serial the same options give the
// same bytes; without, two certificates differ.
func TestDeterministic(t *testing.T) {
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := Options{Serial: 7, Key: key, NotBefore: nb, NotAfter: nb.Add(10 * time.Minute), Deterministic: true}
	a, ak := New(t, o)
	b, _ := New(t, o)
	if !bytes.Equal(a.Raw, b.Raw) || ak != key {
		t.Error("a deterministic certificate came out different twice")
	}
	o.Deterministic = false
	c, _ := New(t, o)
	d, _ := New(t, o)
	if bytes.Equal(c.Raw, d.Raw) {
		t.Error("two randomized signatures are the same")
	}
}

// TestMakeRefuses: options that cannot make a certificate are an error.
func TestMakeRefuses(t *testing.T) {
	parent, parentKey := New(t, Options{IsCA: true})
	for name, o := range map[string]Options{
		"bad URI":                      {URIs: []string{"http://[::1"}},
		"parent without key":           {Parent: parent},
		"parent key without parent":    {ParentKey: parentKey},
		"public key, self-signed":      {PublicKey: parentKey.Public()},
		"public key and key":           {PublicKey: parentKey.Public(), Key: parentKey, Parent: parent, ParentKey: parentKey},
		"deterministic without key":    {Deterministic: true, Serial: 1},
		"deterministic without serial": {Deterministic: true, Key: parentKey},
	} {
		if cert, _, err := Make(o); err == nil || cert != nil || !strings.HasPrefix(err.Error(), "testcert: ") {
			t.Errorf("%s: %v, %v", name, cert, err)
		}
	}
	if _, err := utf8Extension(OIDIssuerV2, "\xff"); err == nil {
		t.Error("invalid UTF-8 made an extension")
	}
	if _, _, err := Make(Options{Issuer: "\xff"}); err == nil {
		t.Error("an issuer that is not UTF-8 made a certificate")
	}
}
