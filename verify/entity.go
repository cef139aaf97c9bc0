package verify

// Asking sigstore-go's questions once per signature
//
// One call of sgverify.Verifier.Verify asks the same questions of the
// signed entity and of the trust material more than once (sigstore-go
// v1.3.0):
//
//   - VerificationContent: VerifyTlogEntry and Verify each ask for it, and
//     each time *bundle.Bundle parses the leaf certificate's DER anew.
//   - SignatureContent: asked by VerifyTlogEntry, Verify and, with a
//     timestamp, twice more; the bundle builds a new value each time.
//   - The timestamp token: a Verifier made with both WithSignedTimestamps
//     and WithObserverTimestamps (as the one for timestamped signatures
//     is) calls VerifySignedTimestamp twice, and each call has every
//     trusted timestamp authority verify the token again: the authority's
//     signature over it and its certificate chain (P-384 for the authority
//     the built-in trusted root lists).
//
// Each answer is a pure function of inputs that do not change during the
// call: the bundle (built by verifyBundle from one signature and never
// changed after bundle.NewBundle validated it) and the trust material
// (fixed for a Verifier). So each is computed once per signature, by
// sigstore-go's own code, and handed out again:
//
//   - entity wraps the validated *bundle.Bundle. Every method is the
//     bundle's; VerificationContent and SignatureContent remember the
//     bundle's first answer. sigstore-go edits the leaf certificate it is
//     given (it drops the Subject Alternative Name from the unhandled
//     critical extensions before path validation), so each call gets its
//     own copy of the parsed certificate, never the remembered one.
//   - onceTrust is the Verifier's trust material for one timestamped
//     signature: its timestamp authorities remember their answer (the
//     timestamp, or the error) for the exact token and signature bytes
//     they were asked about. An authority's Verify depends only on those
//     bytes and its own certificates: the chain is checked at the time in
//     the token, not the clock.
//
// Both live for one verifyBundle call and one goroutine: nothing is
// reused across signatures or verifications, or shared between
// goroutines. Every check sigstore-go makes still runs, once, on the same
// inputs.
//
// What is not remembered, and why: TlogEntries parses the log entry, and
// parsing a hashedrekord v0.0.1 body verifies its signature (rekor's
// type validation). sigstore-go parses it twice per signature, but Verify
// asks the entity only once; the other parse is inside bundle.NewBundle's
// validation, which keeps its result to itself. Remembering Verify's one
// answer would save nothing, and skipping either parse would skip a
// check. Likewise, inside one authority's Verify the token's signature is
// checked twice (when the response is parsed, and again with the chain);
// that happens below the TimestampingAuthority seam.

import (
	"bytes"
	"crypto/x509"
	"slices"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// entity is one signature's bundle as sigstore-go verifies it: the
// bundle's own answers, each computed once (see the comment at the top of
// this file). Not safe for concurrent use.
type entity struct {
	*bundle.Bundle

	// entries are the bundle's log entries, parsed once by newBundle.
	entries []*tlog.Entry

	sigDone bool
	sig     sgverify.SignatureContent
	sigErr  error

	vcDone bool
	vc     sgverify.VerificationContent
	vcErr  error
}

var _ sgverify.SignedEntity = (*entity)(nil)

// newEntity wraps b, which newBundle validated and nobody changes
// afterwards, and entries, its log entries as b.TlogEntries parsed them.
func newEntity(b *bundle.Bundle, entries []*tlog.Entry) *entity {
	return &entity{Bundle: b, entries: entries}
}

// TlogEntries are the bundle's log entries, as its own TlogEntries parsed
// them once in newBundle. Each caller gets its own slice; sigstore-go
// only reads the entries.
func (e *entity) TlogEntries() ([]*tlog.Entry, error) {
	return slices.Clone(e.entries), nil
}

// SignatureContent is the bundle's, built once. The value is immutable
// (a *bundle.MessageSignature or *bundle.Envelope read through getters),
// so every caller can share it.
func (e *entity) SignatureContent() (sgverify.SignatureContent, error) {
	if !e.sigDone {
		e.sig, e.sigErr = e.Bundle.SignatureContent()
		e.sigDone = true
	}
	return e.sig, e.sigErr
}

// VerificationContent is the bundle's, with the certificate parsed once;
// each call gets its own copy of it, as it would from the bundle.
func (e *entity) VerificationContent() (sgverify.VerificationContent, error) {
	if !e.vcDone {
		e.vc, e.vcErr = e.Bundle.VerificationContent()
		e.vcDone = true
	}
	if e.vcErr != nil {
		return nil, e.vcErr
	}
	c, ok := e.vc.(*bundle.Certificate)
	if !ok || c.Certificate() == nil || len(c.Intermediates()) > 0 {
		// Not the one-certificate content verifyBundle builds: no copy
		// to make, so ask the bundle again.
		return e.Bundle.VerificationContent()
	}
	return bundle.NewCertificate(copyCert(c.Certificate())), nil
}

// copyCert returns a copy of c that its holder may edit without changing
// c: crypto/x509 never edits a parsed certificate, and sigstore-go
// replaces the one field it edits, UnhandledCriticalExtensions, which is
// cloned here all the same.
func copyCert(c *x509.Certificate) *x509.Certificate {
	cp := *c
	cp.UnhandledCriticalExtensions = slices.Clone(c.UnhandledCriticalExtensions)
	return &cp
}

// onceTrust is trust material whose timestamp authorities each verify a
// token once (see the comment at the top of this file). Make one per
// signature; not safe for concurrent use.
type onceTrust struct {
	*memoTrust
	tsas []root.TimestampingAuthority
}

// forOneSignature returns mt with timestamp authorities that remember
// their answers for one signature.
func forOneSignature(mt *memoTrust) *onceTrust {
	ot := &onceTrust{memoTrust: mt}
	for _, a := range mt.TimestampingAuthorities() {
		ot.tsas = append(ot.tsas, &tsaOnce{tsa: a})
	}
	return ot
}

// TimestampingAuthorities returns the remembering authorities, in the
// trust material's order.
func (ot *onceTrust) TimestampingAuthorities() []root.TimestampingAuthority {
	return ot.tsas
}

// tsaOnce is a timestamp authority that remembers its last answer and the
// exact bytes it answered.
type tsaOnce struct {
	tsa        root.TimestampingAuthority
	done       bool
	token, sig []byte
	ts         *root.Timestamp
	err        error
}

// Verify is the authority's answer for signedTimestamp over
// signatureBytes, computed once for the same bytes.
func (a *tsaOnce) Verify(signedTimestamp, signatureBytes []byte) (*root.Timestamp, error) {
	if !a.done || !bytes.Equal(a.token, signedTimestamp) || !bytes.Equal(a.sig, signatureBytes) {
		a.ts, a.err = a.tsa.Verify(signedTimestamp, signatureBytes)
		a.token, a.sig, a.done = slices.Clone(signedTimestamp), slices.Clone(signatureBytes), true
	}
	if a.err != nil || a.ts == nil {
		return a.ts, a.err
	}
	ts := *a.ts
	return &ts, nil
}
