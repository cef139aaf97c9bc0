package verify

import (
	"context"
	"strings"
	"testing"
	"time"
)

// issueWithoutSCT is issue without the embedded SCT: what a private
// Fulcio that logs to no CT log issues.
func (f *fakeStack) issueWithoutSCT(notBefore time.Time) identity {
	f.t.Helper()
	tmpl, key := f.leafTemplate(notBefore)
	return identity{cert: f.create(tmpl, f.interCert, &key.PublicKey, f.interKey), key: key}
}

// TestInsecureIgnoreSCT: a certificate without an SCT, or a trusted root
// without a CT log, fails verification unless InsecureIgnoreSCT, which
// accepts it and says why in Result.SCTIgnored; a good SCT is never
// reported as ignored.
func TestInsecureIgnoreSCT(t *testing.T) {
	f := newFakeStack(t, t0.AddDate(1, 0, 0))
	lenient := func(o trustOpts) *Verifier {
		v, err := New(f.trust(o), Options{Policy: fakePolicy, InsecureIgnoreSCT: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	verifyIgnoring := func(name string, v *Verifier, sig []byte, want string) {
		t.Helper()
		res, err := v.Verify(context.Background(), commit(1), sig, noID)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if (want == "") != (res.SCTIgnored == "") || !strings.Contains(res.SCTIgnored, want) {
			t.Errorf("%s: SCTIgnored %q, want %q", name, res.SCTIgnored, want)
		}
	}

	noSCT := f.sign(f.issueWithoutSCT(t0), commit(1), t0.Add(time.Minute))
	expectFail(t, f.verifier(trustOpts{}), "certificate without an SCT", commit(1), noSCT, Bad, "signed certificate timestamp")
	verifyIgnoring("certificate without an SCT, ignored", lenient(trustOpts{}), noSCT, "certificate")

	withSCT := f.sign(f.issue(t0), commit(1), t0.Add(time.Minute))
	verifyIgnoring("a good SCT with the flag", lenient(trustOpts{}), withSCT, "")

	expectFail(t, f.verifier(trustOpts{noCTLog: true}), "no CT log, certificate without SCT", commit(1), noSCT, Unverifiable, "lists no certificate transparency log")
	verifyIgnoring("no CT log, ignored", lenient(trustOpts{noCTLog: true}), noSCT, "lists no certificate transparency log")
	verifyIgnoring("no CT log, SCT present, ignored", lenient(trustOpts{noCTLog: true}), withSCT, "lists no certificate transparency log")
}
