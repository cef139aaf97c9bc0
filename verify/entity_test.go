package verify

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"slices"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// stampedBundle returns the entity verifyBundle builds for a timestamped
// offline-mode signature from the fake stack, the same bundle as
// bundle.NewBundle makes it, and the signer's certificate.
func stampedBundle(t *testing.T) (*entity, *bundle.Bundle, identity) {
	t.Helper()
	f := newFakeStack(t, t0.AddDate(1, 0, 0))
	id := f.issue(t0)
	sig := newFakeTSA(f).stamp(t, f.sign(id, commit(1), t0.Add(time.Minute)), t0.Add(time.Minute))
	p, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := p.SignedAttributes()
	if err != nil {
		t.Fatal(err)
	}
	tle, err := embeddedEntry(p.UnsignedAttribute(rekor.OIDTransparencyLogEntry), attrs, p)
	if err != nil {
		t.Fatal(err)
	}
	content, stamps := messageSignature(attrs, p.Signer.Signature), [][]byte{timeStampResp(p.UnsignedAttribute(tsa.OIDTimeStampToken))}
	e, err := newBundle(p.Cert, content, tle, stamps)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.NewBundle(protoBundle(p.Cert, content, tle, stamps))
	if err != nil {
		t.Fatal(err)
	}
	return e, b, id
}

// TestEntityAnswersAsBundle: every answer the entity gives is the
// bundle's, and a caller that edits the certificate it was given (as
// sigstore-go does) changes no other caller's.
func TestEntityAnswersAsBundle(t *testing.T) {
	e, b, id := stampedBundle(t)

	want, err := b.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	var seen []any
	for i := range 3 {
		vc, err := e.VerificationContent()
		if err != nil {
			t.Fatal(err)
		}
		c := vc.Certificate()
		if c == nil || !c.Equal(id.cert) || len(vc.Intermediates()) != 0 || vc.PublicKey() != nil {
			t.Fatalf("call %d: certificate %v, intermediates %v", i, c, vc.Intermediates())
		}
		if !slices.EqualFunc(c.UnhandledCriticalExtensions, want.Certificate().UnhandledCriticalExtensions, asn1.ObjectIdentifier.Equal) {
			t.Fatalf("call %d: unhandled critical extensions %v, the bundle's %v (an earlier caller's edit leaked)", i, c.UnhandledCriticalExtensions, want.Certificate().UnhandledCriticalExtensions)
		}
		for _, at := range []time.Time{t0.Add(-time.Second), t0, t0.Add(5 * time.Minute), t0.Add(11 * time.Minute)} {
			if vc.ValidAtTime(at, nil) != want.ValidAtTime(at, nil) {
				t.Errorf("call %d: ValidAtTime(%s) differs from the bundle's", i, at)
			}
		}
		if !vc.CompareKey(id.cert, nil) || vc.CompareKey(&x509.Certificate{Raw: []byte("another")}, nil) {
			t.Errorf("call %d: CompareKey differs from the bundle's", i)
		}
		if slices.Contains(seen, any(c)) {
			t.Fatalf("call %d: handed out a certificate another caller holds", i)
		}
		seen = append(seen, c)
		// What sigstore-go does to the leaf before path validation, and worse.
		c.UnhandledCriticalExtensions = append(c.UnhandledCriticalExtensions, asn1.ObjectIdentifier{1, 2, 3})
		c.NotAfter = time.Time{}
	}

	wantSig, err := b.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		sc, err := e.SignatureContent()
		if err != nil || !bytes.Equal(sc.Signature(), wantSig.Signature()) ||
			!bytes.Equal(sc.MessageSignatureContent().Digest(), wantSig.MessageSignatureContent().Digest()) ||
			sc.MessageSignatureContent().DigestAlgorithm() != wantSig.MessageSignatureContent().DigestAlgorithm() {
			t.Fatalf("call %d: signature content differs from the bundle's (%v)", i, err)
		}
	}

	entries, err := e.TlogEntries()
	wantEntries, wantErr := b.TlogEntries()
	if err != nil || wantErr != nil || len(entries) != 1 || len(wantEntries) != 1 ||
		entries[0].LogIndex() != wantEntries[0].LogIndex() || !bytes.Equal(entries[0].Signature(), wantEntries[0].Signature()) {
		t.Errorf("log entries differ from the bundle's: %v %v", err, wantErr)
	}
	ts, err := e.Timestamps()
	wantTS, wantErr := b.Timestamps()
	if err != nil || wantErr != nil || len(ts) != 1 || !slices.EqualFunc(ts, wantTS, bytes.Equal) {
		t.Errorf("timestamps differ from the bundle's: %v %v", err, wantErr)
	}
	if v, _ := e.Version(); v != "v0.3" || e.HasInclusionPromise() != b.HasInclusionPromise() || e.HasInclusionProof() != b.HasInclusionProof() || !e.HasInclusionProof() {
		t.Errorf("version %q, inclusion promise %v proof %v", v, e.HasInclusionPromise(), e.HasInclusionProof())
	}
}

