package cache

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/testcert"
)

// t0 is the fake clock's start in tests.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var testKey = Key{Fulcio: "https://fulcio.example", Issuer: "https://issuer.example", ClientID: "sigstore"}

// newCredential returns a credential whose leaf is valid from t0-1m to
// notAfter, issued by a throwaway CA, like a Fulcio chain.
func newCredential(t testing.TB, notAfter time.Time) *Credential {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := testcert.New(t, testcert.Options{
		CommonName: "test fulcio", Key: caKey, IsCA: true,
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour),
	})
	leaf, key := testcert.New(t, testcert.Options{
		Serial:      1 + mrand.Int64N(1<<62), // distinct credentials have distinct serials
		NotBefore:   t0.Add(-time.Minute),
		NotAfter:    notAfter,
		Emails:      []string{"alice@example.test"},
		URIs:        []string{"https://issuer.example"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		Parent:      ca, ParentKey: caKey,
	})
	return &Credential{Key: key, Chain: []*x509.Certificate{leaf, ca}}
}

// clock is a settable fake time source, safe to read from a server
// goroutine while the test sets it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) advance(d time.Duration) { c.set(c.now().Add(d)) }

// sameCredential reports whether two credentials hold the same key and chain.
func sameCredential(a, b *Credential) bool {
	ka, ok1 := a.Key.(*ecdsa.PrivateKey)
	kb, ok2 := b.Key.(*ecdsa.PrivateKey)
	if !ok1 || !ok2 || !ka.Equal(kb) || len(a.Chain) != len(b.Chain) {
		return false
	}
	for i := range a.Chain {
		if !a.Chain[i].Equal(b.Chain[i]) {
			return false
		}
	}
	return true
}
