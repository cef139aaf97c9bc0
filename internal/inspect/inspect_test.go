package inspect

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/gpg"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/testcert"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// realSigs returns the signatures of the real-world vectors in glob
// (under testdata/realworld), of object type typ.
func realSigs(tb testing.TB, glob, typ string) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "realworld", glob))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no vectors for %s: %v", glob, err)
	}
	var out [][]byte
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		_, sig, err := gitobj.Split(typ, raw)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		out = append(out, sig)
	}
	return out
}

// TestRealWorld: every real signature is described, as the public
// instance made it: an email identity, Rekor v1 embedded (offline mode)
// or nothing embedded (online mode), and no timestamp.
func TestRealWorld(t *testing.T) {
	for _, set := range []struct {
		glob, typ, mode string
	}{
		{"commits/*.commit", "commit", Offline},
		{"tags/*.tag", "tag", Offline},
		{"online/*.commit", "commit", Online},
	} {
		for i, sig := range realSigs(t, set.glob, set.typ) {
			d, err := Signature(sig)
			if err != nil {
				t.Fatalf("%s #%d: %v", set.glob, i, err)
			}
			if d.IdentityType != Email || !strings.Contains(d.Identity, "@") || !strings.HasPrefix(d.Issuer, "https://") {
				t.Errorf("%s #%d: identity %q (%s) from %q", set.glob, i, d.Identity, d.IdentityType, d.Issuer)
			}
			if d.Mode != set.mode || (d.Log != nil) != (set.mode == Offline) || d.Timestamp != nil {
				t.Errorf("%s #%d: mode %s, log %+v, timestamp %+v", set.glob, i, d.Mode, d.Log, d.Timestamp)
			}
			p, _ := cms.Parse(sig)
			if d.Certificate.Fingerprint != gpg.Fingerprint(p.Cert) || d.Certificate.Serial != fmt.Sprintf("%x", p.Cert.SerialNumber.Bytes()) {
				t.Errorf("%s #%d: certificate %+v", set.glob, i, d.Certificate)
			}
			if got := d.Certificate.NotAfter.Sub(d.Certificate.NotBefore); got != 10*time.Minute {
				t.Errorf("%s #%d: certificate valid for %s, want Fulcio's 10 minutes", set.glob, i, got)
			}
			if d.SigningTime.Before(d.Certificate.NotBefore) || d.SigningTime.After(d.Certificate.NotAfter) {
				t.Errorf("%s #%d: signing time %s outside the certificate", set.glob, i, d.SigningTime)
			}
			// The OIDC token's subject (1.24): no option checks it, so it
			// is named by its OID.
			if tok, ok := d.Claims.Get("1.3.6.1.4.1.57264.1.24"); !ok || tok == "" {
				t.Errorf("%s #%d: no token subject claim: %+v", set.glob, i, d.Claims)
			}
			if l := d.Log; l != nil {
				if l.Rekor != "v1" || l.Kind != "hashedrekord" || l.KindVersion != "0.0.1" || l.Index <= 0 ||
					l.LogID != "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d" ||
					!strings.HasPrefix(l.CheckpointOrigin, "rekor.sigstore.dev - ") ||
					l.IntegratedTime.Sub(d.SigningTime).Abs() > time.Minute {
					t.Errorf("%s #%d: log %+v", set.glob, i, l)
				}
			}
		}
	}
}

// testCert is a self-signed P-256 certificate, serial 0abc and valid for
// ten minutes from 2026-01-02T03:04:05Z, with the names and extensions in
// o, and its key.
func testCert(t *testing.T, o testcert.Options) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	o.Serial = 0x0abc
	o.NotBefore = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o.NotAfter = time.Date(2026, 1, 2, 3, 14, 5, 0, time.UTC)
	return testcert.New(t, o)
}

// sign makes an armored signature by cert with the given unsigned
// attributes.
func sign(t *testing.T, cert *x509.Certificate, key *ecdsa.PrivateKey, unsigned map[string]any) []byte {
	t.Helper()
	s, err := cms.Sign([]byte("payload"), cert, key, time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC), true, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for oid, v := range unsigned {
		var typ asn1.ObjectIdentifier
		for _, arc := range strings.Split(oid, ".") {
			n, _ := new(big.Int).SetString(arc, 10)
			typ = append(typ, int(n.Int64()))
		}
		if err := s.AddUnsignedAttribute(typ, v); err != nil {
			t.Fatal(err)
		}
	}
	der, err := s.DER()
	if err != nil {
		t.Fatal(err)
	}
	return cms.Armor(der)
}

