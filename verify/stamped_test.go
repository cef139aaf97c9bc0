package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/github/smimesign/ietf-cms/protocol"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// fakeTSA is an RFC 3161 timestamp authority for the fake stack, shaped
// like the one the built-in trusted root lists: a P-384 root and
// intermediate, and a P-256 leaf that signs the tokens.
type fakeTSA struct {
	authority *root.SigstoreTimestampingAuthority
	leaf      identity
}

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

func newFakeTSA(f *fakeStack) *fakeTSA {
	f.t.Helper()
	rootKey, interKey, leafKey := f.key(elliptic.P384()), f.key(elliptic.P384()), f.key(elliptic.P256())
	ca := func(serial int64, name string) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name, Organization: []string{"fake"}},
			NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(10, 0, 0),
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
		}
	}
	rootTmpl := ca(1, "fake-tsa-root")
	rootCert := f.create(rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	interCert := f.create(ca(2, "fake-tsa-intermediate"), rootCert, &interKey.PublicKey, rootKey)
	// A timestamping leaf must mark its one extended key usage critical,
	// which crypto/x509 does not do by itself.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		f.t.Fatal(err)
	}
	leafCert := f.create(&x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "fake-tsa", Organization: []string{"fake"}},
		NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(10, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}},
	}, interCert, &leafKey.PublicKey, interKey)
	return &fakeTSA{
		authority: &root.SigstoreTimestampingAuthority{
			Root: rootCert, Intermediates: []*x509.Certificate{interCert}, Leaf: leafCert,
			URI: "https://tsa.example.test", ValidityPeriodStart: t0.AddDate(-1, 0, 0),
		},
		leaf: identity{cert: leafCert, key: leafKey},
	}
}

// stamp returns sig with a timestamp token from the authority, dated at,
// over its signature value, as gitsign adds one when signing.
func (a *fakeTSA) stamp(t testing.TB, sig []byte, at time.Time) []byte {
	t.Helper()
	p, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	imprint := sha256.Sum256(p.Signer.Signature)
	ts := timestamp.Timestamp{
		HashAlgorithm: crypto.SHA256, HashedMessage: imprint[:], Time: at, Nonce: big.NewInt(at.UnixNano()),
		Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}, AddTSACertificate: true,
	}
	resp, err := ts.CreateResponseWithOpts(a.leaf.cert, a.leaf.key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	granted, err := timestamp.ParseResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	attr, err := protocol.NewAttribute(tsa.OIDTimeStampToken, asn1.RawValue{FullBytes: granted.RawToken})
	if err != nil {
		t.Fatal(err)
	}
	si := &p.SignedData.SignerInfos[0]
	si.UnsignedAttrs = append(si.UnsignedAttrs, attr)
	// A SET OF is in DER order: by each attribute's encoding.
	slices.SortFunc(si.UnsignedAttrs, func(x, y protocol.Attribute) int {
		dx, err1 := asn1.Marshal(x)
		dy, err2 := asn1.Marshal(y)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		return bytes.Compare(dx, dy)
	})
	der, err := p.SignedData.ContentInfoDER()
	if err != nil {
		t.Fatal(err)
	}
	return cms.Armor(der)
}

// countingTSA is a timestamp authority that counts the tokens it is asked
// to verify.
type countingTSA struct {
	root.TimestampingAuthority
	n atomic.Int64
}

// Verify counts the question and passes it on.
func (c *countingTSA) Verify(token, sig []byte) (*root.Timestamp, error) {
	c.n.Add(1)
	return c.TimestampingAuthority.Verify(token, sig)
}

// withTSAs is trust material with the given timestamp authorities.
type withTSAs struct {
	root.TrustedMaterial
	tsas []root.TimestampingAuthority
}

// TimestampingAuthorities returns the authorities it was given.
func (w withTSAs) TimestampingAuthorities() []root.TimestampingAuthority { return w.tsas }

