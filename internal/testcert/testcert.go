// Package testcert makes X.509 certificates and their P-256 keys for
// tests: self-signed or issued by a parent, naming emails and URIs, with
// Fulcio's OIDC issuer extension when asked.
//
// It is test support only: import it from _test.go files, never from
// code that ships.
package testcert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"testing"
	"time"
	"unicode/utf8"
)

// OIDIssuerV2 is Fulcio's OIDC issuer extension (1.3.6.1.4.1.57264.1.8),
// whose value is a DER UTF8String; Options.Issuer writes it.
var OIDIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}

// Options describe a certificate. The zero value is a self-signed
// certificate with serial 1 for a fresh key, valid from a minute ago
// until ten minutes from now, naming nothing.
type Options struct {
	// Serial is the serial number; 0 means 1.
	Serial int64
	// CommonName is the subject's common name; empty means none.
	CommonName string
	// Emails and URIs are the Subject Alternative Names. A URI that does
	// not parse is an error.
	Emails, URIs []string
	// Issuer, when not empty, is written in Fulcio's OIDC issuer
	// extension (OIDIssuerV2), after Extensions.
	Issuer string
	// Extensions are extra extensions, written as given.
	Extensions []pkix.Extension
	// NotBefore and NotAfter bound the validity; a zero NotBefore means a
	// minute ago, a zero NotAfter ten minutes from now.
	NotBefore, NotAfter time.Time
	// IsCA makes a CA certificate: basic constraints with CA set, and
	// KeyUsageCertSign added to KeyUsage.
	IsCA bool
	// KeyUsage and ExtKeyUsage are the key usages; zero means none.
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
	// Key is the subject's key; nil means a fresh P-256 key.
	Key *ecdsa.PrivateKey
	// PublicKey, when set, is certified in place of a key of the
	// package's making (as a CA certifies a requested key): Key must be
	// nil, Parent and ParentKey set, and no private key is returned.
	PublicKey crypto.PublicKey
	// Parent and ParentKey issue the certificate; nil for both means
	// self-signed with the subject's key.
	Parent    *x509.Certificate
	ParentKey *ecdsa.PrivateKey
	// Deterministic signs without randomness (RFC 6979), so that the same
	// options and Key give the same bytes; it needs Key and Serial.
	Deterministic bool
}

// New makes the certificate that o describes and returns it, parsed, with
// the subject's private key (nil when o.PublicKey is set). Any failure
// ends the test.
func New(tb testing.TB, o Options) (*x509.Certificate, *ecdsa.PrivateKey) {
	tb.Helper()
	cert, key, err := Make(o)
	if err != nil {
		tb.Fatal(err)
	}
	return cert, key
}

// Make is New for where a test cannot be ended, such as a fake server's
// handler: it returns the failure instead.
func Make(o Options) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if (o.Parent == nil) != (o.ParentKey == nil) {
		return nil, nil, errors.New("testcert: Parent and ParentKey go together")
	}
	if o.PublicKey != nil && (o.Key != nil || o.Parent == nil) {
		return nil, nil, errors.New("testcert: PublicKey needs a Parent and no Key")
	}
	if o.Deterministic && (o.Key == nil || o.Serial == 0) {
		return nil, nil, errors.New("testcert: Deterministic needs a Key and a Serial")
	}
	tmpl, err := template(o)
	if err != nil {
		return nil, nil, fmt.Errorf("testcert: %w", err)
	}
	key, pub := o.Key, o.PublicKey
	if pub == nil {
		if key == nil {
			if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
				return nil, nil, fmt.Errorf("testcert: %w", err)
			}
		}
		pub = key.Public()
	}
	parent, signer := o.Parent, o.ParentKey
	if parent == nil {
		parent, signer = tmpl, key
	}
	random := rand.Reader
	if o.Deterministic {
		random = nil // ECDSA signs per RFC 6979 without a reader
	}
	der, err := x509.CreateCertificate(random, tmpl, parent, pub, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("testcert: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("testcert: %w", err)
	}
	return cert, key, nil
}

// template is the certificate template for o.
func template(o Options) (*x509.Certificate, error) {
	serial := o.Serial
	if serial == 0 {
		serial = 1
	}
	notBefore, notAfter := o.NotBefore, o.NotAfter
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Minute)
	}
	if notAfter.IsZero() {
		notAfter = time.Now().Add(10 * time.Minute)
	}
	tmpl := &x509.Certificate{
		SerialNumber:    big.NewInt(serial),
		Subject:         pkix.Name{CommonName: o.CommonName},
		NotBefore:       notBefore,
		NotAfter:        notAfter,
		EmailAddresses:  o.Emails,
		KeyUsage:        o.KeyUsage,
		ExtKeyUsage:     o.ExtKeyUsage,
		ExtraExtensions: append([]pkix.Extension(nil), o.Extensions...),
	}
	if o.IsCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	for _, u := range o.URIs {
		pu, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("URI %q: %w", u, err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	if o.Issuer != "" {
		ext, err := utf8Extension(OIDIssuerV2, o.Issuer)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
	return tmpl, nil
}

// UTF8Extension is a non-critical extension id whose value is v as a DER
// UTF8String, the form of Fulcio's newer claim extensions. A value that
// is not valid UTF-8 ends the test.
func UTF8Extension(tb testing.TB, id asn1.ObjectIdentifier, v string) pkix.Extension {
	tb.Helper()
	ext, err := utf8Extension(id, v)
	if err != nil {
		tb.Fatalf("testcert: %v", err)
	}
	return ext
}

func utf8Extension(id asn1.ObjectIdentifier, v string) (pkix.Extension, error) {
	if !utf8.ValidString(v) { // encoding/asn1 would write it as it is
		return pkix.Extension{}, fmt.Errorf("extension %s: %q is not UTF-8", id, v)
	}
	b, err := asn1.MarshalWithParams(v, "utf8")
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("extension %s: %w", id, err)
	}
	return pkix.Extension{Id: id, Value: b}, nil
}
