package verify

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// benchVector is the offline-mode public-good commit hack/bench/run also
// checks through `git verify-commit`.
const benchVector = "fe1e62346d3c346a343d089e8b4c3fb57716bc94"

// BenchmarkVerifyOffline verifies one real-world offline-mode commit
// signature (CMS, content binding, chain, SCT, embedded log entry, policy)
// against the built-in public-good root, loaded once outside the loop,
// with one Verifier: as in a range signed with one login, the chain and
// SCT are checked once and remembered.
//
//	go test -run '^$' -bench . -benchmem ./verify/
func BenchmarkVerifyOffline(b *testing.B) {
	vec := load(b, filepath.Join(realworld, "commits", benchVector+".commit"), "commit", benchVector)
	v := builtinVerifier(b, billy)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, vec.payload, vec.sig, noID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyOfflineNewCertificate is BenchmarkVerifyOffline with
// nothing remembered: a new Verifier for each signature, as when every
// commit carries its own certificate. The P-384 chain and the SCT are
// checked every time.
func BenchmarkVerifyOfflineNewCertificate(b *testing.B) {
	vec := load(b, filepath.Join(realworld, "commits", benchVector+".commit"), "commit", benchVector)
	tm, _, err := LoadTrust(TrustOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := New(tm, Options{Policy: billy})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(ctx, vec.payload, vec.sig, noID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadTrust parses the built-in public-good trusted root: what
// LoadTrust costs each gitsign process the first time (later calls reuse
// the parse).
func BenchmarkLoadTrust(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseBuiltinRoot(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyOfflineTimestamped verifies one offline-mode signature
// that also carries an RFC 3161 timestamp token, made by the in-process
// fake stack (public good's shapes: P-384 Fulcio and timestamping CAs,
// P-256 logs and timestamping leaf), with one Verifier. tsa/op is how many times the timestamp
// authority is asked to verify the token per signature.
func BenchmarkVerifyOfflineTimestamped(b *testing.B) {
	f := newFakeStack(b, t0.AddDate(1, 0, 0))
	a := newFakeTSA(f)
	id := f.issue(t0)
	sig := a.stamp(b, f.sign(id, commit(1), t0.Add(time.Minute)), t0.Add(time.Minute))
	v, count := f.stampedVerifier(a)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, commit(1), sig, noID); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(count.n.Load())/float64(b.N), "tsa/op")
}
