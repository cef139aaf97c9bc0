package gitsign_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/proto"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// commit is a payload as git hands it over.
var commit = []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <alice@example.test> 1 +0000\ncommitter A <alice@example.test> 1 +0000\n\nm\n")

// options are Options for the fake services: Rekor version v, the TSA
// when tsa is set, fast retries.
func (s *sigstore) options(v int, withTSA bool) gitsign.Options {
	o := gitsign.Options{Fulcio: s.URL(), Rekor: s.URL(), RekorVersion: v, Tokens: s.tokenFor("alice@example.test"), Timeout: 5 * time.Second}
	if withTSA {
		o.TimestampAuthority = s.URL() + pathTSA
	}
	return o
}

// signer returns a Signer for o and a credential from the fake Fulcio.
func signer(t *testing.T, o gitsign.Options) (*gitsign.Signer, *cache.Credential) {
	t.Helper()
	s, err := gitsign.New(o)
	if err != nil {
		t.Fatal(err)
	}
	cred, _, err := s.Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s, cred
}

// parse reads a signature back strictly, as a verifier does.
func parse(t *testing.T, sig *gitsign.Signature) (p *cms.Parsed, attrs []byte) {
	t.Helper()
	p, err := cms.Parse(sig.PEM)
	if err != nil {
		t.Fatal(err)
	}
	attrs, err = p.SignedAttributes()
	if err != nil {
		t.Fatal(err)
	}
	return p, attrs
}

// embeddedEntry decodes the log entry a signature carries.
func embeddedEntry(t *testing.T, p *cms.Parsed) *protorekor.TransparencyLogEntry {
	t.Helper()
	raw := p.UnsignedAttribute(rekor.OIDTransparencyLogEntry)
	if raw == nil {
		t.Fatal("no log entry embedded")
	}
	var octets []byte
	if _, err := asn1.Unmarshal(raw, &octets); err != nil {
		t.Fatal(err)
	}
	tle, err := rekor.DecodeEntry(octets)
	if err != nil {
		t.Fatal(err)
	}
	return tle
}

// checkTimestamp checks the embedded token is in the authority's form
// and over the signature value.
func checkTimestamp(t *testing.T, p *cms.Parsed) {
	t.Helper()
	tok := p.UnsignedAttribute(tsa.OIDTimeStampToken)
	if tok == nil {
		t.Fatal("no timestamp embedded")
	}
	if err := tsa.CheckTokenForm(tok); err != nil {
		t.Error(err)
	}
	ts, err := timestamp.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(p.Signer.Signature); !bytes.Equal(ts.HashedMessage, sum[:]) {
		t.Error("the timestamp is not over the signature value")
	}
}