// TestEveryClaim: each Fulcio extension an allowed-signers option checks
// is named as that option, in OID order, with its value; any other
// extension of Fulcio's arc (the deployment environment and token subject,
// 1.23 and 1.24, which no option checks, or one nobody knows yet) is
// shown by OID; the issuer is not a claim.
func TestEveryClaim(t *testing.T) {
	exts := []pkix.Extension{
		testcert.UTF8Extension(t, asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 24}, "repo:acme/app:ref:refs/heads/main"),
		testcert.UTF8Extension(t, asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 23}, "production"),
		testcert.UTF8Extension(t, asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 99}, "future"),
		{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 98}, Value: []byte{0xff, 0x00}},
		{Id: oidIssuerV1, Value: []byte("https://token.actions.example.test")},
		testcert.UTF8Extension(t, certificate.OIDIssuerV2, "https://token.actions.example.test"),
	}
	var want []string
	for i, c := range claimNames {
		v := "value-" + c.name
		if i < 5 { // github-workflow-*: raw bytes, not DER
			exts = append(exts, pkix.Extension{Id: c.oid, Value: []byte(v)})
		} else {
			exts = append(exts, testcert.UTF8Extension(t, c.oid, v))
		}
		want = append(want, c.name+"="+v)
	}
	want = append(want, "1.3.6.1.4.1.57264.1.24=repo:acme/app:ref:refs/heads/main", "1.3.6.1.4.1.57264.1.23=production",
		"1.3.6.1.4.1.57264.1.99=future", "1.3.6.1.4.1.57264.1.98=hex:ff00")
	uri, _ := url.Parse("https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main")
	cert, key := testCert(t, testcert.Options{URIs: []string{uri.String()}, Extensions: exts})
	d, err := Signature(sign(t, cert, key, nil))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range d.Claims {
		got = append(got, c.Name+"="+c.Value)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("claims:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, name := range []string{
		"github-workflow-trigger", "github-workflow-sha", "github-workflow-name", "github-workflow-repository",
		"github-workflow-ref", "build-signer-uri", "build-signer-digest", "runner-environment",
		"source-repository-uri", "source-repository-digest", "source-repository-ref",
		"source-repository-identifier", "source-repository-owner-uri", "source-repository-owner-identifier",
		"build-config-uri", "build-config-digest", "build-trigger", "run-invocation-uri",
		"source-repository-visibility-at-signing",
	} {
		if v, ok := d.Claims.Get(name); !ok || v != "value-"+name {
			t.Errorf("claim %s: %q, %v", name, v, ok)
		}
	}
	if d.Identity != uri.String() || d.IdentityType != URI || d.Issuer != "https://token.actions.example.test" {
		t.Errorf("identity %q (%s) from %q", d.Identity, d.IdentityType, d.Issuer)
	}
	if d.Certificate.Serial != "0abc" || !d.Certificate.NotBefore.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("certificate %+v", d.Certificate)
	}
	if d.Mode != Online || d.Log != nil || d.SigningTime != time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC) {
		t.Errorf("mode %s, log %+v, signing time %s", d.Mode, d.Log, d.SigningTime)
	}
	if _, ok := d.Claims.Get("issuer"); ok {
		t.Error("the issuer is listed as a claim")
	}
}

