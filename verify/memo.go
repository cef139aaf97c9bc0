package verify

// Checking each thing once per run
//
// A run (git's helper, `gitsign verify` over a range) builds one Verifier
// and verifies every object with it. Most of what makes a signature good
// is particular to that signature: the CMS signature, the log entry, its
// SET and checkpoint, the timestamps. Two checks are not: a certificate's
// chain to the trusted Fulcio and its SCT depend only on the certificate's
// exact bytes and the trust material, and every commit made with one login
// carries the same certificate. Those two are answered once per Verifier
// and the answer reused:
//
//   - The chain. sigstore-go asks each of the trust material's certificate
//     authorities to Verify the leaf at each time it verified for the
//     signature. New wraps each *root.FulcioCertificateAuthority in a
//     chainMemo that remembers the chains the real Verify built for a
//     certificate, keyed by its exact DER (and the critical extensions
//     left unhandled, which sigstore-go edits before asking). A later
//     question about the same certificate at another time is answered from
//     the memo only if that time lies in the authority's validity period
//     and within NotBefore..NotAfter of every certificate of a remembered
//     chain: those are the only parts of x509 path validation that depend
//     on the time. Otherwise the real Verify runs, and its answer (and its
//     error, sigstore-go's own) is what sigstore-go gets. Failures are
//     never remembered. (sigstore-go extends a *root.FulcioCertificateAuthority
//     with intermediates a bundle carries; the bundles Verify builds carry
//     none, so nothing is lost by the wrapper not being one.)
//   - The SCT. The sigstore-go verifiers are built without
//     WithSignedCertificateTimestamps; instead Verify checks the SCT itself,
//     with sigstore-go's exported VerifySignedCertificateTimestamp, after
//     sigstore-go accepted everything else, and remembers success per exact
//     certificate. The SCT is embedded in the certificate and signed over
//     it and its issuer's key, and whether a trusted CT log signed it does
//     not depend on when the certificate was used, so the answer holds for
//     every signature under that certificate. No signature is accepted
//     without its SCT having been checked, by that call or an earlier one
//     for the same bytes under the same trust material.
//
// Memos belong to one Verifier, and so to one trust material: a Verifier
// with other trust material (another root, one without the intermediate)
// starts empty. They are bounded (memoLimit entries each, the oldest
// dropped first), safe for concurrent use, and live only as long as the
// process: nothing is written anywhere. Two goroutines that miss at the
// same time both ask sigstore-go; that costs time, never correctness.
// The built-in trusted root is likewise parsed once per process
// (builtinRoot); files named in TrustOptions are read on every LoadTrust,
// as they may change.
//
// What is not memoized, and why: the checkpoint of an embedded Rekor v1
// entry is verified inside sigstore-go with a verifier it builds from the
// log's public key, which offers no seam to remember a note's signature,
// and consecutive entries rarely share a checkpoint anyway; the SET, the
// CMS signature and the timestamps are different for every signature.

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// memoLimit bounds each memo. A range signed with one login has one
// certificate; git lists commits roughly in time order, so certificates
// recur close together and a small window catches them.
const memoLimit = 256

// memo is a bounded map from exact bytes to a remembered answer, safe for
// concurrent use. When full, it forgets the oldest entry.
type memo[V any] struct {
	mu    sync.RWMutex
	m     map[string]V
	order []string // keys in insertion order, a ring once full
	next  int      // the oldest key in order, once full
}

func (m *memo[V]) get(key []byte) (V, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.m[string(key)]
	return v, ok
}

func (m *memo[V]) put(key []byte, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := string(key)
	if m.m == nil {
		m.m = make(map[string]V)
	}
	if _, ok := m.m[k]; ok {
		m.m[k] = v
		return
	}
	if len(m.order) < memoLimit {
		m.order = append(m.order, k)
	} else {
		delete(m.m, m.order[m.next])
		m.order[m.next] = k
		m.next = (m.next + 1) % memoLimit
	}
	m.m[k] = v
}

func (m *memo[V]) len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.m)
}

// memoTrust is trust material whose Fulcio certificate authorities
// remember the chains they verified. Everything else is the material's own.
type memoTrust struct {
	root.TrustedMaterial
	cas []root.CertificateAuthority
}

// withMemo wraps tm's Fulcio certificate authorities in chain memos.
// Authorities of other types are used as they are: the memo knows what
// only a *root.FulcioCertificateAuthority checks.
func withMemo(tm root.TrustedMaterial) *memoTrust {
	mt := &memoTrust{TrustedMaterial: tm}
	for _, ca := range tm.FulcioCertificateAuthorities() {
		if fca, ok := ca.(*root.FulcioCertificateAuthority); ok {
			ca = &chainMemo{ca: fca}
		}
		mt.cas = append(mt.cas, ca)
	}
	return mt
}

