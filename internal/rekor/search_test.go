package rekor

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/testcert"
)

// testCert returns a self-signed P-256 certificate.
func testCert(t testing.TB) *x509.Certificate {
	t.Helper()
	cert, _ := testcert.New(t, testcert.Options{CommonName: "test"})
	return cert
}

// uuidN returns a well-formed, distinct entry UUID.
func uuidN(i int) string {
	sum := sha256.Sum256([]byte(fmt.Sprint(i)))
	return "5d1bd1e77834186f" + hex.EncodeToString(sum[:])
}

// entryJSON is one Rekor v1 entry answer, {uuid: entry}, for index i.
func entryJSON(uuid string, i int) map[string]any {
	return map[string]any{uuid: map[string]any{
		"body": base64.StdEncoding.EncodeToString([]byte(`{"kind":"hashedrekord","apiVersion":"0.0.1"}`)), "integratedTime": 1785272080,
		"logID": "00", "logIndex": i,
		"verification": map[string]any{"signedEntryTimestamp": "AA==", "inclusionProof": map[string]any{
			"logIndex": i, "treeSize": 100, "rootHash": "00", "hashes": []string{}, "checkpoint": "c"}},
	}}
}

// fakeSearchLog answers searches with uuids and serves any entry,
// recording the search queries and the entries fetched.
type fakeSearchLog struct {
	uuids   []string
	mu      sync.Mutex
	queries [][]byte
	fetched []string
}

func (f *fakeSearchLog) serve(t *testing.T) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/index/retrieve":
			b, _ := io.ReadAll(r.Body)
			f.queries = append(f.queries, b)
			json.NewEncoder(w).Encode(f.uuids)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/log/entries/"):
			uuid := strings.TrimPrefix(r.URL.Path, "/api/v1/log/entries/")
			f.fetched = append(f.fetched, uuid)
			json.NewEncoder(w).Encode(entryJSON(uuid, len(f.fetched)))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return &Client{URL: srv.URL, Version: 1, HTTP: httpx.New(time.Second)}
}

// seen returns the search queries and fetched UUIDs so far.
func (f *fakeSearchLog) seen() (queries [][]byte, fetched []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte{}, f.queries...), append([]string{}, f.fetched...)
}

// TestSearchV1Query: the search asks for entries over the digest AND
// made with the certificate, in the form Rekor v1's SearchIndex reads.
func TestSearchV1Query(t *testing.T) {
	cert := testCert(t)
	digest := sha256.Sum256([]byte("0123456789012345678901234567890123456789"))
	f := &fakeSearchLog{uuids: []string{uuidN(1)}}
	got, err := f.serve(t).SearchV1(context.Background(), digest[:], cert)
	if err != nil || len(got) != 1 || got[0] != uuidN(1) {
		t.Fatalf("SearchV1 = %v, %v", got, err)
	}
	queries, _ := f.seen()
	if len(queries) != 1 {
		t.Fatalf("%d searches, want 1", len(queries))
	}
	var q struct {
		Hash      string
		Operator  string
		PublicKey struct{ Format, Content string }
	}
	if err := json.Unmarshal(queries[0], &q); err != nil {
		t.Fatal(err)
	}
	if q.Hash != "sha256:"+hex.EncodeToString(digest[:]) {
		t.Errorf("hash %q", q.Hash)
	}
	if q.Operator != "and" {
		t.Errorf("operator %q, want and", q.Operator)
	}
	if q.PublicKey.Format != "x509" {
		t.Errorf("publicKey.format %q, want x509", q.PublicKey.Format)
	}
	pemBytes, err := base64.StdEncoding.DecodeString(q.PublicKey.Content)
	if err != nil {
		t.Fatalf("publicKey.content is not base64: %v", err)
	}
	// Rekor matches sha256 of the certificate's standard PEM encoding.
	if want := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}); string(pemBytes) != string(want) {
		t.Errorf("publicKey.content is not the certificate's PEM:\n%s", pemBytes)
	}
}