// TestSignOfflineRekorV1: the timestamp is requested before the upload
// and over the signature that is uploaded; the log entry embedded is the
// one the log signed (its signed entry timestamp verifies over the body
// rebuilt from the signature); both are in the signature git stores.
func TestSignOfflineRekorV1(t *testing.T) {
	fake := newSigstore(t)
	s, cred := signer(t, fake.options(1, true))
	sig, err := s.Sign(context.Background(), cred, commit, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fake.Events(), []string{evFulcio, evTSA, evRekor}; !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	p, attrs := parse(t, sig)
	checkTimestamp(t, p)
	if len(fake.uploads) != 1 || len(fake.imprints) != 1 {
		t.Fatalf("%d uploads, %d timestamps; want one each", len(fake.uploads), len(fake.imprints))
	}
	up := fake.uploads[0]
	if sum := sha256.Sum256(up.sig); !bytes.Equal(fake.imprints[0], sum[:]) || !bytes.Equal(up.sig, p.Signer.Signature) {
		t.Error("the timestamp, the upload and the stored signature are not over the same signature value")
	}
	if sum := sha256.Sum256(attrs); !bytes.Equal(up.digest, sum[:]) {
		t.Error("the upload is not over SHA-256 of the signed attributes")
	}

	tle := embeddedEntry(t, p)
	body, err := rekor.HashedRekordV001(up.digest, p.Signer.Signature, p.Cert)
	if err != nil {
		t.Fatal(err)
	}
	tle.CanonicalizedBody = body
	entry, err := tlog.ParseTransparencyLogEntry(tle)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.VerifySET(entry, fake.Logs()); err != nil {
		t.Errorf("the embedded entry's signed entry timestamp: %v", err)
	}
	if sig.Entry == nil || sig.Entry.LogIndex != tle.LogIndex || !sig.Timestamp || !sig.Cert.Equal(cred.Leaf()) {
		t.Errorf("Signature = %+v", sig)
	}
	if !sig.Time.Equal(p.SigningTime) {
		t.Errorf("Signature.Time %s, signingTime %s", sig.Time, p.SigningTime)
	}
}

// TestSignOfflineRekorV2: with Rekor v2 the entry the log answers with is
// embedded unchanged, after the timestamp.
func TestSignOfflineRekorV2(t *testing.T) {
	fake := newSigstore(t)
	s, cred := signer(t, fake.options(2, true))
	sig, err := s.Sign(context.Background(), cred, commit, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fake.Events(), []string{evFulcio, evTSA, evRekor}; !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	p, attrs := parse(t, sig)
	checkTimestamp(t, p)
	tle := embeddedEntry(t, p)
	if !proto.Equal(tle, sig.Entry) || tle.KindVersion.GetVersion() != "0.0.2" {
		t.Errorf("embedded entry %v, want the log's %v", tle, sig.Entry)
	}
	if sum := sha256.Sum256(attrs); len(fake.uploads) != 1 || !bytes.Equal(fake.uploads[0].digest, sum[:]) {
		t.Error("the upload is not over SHA-256 of the signed attributes")
	}
}

// TestSignOnline: online mode embeds no entry and, once the signature is
// finished, logs SHA-256 of the id the signed commit will have, signed
// with the credential's key.
func TestSignOnline(t *testing.T) {
	fake := newSigstore(t)
	o := fake.options(1, false)
	o.Mode = gitsign.Online
	s, cred := signer(t, o)
	sig, err := s.Sign(context.Background(), cred, commit, true)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := parse(t, sig)
	if len(p.UnsignedAttributeTypes()) != 0 {
		t.Errorf("online mode embedded %v", p.UnsignedAttributeTypes())
	}
	obj, typ, err := gitobj.WithSignature(commit, sig.PEM)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(gitobj.ID(typ, obj)))
	if len(fake.uploads) != 1 || !bytes.Equal(fake.uploads[0].digest, want[:]) {
		t.Fatal("the upload is not over SHA-256 of the signed object's id")
	}
	if sig.Entry == nil || sig.Timestamp {
		t.Errorf("Signature = %+v", sig)
	}
}

// TestCheck: online mode signs only detached signatures of commits and
// tags, and says so before any request; offline mode signs anything.
func TestCheck(t *testing.T) {
	fake := newSigstore(t)
	o := fake.options(1, false)
	o.Mode = gitsign.Online
	s, err := gitsign.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(commit, false); !errors.Is(err, gitsign.ErrOnlineNotDetached) {
		t.Errorf("attached: %v", err)
	}
	if err := s.Check([]byte("hello"), true); !errors.Is(err, gitsign.ErrOnlineNotGitObject) || err.Error() != "online mode: payload is neither a commit nor a tag" {
		t.Errorf("not a git object: %v", err)
	}
	if sig, err := s.Sign(context.Background(), &cache.Credential{Key: newKey(t), Chain: []*x509.Certificate{fake.fulcioRoot}}, []byte("hello"), true); sig != nil || !errors.Is(err, gitsign.ErrOnlineNotGitObject) {
		t.Errorf("Sign = %v, %v", sig, err)
	}
	if len(fake.Events()) != 0 {
		t.Errorf("requests made: %q", fake.Events())
	}
	offline, err := gitsign.New(fake.options(1, false))
	if err != nil {
		t.Fatal(err)
	}
	if err := offline.Check([]byte("hello"), false); err != nil {
		t.Errorf("offline: %v", err)
	}
}

// TestSignRetries: a 503 or 429 is tried again and the signature made; a
// 400 is final. Retries < 0 turns retrying off.
func TestSignRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ev       string
		statuses []int
		retries  int
		ok       bool
		hits     int
	}{
		{"rekor 503 then success", evRekor, []int{503}, 0, true, 2},
		{"tsa 429 then success", evTSA, []int{429}, 0, true, 2},
		{"rekor 400", evRekor, []int{400}, 0, false, 1},
		{"rekor 503 three times", evRekor, []int{503, 503, 503}, 0, false, 3},
		{"rekor 503, no retries", evRekor, []int{503}, -1, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newSigstore(t)
			o := fake.options(1, true)
			o.Retries = tc.retries
			s, cred := signer(t, o)
			fake.failNext(tc.ev, tc.statuses...)
			sig, err := s.Sign(context.Background(), cred, commit, true)
			if (err == nil) != tc.ok || (sig != nil) != tc.ok {
				t.Fatalf("Sign = %v, %v", sig, err)
			}
			if n := fake.count(tc.ev); n != tc.hits {
				t.Errorf("%d requests to %s, want %d", n, tc.ev, tc.hits)
			}
			if !tc.ok && !strings.Contains(err.Error(), fmt.Sprint(tc.statuses[0])) {
				t.Errorf("error %q does not give the status", err)
			}
		})
	}
}