// FulcioCertificateAuthorities returns the memoizing authorities.
func (mt *memoTrust) FulcioCertificateAuthorities() []root.CertificateAuthority {
	return mt.cas
}

// chainMemo is a Fulcio certificate authority that remembers the chains it
// built for each certificate (see the comment at the top of this file).
type chainMemo struct {
	ca   *root.FulcioCertificateAuthority
	memo memo[verifiedChains]
}

// verifiedChains is what a successful Verify of one certificate returned.
type verifiedChains struct {
	unhandled []asn1.ObjectIdentifier // the leaf's unhandled critical extensions then
	chains    [][]*x509.Certificate
}

// Verify returns the chains of cert to the authority's root, valid at t.
func (c *chainMemo) Verify(cert *x509.Certificate, t time.Time) ([][]*x509.Certificate, error) {
	if r, ok := c.memo.get(cert.Raw); ok && slices.EqualFunc(r.unhandled, cert.UnhandledCriticalExtensions, asn1.ObjectIdentifier.Equal) && c.inPeriod(t) {
		if chains := validAt(r.chains, t); len(chains) > 0 {
			return chains, nil
		}
	}
	chains, err := c.ca.Verify(cert, t)
	if err == nil {
		c.memo.put(cert.Raw, verifiedChains{unhandled: slices.Clone(cert.UnhandledCriticalExtensions), chains: chains})
	}
	return chains, err
}

// inPeriod reports whether the authority's validity period admits t, as
// root.FulcioCertificateAuthority.Verify judges it. A zero t (which
// crypto/x509 would read as "now") is never answered from the memo.
func (c *chainMemo) inPeriod(t time.Time) bool {
	if t.IsZero() {
		return false
	}
	if !c.ca.ValidityPeriodStart.IsZero() && t.Before(c.ca.ValidityPeriodStart) {
		return false
	}
	return c.ca.ValidityPeriodEnd.IsZero() || !t.After(c.ca.ValidityPeriodEnd)
}

// validAt returns the chains every certificate of which is valid at t, as
// crypto/x509 judges validity (NotBefore <= t <= NotAfter).
func validAt(chains [][]*x509.Certificate, t time.Time) [][]*x509.Certificate {
	var out [][]*x509.Certificate
	for _, chain := range chains {
		ok := len(chain) > 0
		for _, c := range chain {
			if t.Before(c.NotBefore) || t.After(c.NotAfter) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, chain)
		}
	}
	return out
}

// ErrNoCTLog: the trusted root lists no certificate transparency log, so
// no certificate's SCT can be checked.
var ErrNoCTLog = errors.New("the trusted root lists no certificate transparency log, so the signing certificate's SCT cannot be checked (a private Sigstore whose Fulcio does not log to CT?)")

// ErrNoSCT: the signing certificate carries no SCT at all.
var ErrNoSCT = errors.New("the signing certificate carries no SCT: its Fulcio did not log it to a certificate transparency log")

// oidSCTList is the X.509 extension of embedded SCTs (RFC 6962 3.3).
var oidSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}

// checkSCT checks cert's embedded SCT against the trust material's CT logs
// with sigstore-go, once per exact certificate; t is a time at which
// sigstore-go verified cert's chain, to build the chain the check needs
// (from the chain memo).
func (v *Verifier) checkSCT(cert *x509.Certificate, t time.Time) error {
	if _, ok := v.scts.get(cert.Raw); ok {
		return nil
	}
	if len(v.trust.CTLogs()) == 0 {
		return ErrNoCTLog
	}
	if !slices.ContainsFunc(cert.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oidSCTList) }) {
		return ErrNoSCT
	}
	chains, err := sgverify.VerifyLeafCertificate(t, leafForChain(cert), v.trust)
	if err != nil {
		return err
	}
	if err := sgverify.VerifySignedCertificateTimestamp(chains, 1, v.trust); err != nil {
		return err
	}
	v.scts.put(cert.Raw, struct{}{})
	return nil
}

// leafForChain returns cert as sigstore-go hands a leaf to path
// validation: without the Subject Alternative Name among its unhandled
// critical extensions (Fulcio may issue an OtherName SAN, which
// crypto/x509 does not handle). cert itself is not changed.
func leafForChain(cert *x509.Certificate) *x509.Certificate {
	if !slices.ContainsFunc(cert.UnhandledCriticalExtensions, cryptoutils.SANOID.Equal) {
		return cert
	}
	c := *cert
	c.UnhandledCriticalExtensions = slices.DeleteFunc(slices.Clone(cert.UnhandledCriticalExtensions), cryptoutils.SANOID.Equal)
	return &c
}