// TestIdentityTypes: the identity is the SAN sigstore-go picks, and its
// type says which kind it is.
func TestIdentityTypes(t *testing.T) {
	uri, _ := url.Parse("https://example.test/ci")
	// An otherName SAN (Fulcio's username identities): the SAN extension
	// written by hand, as Go cannot write one.
	other, err := asn1.Marshal([]asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: mustMarshal(t, struct {
		ID    asn1.ObjectIdentifier
		Value string `asn1:"explicit,tag:0,utf8"`
	}{certificate.OIDOtherName, "alice!example.test"})[2:]}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		emails, uris []string
		exts         []pkix.Extension
		identity, as string
	}{
		{[]string{"alice@example.test"}, nil, nil, "alice@example.test", Email},
		{nil, []string{uri.String()}, nil, uri.String(), URI},
		{[]string{"alice@example.test"}, []string{uri.String()}, nil, uri.String(), URI},
		{nil, nil, []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Critical: true, Value: other}}, "alice!example.test", Other},
	} {
		cert, key := testCert(t, testcert.Options{Emails: c.emails, URIs: c.uris, Extensions: c.exts,
			Issuer: "https://issuer.example.test"})
		d, err := Signature(sign(t, cert, key, nil))
		if err != nil {
			t.Errorf("%s: %v", c.identity, err)
			continue
		}
		if d.Identity != c.identity || d.IdentityType != c.as || d.Issuer != "https://issuer.example.test" {
			t.Errorf("got %q (%s) from %q, want %q (%s)", d.Identity, d.IdentityType, d.Issuer, c.identity, c.as)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// v2Entry is a Rekor v2 entry in the canonical embedded form.
func v2Entry(t *testing.T) []byte {
	t.Helper()
	origin := "log2026-1.rekor.example.test"
	sig := base64.StdEncoding.EncodeToString([]byte("keyhint-and-signature"))
	tle := &protorekor.TransparencyLogEntry{
		LogIndex:    42,
		LogId:       &protocommon.LogId{KeyId: []byte{0xde, 0xad, 0xbe, 0xef}},
		KindVersion: &protorekor.KindVersion{Kind: "hashedrekord", Version: "0.0.2"},
		InclusionProof: &protorekor.InclusionProof{
			LogIndex: 42, TreeSize: 43, RootHash: make([]byte, 32),
			Checkpoint: &protorekor.Checkpoint{Envelope: origin + "\n43\nAAAA\n\n\u2014 " + origin + " " + sig + "\n"},
		},
		CanonicalizedBody: []byte(`{"apiVersion":"0.0.2"}`),
	}
	b, err := rekor.EncodeEntry(tle)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRekorV2AndTimestamp: a Rekor v2 entry (no integrated time) and an
// RFC 3161 token (the local stack's, internal/tsa/testdata) are described.
func TestRekorV2AndTimestamp(t *testing.T) {
	token, err := os.ReadFile(filepath.Join("..", "tsa", "testdata", "token.der"))
	if err != nil {
		t.Fatal(err)
	}
	cert, key := testCert(t, testcert.Options{Emails: []string{"alice@example.test"}})
	sig := sign(t, cert, key, map[string]any{
		rekor.OIDTransparencyLogEntry.String(): v2Entry(t),
		tsa.OIDTimeStampToken.String():         asn1.RawValue{FullBytes: token},
	})
	d, err := Signature(sig)
	if err != nil {
		t.Fatal(err)
	}
	want := LogEntry{Rekor: "v2", Kind: "hashedrekord", KindVersion: "0.0.2", Index: 42, LogID: "deadbeef", CheckpointOrigin: "log2026-1.rekor.example.test"}
	if d.Mode != Offline || d.Log == nil || *d.Log != want {
		t.Errorf("mode %s, log %+v, want %+v", d.Mode, d.Log, want)
	}
	if d.Issuer != "" {
		t.Errorf("issuer %q from a certificate without one", d.Issuer)
	}
	ts := d.Timestamp
	if ts == nil || ts.Time.IsZero() || ts.Time.Location() != time.UTC || ts.Serial == "" || !strings.Contains(ts.Authority, "CN=") {
		t.Errorf("timestamp %+v", ts)
	}
}

// TestRefused: what gitsign could never verify is refused, each with its
// reason on one line.
func TestRefused(t *testing.T) {
	cert, key := testCert(t, testcert.Options{Emails: []string{"alice@example.test"}})
	noSAN, noSANKey := testCert(t, testcert.Options{})
	for _, c := range []struct {
		name, want string
		sig        []byte
	}{
		{"empty", "signature: does not start with", nil},
		{"openpgp", "signature: an OpenPGP signature, not a gitsign signature", []byte("-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n")},
		{"unknown attribute", "signature: unsigned attribute 1.2.3.4 is not one gitsign signatures carry",
			sign(t, cert, key, map[string]any{"1.2.3.4": []byte("x")})},
		{"entry not octets", "signature: embedded log entry is not an OCTET STRING",
			sign(t, cert, key, map[string]any{rekor.OIDTransparencyLogEntry.String(): 7})},
		{"entry not protobuf", "signature: rekor: malformed embedded entry",
			sign(t, cert, key, map[string]any{rekor.OIDTransparencyLogEntry.String(): []byte{0xff, 0xff}})},
		{"token not CMS", "signature: timestamp token: not CMS",
			sign(t, cert, key, map[string]any{tsa.OIDTimeStampToken.String(): asn1.RawValue{FullBytes: []byte{0x30, 0x00}}})},
		{"no SAN", "signature: certificate: no Subject Alternative Name found", sign(t, noSAN, noSANKey, nil)},
	} {
		d, err := Signature(c.sig)
		if err == nil {
			t.Errorf("%s: described: %+v", c.name, d)
			continue
		}
		var ie *Error
		if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %T %q, want one line starting %q", c.name, err, err, c.want)
		}
	}
}

// TestClaimsJSON: claims are one JSON object in OID order.
func TestClaimsJSON(t *testing.T) {
	b, err := Claims{{Name: "b", Value: "1"}, {Name: "a", Value: "a\"\n"}}.MarshalJSON()
	if err != nil || string(b) != `{"b":"1","a":"a\"\n"}` {
		t.Errorf("%s, %v", b, err)
	}
	if b, _ := (Claims{}).MarshalJSON(); string(b) != "{}" {
		t.Errorf("no claims: %s", b)
	}
	var back Claims
	err = back.UnmarshalJSON([]byte(`{"source-repository-uri":"u","1.3.6.1.4.1.57264.1.99":"x","a":"b"}`))
	want := Claims{{"source-repository-uri", "1.3.6.1.4.1.57264.1.12", "u"}, {"1.3.6.1.4.1.57264.1.99", "1.3.6.1.4.1.57264.1.99", "x"}, {"a", "a", "b"}}
	if err != nil || fmt.Sprint(back) != fmt.Sprint(want) {
		t.Errorf("read back: %v, %v", back, err)
	}
	if err := back.UnmarshalJSON([]byte(`[]`)); err == nil {
		t.Error("an array read as claims")
	}
}