// TestSignFailures: each failing service stops signing at its stage: no
// signature, a *StageError naming the stage, and no request to a later
// service. A certificate that does not name the committer stops it before
// any request.
func TestSignFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ev     string
		stage  gitsign.Stage
		events []string
	}{
		{"timestamp authority", evTSA, gitsign.StageTimestamp, []string{evTSA}},
		{"transparency log", evRekor, gitsign.StageLog, []string{evTSA, evRekor}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newSigstore(t)
			s, cred := signer(t, fake.options(1, true))
			fake.failNext(tc.ev, http.StatusBadRequest)
			sig, err := s.Sign(context.Background(), cred, commit, true)
			var se *gitsign.StageError
			if sig != nil || !errors.As(err, &se) || se.Stage != tc.stage {
				t.Fatalf("Sign = %v, %v; want no signature and a %v StageError", sig, err, tc.stage)
			}
			if got := fake.Events()[1:]; !slices.Equal(got, tc.events) {
				t.Errorf("requests after the login %q, want %q", got, tc.events)
			}
		})
	}
	t.Run("committer", func(t *testing.T) {
		fake := newSigstore(t)
		o := fake.options(1, true)
		o.Committer = &gitsign.Committer{Name: "Bob", Email: "bob@example.test"}
		s, cred := signer(t, o)
		sig, err := s.Sign(context.Background(), cred, commit, true)
		var cm *gitsign.CommitterMismatchError
		if sig != nil || !errors.As(err, &cm) || cm.Email != "bob@example.test" || !slices.Equal(cm.Emails, []string{"alice@example.test"}) {
			t.Fatalf("Sign = %v, %v", sig, err)
		}
		if got := fake.Events(); !slices.Equal(got, []string{evFulcio}) {
			t.Errorf("requests %q, want the login's only", got)
		}
		o.Committer.Email = "alice@example.test"
		if s, err = gitsign.New(o); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(context.Background(), cred, commit, true); err != nil {
			t.Errorf("the committer's own certificate: %v", err)
		}
	})
	t.Run("no credential", func(t *testing.T) {
		fake := newSigstore(t)
		s, err := gitsign.New(fake.options(1, false))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*cache.Credential{nil, {Key: newKey(t)}} {
			if sig, err := s.Sign(context.Background(), c, commit, true); sig != nil || !errors.Is(err, gitsign.ErrNoCredential) {
				t.Errorf("Sign(%v) = %v, %v", c, sig, err)
			}
		}
	})
}

// TestSignProgress: each request is announced in order, and its end
// reported with its outcome.
func TestSignProgress(t *testing.T) {
	fake := newSigstore(t)
	var mu sync.Mutex
	var steps []string
	o := fake.options(1, true)
	o.Progress = func(step string) func(error) {
		mu.Lock()
		steps = append(steps, "start "+step)
		mu.Unlock()
		return func(err error) {
			mu.Lock()
			steps = append(steps, fmt.Sprintf("end %s: failed=%v", step, err != nil))
			mu.Unlock()
		}
	}
	s, cred := signer(t, o)
	fake.failNext(evRekor, http.StatusBadRequest)
	if _, err := s.Sign(context.Background(), cred, commit, true); err == nil {
		t.Fatal("signing against a log that refuses succeeded")
	}
	want := []string{
		"start getting a certificate from Fulcio", "end getting a certificate from Fulcio: failed=false",
		"start getting a timestamp from the timestamp authority", "end getting a timestamp from the timestamp authority: failed=false",
		"start recording the signature in the transparency log", "end recording the signature in the transparency log: failed=true",
	}
	if !slices.Equal(steps, want) {
		t.Errorf("progress\n%q\nwant\n%q", steps, want)
	}
}

// TestSignConcurrent: one Signer signs from many goroutines (as the
// range benchmark does), each signature with its own log entry.
func TestSignConcurrent(t *testing.T) {
	fake := newSigstore(t)
	s, cred := signer(t, fake.options(1, false))
	var wg sync.WaitGroup
	sigs := make([]*gitsign.Signature, 8)
	errs := make([]error, len(sigs))
	for i := range sigs {
		wg.Go(func() {
			sigs[i], errs[i] = s.Sign(context.Background(), cred, append(bytes.Clone(commit), fmt.Sprint(i)...), true)
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i, sig := range sigs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		seen[sig.Entry.LogIndex] = true
	}
	if len(seen) != len(sigs) {
		t.Errorf("%d distinct log entries for %d signatures", len(seen), len(sigs))
	}
}