// TestEntityPassesErrors: a bundle that cannot answer makes the entity
// give the same error, every time.
func TestEntityPassesErrors(t *testing.T) {
	e := newEntity(&bundle.Bundle{Bundle: &protobundle.Bundle{}}, nil)
	for range 2 {
		if _, err := e.VerificationContent(); !errors.Is(err, bundle.ErrMissingVerificationMaterial) {
			t.Errorf("verification content: %v", err)
		}
		if _, err := e.SignatureContent(); !errors.Is(err, bundle.ErrMissingVerificationMaterial) {
			t.Errorf("signature content: %v", err)
		}
	}
}

// scriptedTSA answers with the next of its answers and counts questions.
type scriptedTSA struct {
	answers []error
	asked   int
}

func (s *scriptedTSA) Verify(token, sig []byte) (*root.Timestamp, error) {
	err := s.answers[s.asked%len(s.answers)]
	s.asked++
	if err != nil {
		return nil, err
	}
	return &root.Timestamp{Time: t0, URI: "https://tsa.example.test"}, nil
}

// TestTSAOnce: an authority is asked once about the same bytes, again
// about other bytes, and its error is passed on; nobody can change the
// answer another caller gets.
func TestTSAOnce(t *testing.T) {
	refused := errors.New("refused")
	real := &scriptedTSA{answers: []error{nil, refused}}
	a := &tsaOnce{tsa: real}
	token, sig := []byte("token"), []byte("sig")

	first, err := a.Verify(token, sig)
	if err != nil || !first.Time.Equal(t0) {
		t.Fatalf("first: %v %v", first, err)
	}
	first.Time = time.Time{}
	token[0] = 'T' // the caller's buffer changes after the question
	again, err := a.Verify([]byte("token"), []byte("sig"))
	if err != nil || !again.Time.Equal(t0) || real.asked != 1 {
		t.Fatalf("same bytes: %v %v, authority asked %d times, want 1", again, err, real.asked)
	}
	if _, err := a.Verify([]byte("token"), []byte("other signature")); !errors.Is(err, refused) || real.asked != 2 {
		t.Fatalf("other signature: %v, authority asked %d times, want 2", err, real.asked)
	}
	if _, err := a.Verify([]byte("token"), []byte("other signature")); !errors.Is(err, refused) || real.asked != 2 {
		t.Fatalf("other signature again: %v, authority asked %d times, want 2", err, real.asked)
	}
	if _, err := a.Verify([]byte("token"), []byte("sig")); err != nil || real.asked != 3 {
		t.Fatalf("back to the first bytes: %v, authority asked %d times, want 3", err, real.asked)
	}
}

// TestOnceTrustPerSignature: the authorities of one signature's trust
// material are new for each signature, and everything else is the
// Verifier's.
func TestOnceTrustPerSignature(t *testing.T) {
	f := newFakeStack(t, t0.AddDate(1, 0, 0))
	v, _ := f.stampedVerifier(newFakeTSA(f))
	one, two := forOneSignature(v.trust), forOneSignature(v.trust)
	if len(one.TimestampingAuthorities()) != 1 || one.TimestampingAuthorities()[0] == two.TimestampingAuthorities()[0] {
		t.Fatalf("authorities %v and %v", one.TimestampingAuthorities(), two.TimestampingAuthorities())
	}
	if len(one.FulcioCertificateAuthorities()) != 1 || one.FulcioCertificateAuthorities()[0] != v.trust.cas[0] {
		t.Error("the chain memo is not the Verifier's")
	}
	if len(one.RekorLogs()) != 1 || len(one.CTLogs()) != 1 {
		t.Error("logs are not the Verifier's")
	}
}