// TestSearchV1Bound: up to maxSearchResults UUIDs are all returned; more
// is an error naming both numbers, never a silent cut.
func TestSearchV1Bound(t *testing.T) {
	cert := testCert(t)
	digest := sha256.Sum256([]byte("x"))
	var uuids []string
	for i := 0; i <= maxSearchResults; i++ {
		uuids = append(uuids, uuidN(i))
	}
	f := &fakeSearchLog{uuids: uuids[:maxSearchResults]}
	c := f.serve(t)
	if got, err := c.SearchV1(context.Background(), digest[:], cert); err != nil || len(got) != maxSearchResults {
		t.Fatalf("at the bound: %d UUIDs, %v", len(got), err)
	}
	f.mu.Lock()
	f.uuids = uuids
	f.mu.Unlock()
	got, err := c.SearchV1(context.Background(), digest[:], cert)
	want := fmt.Sprintf("Rekor returned %d entries for this object and key, more than the %d gitsign examines", maxSearchResults+1, maxSearchResults)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("over the bound: %v, %v; want an error saying %q", got, err, want)
	}
	if _, err := c.Entries(context.Background(), digest[:], cert); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Entries over the bound: %v", err)
	}
	if _, fetched := f.seen(); len(fetched) != 0 {
		t.Errorf("fetched %d entries of an over-bound answer", len(fetched))
	}
}

// TestEntriesFetchesEvery: every UUID the search names is fetched, once.
func TestEntriesFetchesEvery(t *testing.T) {
	f := &fakeSearchLog{uuids: []string{uuidN(1), uuidN(2), strings.ToUpper(uuidN(1)), uuidN(3)}}
	digest := sha256.Sum256([]byte("x"))
	got, err := f.serve(t).Entries(context.Background(), digest[:], testCert(t))
	if err != nil || len(got) != 3 {
		t.Fatalf("Entries = %d entries, %v; want 3", len(got), err)
	}
	if _, fetched := f.seen(); strings.Join(fetched, ",") != strings.Join([]string{uuidN(1), uuidN(2), uuidN(3)}, ",") {
		t.Errorf("fetched %v", fetched)
	}
}

// TestEntriesFailsOnMissingEntry: an entry the search names that cannot
// be fetched fails the lookup instead of leaving it out.
func TestEntriesFailsOnMissingEntry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/index/retrieve":
			json.NewEncoder(w).Encode([]string{uuidN(1), uuidN(2)})
		case r.URL.Path == "/api/v1/log/entries/"+uuidN(1):
			json.NewEncoder(w).Encode(entryJSON(uuidN(1), 1))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := &Client{URL: srv.URL, Version: 1, HTTP: httpx.New(time.Second)}
	digest := sha256.Sum256([]byte("x"))
	if got, err := c.Entries(context.Background(), digest[:], testCert(t)); err == nil || !strings.Contains(err.Error(), uuidN(2)) || !strings.Contains(err.Error(), "404") {
		t.Errorf("Entries = %d entries, %v; want an error naming the missing entry", len(got), err)
	}
}

func TestSearchV1Rejects(t *testing.T) {
	c := &Client{URL: "http://127.0.0.1:1", Version: 1, HTTP: httpx.New(time.Second)}
	if _, err := c.SearchV1(context.Background(), []byte("short"), testCert(t)); err == nil {
		t.Error("accepted a digest that is not a SHA-256")
	}
	digest := sha256.Sum256([]byte("x"))
	if _, err := c.SearchV1(context.Background(), digest[:], nil); err == nil {
		t.Error("searched with no certificate")
	}
	for _, body := range []string{``, `{}`, `[1]`, `["../../api/v1/log"]`, `["` + uuidN(1)[:63] + `"]`, `["` + strings.Repeat("g", 64) + `"]`} {
		if _, err := parseSearchV1([]byte(body)); err == nil {
			t.Errorf("accepted the search answer %q", body)
		}
	}
	if got, err := parseSearchV1([]byte(`[]`)); err != nil || len(got) != 0 {
		t.Errorf("empty answer: %v, %v", got, err)
	}
}

func FuzzParseSearchV1(f *testing.F) {
	f.Add([]byte(`["` + uuidN(1) + `"]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		uuids, err := parseSearchV1(body)
		if err != nil {
			return
		}
		// Property: what parses is a bounded set of distinct UUIDs, each
		// safe to put in a URL path.
		if len(uuids) > maxSearchResults {
			t.Fatalf("%d UUIDs, more than the bound", len(uuids))
		}
		seen := map[string]bool{}
		for _, u := range uuids {
			if !validUUID(u) || seen[u] || strings.ContainsAny(u, "/?#.%") {
				t.Fatalf("bad or repeated UUID %q", u)
			}
			seen[u] = true
		}
	})
}
