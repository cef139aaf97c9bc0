package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/rekor"
)

// fakeRekor answers every search with one entry and serves that entry,
// recording the search queries it gets.
type fakeRekor struct {
	*httptest.Server
	mu      sync.Mutex
	queries [][]byte
}

func newFakeRekor(t *testing.T, body []byte) *fakeRekor {
	t.Helper()
	const uuid = "5d1bd1e77834186f0000000000000000000000000000000000000000000000000000000000000001"
	entry := map[string]any{uuid: map[string]any{
		"body": base64.StdEncoding.EncodeToString(body), "integratedTime": 1785272080, "logID": "00", "logIndex": 7,
		"verification": map[string]any{"signedEntryTimestamp": "AA==", "inclusionProof": map[string]any{
			"logIndex": 7, "treeSize": 8, "rootHash": "00", "hashes": []string{}, "checkpoint": "c"}},
	}}
	f := &fakeRekor{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/index/retrieve":
			b, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.queries = append(f.queries, b)
			f.mu.Unlock()
			json.NewEncoder(w).Encode([]string{uuid})
		case r.URL.Path == "/api/v1/log/entries/"+uuid:
			json.NewEncoder(w).Encode(entry)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// searches returns the search queries received so far.
func (f *fakeRekor) searches() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte{}, f.queries...)
}

// TestOnlineLookupMatchesArtifactAndKey: a Rekor entry is only this
// signature's when it is over this object id AND made by this
// certificate (GHSA-8pmp-678w-c8xx). Entries for another commit by the
// same certificate, or for this commit by another certificate, are
// refused before anything else is checked; the search itself asks Rekor
// for the object AND the certificate.
func TestOnlineLookupMatchesArtifactAndKey(t *testing.T) {
	vecs := vectors(t, "commits")
	this, err := cms.Parse(vecs[0].sig)
	if err != nil {
		t.Fatal(err)
	}
	other, err := cms.Parse(vecs[len(vecs)-1].sig)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(this.Cert.Raw, other.Cert.Raw) {
		t.Fatal("the two vectors share a certificate")
	}
	const id = "0123456789012345678901234567890123456789"
	digest := sha256.Sum256([]byte(id))
	otherDigest := sha256.Sum256([]byte("9876543210987654321098765432109876543210"))
	for name, body := range map[string]func() ([]byte, error){
		"same certificate, another object": func() ([]byte, error) {
			return rekor.HashedRekordV001(otherDigest[:], []byte("sig"), this.Cert)
		},
		"this object, another certificate": func() ([]byte, error) {
			return rekor.HashedRekordV001(digest[:], []byte("sig"), other.Cert)
		},
	} {
		b, err := body()
		if err != nil {
			t.Fatal(err)
		}
		srv := newFakeRekor(t, b)
		v := builtinVerifierWith(t, Options{Policy: billy, Log: &rekor.Client{URL: srv.URL, Version: 1, HTTP: httpx.New(time.Second)}})
		_, _, err = v.lookupOnline(context.Background(), id, this.Cert)
		var ve *Error
		if !errors.As(err, &ve) || ve.Kind != Bad || !strings.Contains(err.Error(), "no Rekor entry matches") {
			t.Errorf("%s: %v", name, err)
		}
		queries := srv.searches()
		if len(queries) != 1 {
			t.Fatalf("%s: %d searches, want 1", name, len(queries))
		}
		var q struct {
			Hash, Operator string
			PublicKey      struct {
				Format  string
				Content []byte
			}
		}
		if err := json.Unmarshal(queries[0], &q); err != nil {
			t.Fatal(err)
		}
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: this.Cert.Raw})
		if q.Operator != "and" || q.PublicKey.Format != "x509" || !bytes.Equal(q.PublicKey.Content, certPEM) || !strings.HasSuffix(q.Hash, hex.EncodeToString(digest[:])) {
			t.Errorf("%s: the search is not for this object AND this certificate: %s", name, queries[0])
		}
	}
}

// TestOnlineLookupAmongDecoys: however many entries the log answers with,
// the one over this object by this certificate is found.
func TestOnlineLookupAmongDecoys(t *testing.T) {
	vecs := vectors(t, "commits")
	this, err := cms.Parse(vecs[0].sig)
	if err != nil {
		t.Fatal(err)
	}
	other, err := cms.Parse(vecs[len(vecs)-1].sig)
	if err != nil {
		t.Fatal(err)
	}
	const id = "0123456789012345678901234567890123456789"
	digest := sha256.Sum256([]byte(id))
	log := &countingLog{}
	for i := 0; i < 40; i++ {
		log.add(t, digest[:], []byte{byte(i)}, other.Cert)
	}
	log.add(t, digest[:], []byte("the real one"), this.Cert)
	log.add(t, digest[:], []byte("decoy after"), other.Cert)
	v := builtinVerifierWith(t, Options{Policy: billy, Log: log})
	tle, sig, err := v.lookupOnline(context.Background(), id, this.Cert)
	if err != nil || string(sig) != "the real one" || tle != log.entries[40] {
		t.Errorf("lookup among decoys: sig %q, %v", sig, err)
	}
}

// countingLog is a Log that counts its calls and answers with entries
// (or err).
type countingLog struct {
	calls   int
	digests [][]byte
	certs   []*x509.Certificate
	entries []*protorekor.TransparencyLogEntry
	err     error
}