// stampedVerifier returns a Verifier for the stack that trusts a, and the
// counter of the token verifications a is asked for.
func (f *fakeStack) stampedVerifier(a *fakeTSA) (*Verifier, *countingTSA) {
	f.t.Helper()
	c := &countingTSA{TimestampingAuthority: a.authority}
	v, err := New(withTSAs{TrustedMaterial: f.trust(trustOpts{}), tsas: []root.TimestampingAuthority{c}}, Options{Policy: fakePolicy})
	if err != nil {
		f.t.Fatal(err)
	}
	return v, c
}

// TestStampedSignature verifies offline-mode signatures that carry a
// timestamp token: the authority is asked about each token once per
// verification (sigstore-go asks twice, once for the signed-timestamp
// threshold and once for the observer timestamps), never across
// signatures or verifications, and every check still refuses what it
// refused.
func TestStampedSignature(t *testing.T) {
	f := newFakeStack(t, t0.AddDate(1, 0, 0))
	a := newFakeTSA(f)
	id := f.issue(t0)
	v, count := f.stampedVerifier(a)

	first := a.stamp(t, f.sign(id, commit(1), t0.Add(time.Minute)), t0.Add(time.Minute))
	res := mustVerify(t, v, "stamped signature", commit(1), first)
	if !res.Timestamped {
		t.Errorf("timestamp not reported: %+v", res)
	}
	if n := count.n.Load(); n != 1 {
		t.Errorf("token verified %d times in one verification, want 1", n)
	}
	mustVerify(t, v, "stamped signature again", commit(1), first)
	second := a.stamp(t, f.sign(id, commit(2), t0.Add(2*time.Minute)), t0.Add(2*time.Minute))
	mustVerify(t, v, "another stamped signature", commit(2), second)
	if n := count.n.Load(); n != 3 {
		t.Errorf("token verified %d times in three verifications, want 3 (nothing reused across them)", n)
	}

	// A token over another signature, a token dated after the
	// certificate expired, a token from an authority nobody trusts.
	expectFail(t, v, "token from another signature", commit(1), swapToken(t, first, second), Bad, "timestamp")
	expectFail(t, v, "token after the certificate expired", commit(3),
		a.stamp(t, f.sign(id, commit(3), t0.Add(3*time.Minute)), t0.Add(20*time.Minute)), Bad, "leaf certificate verification failed")
	expectFail(t, v, "token from an untrusted authority", commit(4),
		newFakeTSA(f).stamp(t, f.sign(id, commit(4), t0.Add(4*time.Minute)), t0.Add(4*time.Minute)), Bad, "timestamp")
	mustVerify(t, v, "first stamped signature after the refusals", commit(1), first)
}

// TestStampedConcurrent shares one Verifier between goroutines verifying
// timestamped signatures; run with -race. Each verification asks the
// authority once: nothing one goroutine remembers reaches another.
func TestStampedConcurrent(t *testing.T) {
	f := newFakeStack(t, t0.AddDate(1, 0, 0))
	a := newFakeTSA(f)
	id := f.issue(t0)
	sigs := [][]byte{
		a.stamp(t, f.sign(id, commit(1), t0.Add(time.Minute)), t0.Add(time.Minute)),
		a.stamp(t, f.sign(id, commit(2), t0.Add(2*time.Minute)), t0.Add(2*time.Minute)),
	}
	v, count := f.stampedVerifier(a)
	const goroutines, rounds = 8, 3
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for r := range rounds {
				i := (g + r) % len(sigs)
				if _, err := v.Verify(context.Background(), commit(i+1), sigs[i], noID); err != nil {
					t.Errorf("signature %d: %v", i, err)
				}
				if _, err := v.Verify(context.Background(), commit(i+1), sigs[1-i], noID); err == nil {
					t.Errorf("signature %d verified over the other commit", 1-i)
				}
			}
		})
	}
	wg.Wait()
	if n := count.n.Load(); n != goroutines*rounds {
		t.Errorf("token verified %d times in %d good verifications, want %d", n, goroutines*rounds, goroutines*rounds)
	}
}
