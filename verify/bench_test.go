package verify

import (
	"context"
	"path/filepath"
	"testing"
)

// benchVector is the offline-mode public-good commit hack/bench/run also
// checks through `git verify-commit`.
const benchVector = "fe1e62346d3c346a343d089e8b4c3fb57716bc94"

// BenchmarkVerifyOffline verifies one real-world offline-mode commit
// signature (CMS, content binding, chain, SCT, embedded log entry, policy)
// against the built-in public-good root, loaded once outside the loop.
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

// BenchmarkLoadTrust loads the built-in public-good trusted root: the
// part of a verification that each gitsign process pays once before it
// verifies anything.
func BenchmarkLoadTrust(b *testing.B) {
	env := func(string) (string, bool) { return "", false }
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := LoadTrust(TrustOptions{LookupEnv: env}); err != nil {
			b.Fatal(err)
		}
	}
}
