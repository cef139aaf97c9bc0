package verify

import (
	"bytes"
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// chainMemos returns v's chain memos.
func chainMemos(v *Verifier) []*chainMemo {
	var out []*chainMemo
	for _, ca := range v.trust.cas {
		if m, ok := ca.(*chainMemo); ok {
			out = append(out, m)
		}
	}
	return out
}

// remembered counts the certificates whose chains v remembers.
func remembered(v *Verifier) int {
	n := 0
	for _, m := range chainMemos(v) {
		n += m.memo.len()
	}
	return n
}

func mustVerify(t *testing.T, v *Verifier, name string, payload, sig []byte) *Result {
	t.Helper()
	res, err := v.Verify(context.Background(), payload, sig, noID)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.Identity != fakeIdentity || res.Issuer != fakeIssuer || !res.PolicyChecked {
		t.Fatalf("%s: %+v", name, res)
	}
	return res
}

// TestMemoSameCertificate signs several commits with one certificate, as
// a login with the credential cache does: the chain and SCT are checked
// once, yet every signature is still judged at its own time and on its
// own bytes.
func TestMemoSameCertificate(t *testing.T) {
	f := newFakeStack(t, t0.Add(5*time.Minute)) // the intermediate expires mid-certificate
	id := f.issue(t0)
	v := f.verifier(trustOpts{})
	first := f.sign(id, commit(1), t0.Add(time.Minute))
	second := f.sign(id, commit(2), t0.Add(2*time.Minute))

	mustVerify(t, v, "first signature", commit(1), first)
	if remembered(v) != 1 || v.scts.len() != 1 {
		t.Fatalf("after one signature: %d chains, %d SCTs remembered, want 1 and 1", remembered(v), v.scts.len())
	}
	res := mustVerify(t, v, "second signature, same certificate", commit(2), second)
	if !res.Time.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("second signature's time %s, want its own log time", res.Time)
	}
	if remembered(v) != 1 || v.scts.len() != 1 {
		t.Errorf("same certificate remembered twice: %d chains, %d SCTs", remembered(v), v.scts.len())
	}

	// Outside the validity windows: the intermediate's (the leaf is still
	// valid) and the leaf's.
	expectFail(t, v, "intermediate expired at the signature's time", commit(3), f.sign(id, commit(3), t0.Add(7*time.Minute)), Bad, "leaf certificate verification failed")
	expectFail(t, v, "certificate expired at the signature's time", commit(4), f.sign(id, commit(4), t0.Add(20*time.Minute)), Bad, "")
	// Tampered bodies under the remembered certificate.
	expectFail(t, v, "second signature over another body", commit(1), second, Bad, "not over this object")
	expectFail(t, v, "second signature with the first one's log entry", commit(2), graftEntry(t, second, first), Bad, "no valid transparency log entry")
	mustVerify(t, v, "first signature again", commit(1), first)
}

// TestMemoCAValidityPeriod: a remembered chain does not outlive the
// certificate authority's validity period in the trusted root.
func TestMemoCAValidityPeriod(t *testing.T) {
	f := newFakeStack(t, t0.AddDate(1, 0, 0))
	id := f.issue(t0)
	v := f.verifier(trustOpts{caEnd: t0.Add(4 * time.Minute)})
	mustVerify(t, v, "inside the CA's period", commit(1), f.sign(id, commit(1), t0.Add(time.Minute)))
	expectFail(t, v, "after the CA's period", commit(2), f.sign(id, commit(2), t0.Add(5*time.Minute)), Bad, "leaf certificate verification failed")
}

// TestMemoPerTrustRoot: results are not shared with a verifier that has
// other trust material, even in the same process and for the same bytes.
func TestMemoPerTrustRoot(t *testing.T) {
	f := newFakeStack(t, t0.AddDate(1, 0, 0))
	id := f.issue(t0)
	sig := f.sign(id, commit(1), t0.Add(time.Minute))
	full := f.verifier(trustOpts{})
	mustVerify(t, full, "full trust root", commit(1), sig)

	expectFail(t, f.verifier(trustOpts{noIntermediate: true}), "trust root without the intermediate", commit(1), sig, Bad, "leaf certificate verification failed")
	expectFail(t, f.verifier(trustOpts{noIntermediate: true}), "trust root without the intermediate", commit(1), sig, Bad, "no certificate authority in the trusted root holds the key that issued the signing certificate")
	expectFail(t, f.verifier(trustOpts{noCTLog: true}), "trust root without the CT log", commit(1), sig, Unverifiable, "lists no certificate transparency log")
	other := newFakeStack(t, t0.AddDate(1, 0, 0))
	expectFail(t, other.verifier(trustOpts{}), "another stack's trust root", commit(1), sig, Bad, "")
	mustVerify(t, full, "full trust root again", commit(1), sig)

	// The same with a real public-good signature: verified under the full
	// root, then refused by a root that lacks the intermediate.
	vec := vectors(t, "commits")[0]
	if _, err := builtinVerifier(t, billy).Verify(context.Background(), vec.payload, vec.sig, noID); err != nil {
		t.Fatal(err)
	}
	expectFail(t, verifierWithEditedRoot(t, dropIntermediates), "public good without the intermediate", vec.payload, vec.sig, Bad, "leaf certificate verification failed")
	expectFail(t, verifierWithEditedRoot(t, dropIntermediates), "public good without the intermediate", vec.payload, vec.sig, Bad, `(issuer "CN=sigstore-intermediate,O=sigstore.dev"`)
}