func (l *countingLog) Entries(_ context.Context, digest []byte, cert *x509.Certificate) ([]*protorekor.TransparencyLogEntry, error) {
	l.calls++
	l.digests = append(l.digests, digest)
	l.certs = append(l.certs, cert)
	return l.entries, l.err
}

func (l *countingLog) Where() string { return "https://rekor.fake.test" }

// add appends a hashedrekord v0.0.1 entry over digest with sig and cert.
func (l *countingLog) add(t *testing.T, digest, sig []byte, cert *x509.Certificate) {
	t.Helper()
	body, err := rekor.HashedRekordV001(digest, sig, cert)
	if err != nil {
		t.Fatal(err)
	}
	l.entries = append(l.entries, &protorekor.TransparencyLogEntry{
		LogIndex: int64(len(l.entries)), CanonicalizedBody: body,
		KindVersion: &protorekor.KindVersion{Kind: "hashedrekord", Version: "0.0.1"},
	})
}

// TestOnlineNoLogBeforeChain: an online-mode signature is checked as far
// as it can be without the log (its CMS signature, its certificate's
// chain at the signing time, its SCT) before the log is asked anything;
// one that fails never causes a lookup.
func TestOnlineNoLogBeforeChain(t *testing.T) {
	noCT := func(m map[string]any) { m["ctlogs"] = []any{} }
	for _, vec := range vectors(t, "online") {
		id := func() (string, error) { return vec.id, nil }
		for _, c := range []struct {
			name string
			edit func(map[string]any)
			sig  []byte
			want string
		}{
			{"Fulcio CA without its intermediate", dropIntermediates, vec.sig, "does not chain to a trusted Fulcio"},
			{"no CT log trusted", noCT, vec.sig, "SCT does not verify"},
			{"signature value changed", func(map[string]any) {}, flipSignature(t, vec.sig), "signature does not verify over its signed attributes"},
		} {
			log := &countingLog{}
			v := verifierWithEditedRootOpts(t, c.edit, Options{Policy: billy, Log: log})
			_, err := v.Verify(context.Background(), vec.payload, c.sig, id)
			var ve *Error
			if !errors.As(err, &ve) || ve.Kind != Bad || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, %s: %v, want Bad saying %q", vec.name, c.name, err, c.want)
			}
			if log.calls != 0 {
				t.Errorf("%s, %s: the log was asked %d times before the signature failed", vec.name, c.name, log.calls)
			}
		}

		// With the real root the log is asked, for sha256 of the object
		// id and this certificate; no entry there is a bad signature.
		log := &countingLog{}
		v := builtinVerifierWith(t, Options{Policy: billy, Log: log})
		_, err := v.Verify(context.Background(), vec.payload, vec.sig, id)
		var ve *Error
		if !errors.As(err, &ve) || ve.Kind != Bad || !strings.Contains(err.Error(), "has no entry") {
			t.Errorf("%s, built-in root, empty log: %v", vec.name, err)
		}
		p, _ := cms.Parse(vec.sig)
		digest := sha256.Sum256([]byte(vec.id))
		if log.calls != 1 || !bytes.Equal(log.digests[0], digest[:]) || !log.certs[0].Equal(p.Cert) {
			t.Errorf("%s, built-in root: %d lookups, want 1 for sha256(%s) and the signing certificate", vec.name, log.calls, vec.id)
		}

		// A log that cannot be searched leaves the signature unverifiable.
		log = &countingLog{err: errors.New("connection refused")}
		v = builtinVerifierWith(t, Options{Policy: billy, Log: log})
		_, err = v.Verify(context.Background(), vec.payload, vec.sig, id)
		if !errors.As(err, &ve) || ve.Kind != Unverifiable || !strings.Contains(err.Error(), "needs Rekor at") || log.calls != 1 {
			t.Errorf("%s, log down: %v (%d lookups)", vec.name, err, log.calls)
		}
	}
}

// flipSignature returns sig with the last byte of its signature value
// changed.
func flipSignature(t *testing.T, sig []byte) []byte {
	t.Helper()
	p, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	si := &p.SignedData.SignerInfos[0]
	si.Signature = append([]byte{}, si.Signature...)
	si.Signature[len(si.Signature)-1] ^= 1
	der, err := p.SignedData.ContentInfoDER()
	if err != nil {
		t.Fatal(err)
	}
	return cms.Armor(der)
}

// TestOnlineTooManyEntries: a log that answers with more entries for the
// object and key than gitsign examines leaves the signature unverifiable,
// rather than judged on a subset.
func TestOnlineTooManyEntries(t *testing.T) {
	var uuids []string
	for i := 0; i < 65; i++ {
		sum := sha256.Sum256([]byte{byte(i)})
		uuids = append(uuids, hex.EncodeToString(sum[:]))
	}
	var fetched atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/index/retrieve" {
			json.NewEncoder(w).Encode(uuids)
			return
		}
		fetched.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	vec := vectors(t, "online")[0]
	v := builtinVerifierWith(t, Options{Policy: billy, Log: &rekor.Client{URL: srv.URL, Version: 1, HTTP: httpx.New(time.Second)}})
	_, err := v.Verify(context.Background(), vec.payload, vec.sig, func() (string, error) { return vec.id, nil })
	var ve *Error
	if !errors.As(err, &ve) || ve.Kind != Unverifiable || !strings.Contains(err.Error(), "Rekor returned 65 entries for this object and key, more than the 64 gitsign examines") {
		t.Errorf("65 entries: %v", err)
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("fetched %d entries of an answer over the bound", n)
	}
}
