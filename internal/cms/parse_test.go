package cms

import (
	"bytes"
	"encoding/asn1"
	"strings"
	"testing"
	"time"
)

func TestParseRoundTrip(t *testing.T) {
	key, cert := fixedIdentity(t)
	s, err := Sign(payload, cert, key, time.Now(), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	oid := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 3, 1}
	if err := s.AddUnsignedAttribute(oid, []byte("entry")); err != nil {
		t.Fatal(err)
	}
	der, _ := s.DER()
	for _, parse := range []func() (*Parsed, error){func() (*Parsed, error) { return ParseDER(der) }, func() (*Parsed, error) { return Parse(Armor(der)) }} {
		p, err := parse()
		if err != nil {
			t.Fatal(err)
		}
		if !p.Cert.Equal(cert) || !bytes.Equal(p.Signer.Signature, s.Signature()) {
			t.Error("parsed signature differs from the one made")
		}
		a, _ := p.SignedAttributes()
		b, _ := s.SignedAttributes()
		if !bytes.Equal(a, b) {
			t.Error("signed attributes differ")
		}
		v := p.UnsignedAttribute(oid)
		var octets []byte
		if _, err := asn1.Unmarshal(v, &octets); err != nil || string(octets) != "entry" {
			t.Errorf("unsigned attribute %x (%v)", v, err)
		}
		if v := p.UnsignedAttribute(asn1.ObjectIdentifier{1, 2, 3}); v != nil {
			t.Errorf("absent attribute: %x", v)
		}
	}
}

func TestParseRejects(t *testing.T) {
	key, cert := fixedIdentity(t)
	s, _ := Sign(payload, cert, key, time.Now(), true, nil)
	der, _ := s.DER()
	armored := Armor(der)
	noCerts := *s.sd
	noCerts.Certificates = nil
	noCertsDER, _ := (&Signed{sd: &noCerts}).DER()
	tests := map[string][]byte{
		"garbage":        []byte("hello"),
		"truncated PEM":  armored[:len(armored)/2],
		"wrong PEM type": bytes.Replace(armored, []byte("SIGNED MESSAGE"), []byte("CERTIFICATE"), 2),
		"truncated DER":  der[:len(der)-10],
		"no certificate": noCertsDER,
		"trailing data":  append(append([]byte{}, armored...), []byte("-----BEGIN X-----\nAA==\n-----END X-----\n")...),
	}
	for name, in := range tests {
		if _, err := Parse(in); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Count(err.Error(), "\n") != 0 {
			t.Errorf("%s: error is not one line: %q", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	key, cert := fixedIdentity(&testing.T{})
	s, _ := Sign(payload, cert, key, time.Unix(0, 0), true, nil)
	der, _ := s.DER()
	f.Add(der)
	f.Add(Armor(der))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Parse(in)
		if err != nil {
			return
		}
		// Property: a parsed signature always names a signer certificate
		// that is in its bag, and its attributes can be re-encoded.
		if p.Cert == nil {
			t.Fatal("no signer certificate")
		}
		if _, err := p.SignedAttributes(); err != nil && len(p.Signer.SignedAttrs) != 0 {
			t.Fatalf("signed attributes do not encode: %v", err)
		}
	})
}

// TestParseRefusesDecoyCertificate puts an unrelated certificate first in
// the bag. The reference once reported the first certificate's identity
// (gitsign#810); gitsign signatures carry only the signer's certificate,
// so a second one is refused outright.
func TestParseRefusesDecoyCertificate(t *testing.T) {
	key, cert := fixedIdentity(t)
	s, err := Sign(payload, cert, key, time.Now(), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := otherCert(t)
	var rv asn1.RawValue
	if _, err := asn1.Unmarshal(other.Raw, &rv); err != nil {
		t.Fatal(err)
	}
	s.sd.Certificates = append([]asn1.RawValue{rv}, s.sd.Certificates...)
	der, _ := s.DER()
	if _, err := Parse(Armor(der)); err == nil || !strings.Contains(err.Error(), "carries 2 certificates") {
		t.Errorf("a decoy certificate: %v", err)
	}
}