// TestChainMemoAnswers checks the chain memo on its own: a remembered
// chain answers later times inside every window without asking again, and
// a time outside any window gets the certificate authority's own answer.
func TestChainMemoAnswers(t *testing.T) {
	f := newFakeStack(t, t0.Add(5*time.Minute))
	id := f.issue(t0)
	ca := f.trust(trustOpts{}).FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	m := &chainMemo{ca: ca}
	chains, err := m.Verify(id.cert, t0.Add(time.Minute))
	if err != nil || len(chains) != 1 || len(chains[0]) != 3 {
		t.Fatalf("first: %v %v", chains, err)
	}

	// Answered from the memo: with the authority's root swapped for
	// another, only a remembered chain can still verify.
	real := *ca
	m.ca = &root.FulcioCertificateAuthority{Root: newFakeStack(t, t0.AddDate(1, 0, 0)).rootCert, ValidityPeriodStart: ca.ValidityPeriodStart}
	if _, err := m.Verify(id.cert, t0.Add(2*time.Minute)); err != nil {
		t.Errorf("inside every window, not answered from the memo: %v", err)
	}
	m.ca = &real

	for name, at := range map[string]time.Time{
		"intermediate expired": t0.Add(6 * time.Minute),
		"leaf expired":         t0.Add(11 * time.Minute),
		"leaf not yet valid":   t0.Add(-time.Second),
		"zero time":            {},
	} {
		_, got := m.Verify(id.cert, at)
		_, want := ca.Verify(id.cert, at)
		if got == nil || want == nil || got.Error() != want.Error() {
			t.Errorf("%s: memo says %v, the authority %v", name, got, want)
		}
	}
	// A leaf whose unhandled critical extensions differ from the ones
	// remembered is not answered from the memo.
	odd := *id.cert
	odd.UnhandledCriticalExtensions = []asn1.ObjectIdentifier{{1, 2, 3}}
	if _, err := m.Verify(&odd, t0.Add(time.Minute)); err == nil {
		t.Error("a leaf with an unhandled critical extension verified")
	}
}

// TestMemoBounded: a memo never holds more than memoLimit entries and
// forgets the oldest first.
func TestMemoBounded(t *testing.T) {
	var m memo[int]
	for i := range 3 * memoLimit {
		m.put(fmt.Appendf(nil, "k%d", i), i)
	}
	if m.len() != memoLimit {
		t.Fatalf("%d entries, want %d", m.len(), memoLimit)
	}
	if _, ok := m.get([]byte("k0")); ok {
		t.Error("oldest entry kept")
	}
	if v, ok := m.get(fmt.Appendf(nil, "k%d", 3*memoLimit-1)); !ok || v != 3*memoLimit-1 {
		t.Error("newest entry lost")
	}
}

// TestVerifyConcurrent shares one Verifier between goroutines verifying
// the same and different signatures, good and bad; run with -race. Every
// verdict must be the one a fresh Verifier gives.
func TestVerifyConcurrent(t *testing.T) {
	f := newFakeStack(t, t0.Add(5*time.Minute))
	id, other := f.issue(t0), f.issue(t0.Add(time.Minute))
	type job struct {
		name         string
		payload, sig []byte
	}
	var jobs []job
	for i := range 6 {
		jobs = append(jobs, job{fmt.Sprintf("same certificate %d", i), commit(i), f.sign(id, commit(i), t0.Add(time.Duration(i)*time.Minute/2))})
	}
	jobs = append(jobs,
		job{"other certificate", commit(10), f.sign(other, commit(10), t0.Add(2*time.Minute))},
		job{"intermediate expired", commit(11), f.sign(id, commit(11), t0.Add(7*time.Minute))},
		job{"wrong body", commit(12), jobs[0].sig},
	)
	verdict := func(v *Verifier, j job) error {
		_, err := v.Verify(context.Background(), j.payload, j.sig, noID)
		return err
	}
	want := make([]error, len(jobs))
	for i, j := range jobs {
		want[i] = verdict(f.verifier(trustOpts{}), j)
	}
	if want[0] != nil || want[len(jobs)-2] == nil || want[len(jobs)-1] == nil {
		t.Fatalf("sequential verdicts: %v", want)
	}
	vecs := vectors(t, "commits")
	real := builtinVerifier(t, billy)
	v := f.verifier(trustOpts{})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for round := range 4 {
				i := (g + round) % len(jobs)
				got := verdict(v, jobs[i])
				if (got == nil) != (want[i] == nil) {
					t.Errorf("%s: concurrently %v, sequentially %v", jobs[i].name, got, want[i])
				}
				vec := vecs[(g+round)%len(vecs)]
				if _, err := real.Verify(context.Background(), vec.payload, vec.sig, noID); err != nil {
					t.Errorf("%s: %v", vec.name, err)
				}
				bad := bytes.Clone(vec.payload)
				bad[len(bad)-2] ^= 1
				var ve *Error
				if _, err := real.Verify(context.Background(), bad, vec.sig, noID); !errors.As(err, &ve) || ve.Kind != Bad {
					t.Errorf("%s changed: %v", vec.name, err)
				}
			}
		})
	}
	wg.Wait()
	if remembered(v) != 2 {
		t.Errorf("%d chains remembered, want 2 (two certificates)", remembered(v))
	}
}

var _ root.CertificateAuthority = (*chainMemo)(nil)
