package certinfo

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/url"
	"testing"
	"time"
)

// issuerV2 is Fulcio's OIDC issuer extension (a DER UTF8String).
var issuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}

func newCert(t *testing.T, emails []string, uris []string, issuer string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(1),
		NotBefore:      time.Now(),
		NotAfter:       time.Now().Add(10 * time.Minute),
		EmailAddresses: emails,
	}
	for _, u := range uris {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	if issuer != "" {
		v, err := asn1.MarshalWithParams(issuer, "utf8")
		if err != nil {
			t.Fatal(err)
		}
		tmpl.ExtraExtensions = []pkix.Extension{{Id: issuerV2, Value: v}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		emails, uris         []string
		issuer               string
		wantID, wantIssuer   string
		wantDescribeContains string
	}{
		{"email", []string{"a@example.com"}, nil, "https://issuer.example", "a@example.com", "https://issuer.example", "a@example.com (issuer https://issuer.example)"},
		{"URI first", []string{"a@example.com"}, []string{"https://ci.example/wf@refs/heads/main"}, "https://ci.example", "https://ci.example/wf@refs/heads/main", "https://ci.example", ""},
		{"no issuer", []string{"b@example.com"}, nil, "", "b@example.com", Unknown, "b@example.com (issuer (unknown))"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert := newCert(t, tc.emails, tc.uris, tc.issuer)
			id, iss := Names(cert)
			if id != tc.wantID || iss != tc.wantIssuer {
				t.Errorf("Names = %q, %q; want %q, %q", id, iss, tc.wantID, tc.wantIssuer)
			}
			if tc.wantDescribeContains != "" && Describe(cert) != tc.wantDescribeContains {
				t.Errorf("Describe = %q; want %q", Describe(cert), tc.wantDescribeContains)
			}
		})
	}
	if id, iss := Names(nil); id != Unknown || iss != Unknown {
		t.Errorf("Names(nil) = %q, %q", id, iss)
	}
	if Describe(nil) != "an unknown signer" {
		t.Errorf("Describe(nil) = %q", Describe(nil))
	}
}
