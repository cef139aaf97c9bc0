package verify

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/rekor"
)

// fakeRekor answers every search with one entry and serves that entry.
func fakeRekor(t *testing.T, body []byte) *httptest.Server {
	t.Helper()
	entry := map[string]any{"entry-uuid": map[string]any{
		"body": base64.StdEncoding.EncodeToString(body), "integratedTime": 1785272080, "logID": "00", "logIndex": 7,
		"verification": map[string]any{"signedEntryTimestamp": "AA==", "inclusionProof": map[string]any{
			"logIndex": 7, "treeSize": 8, "rootHash": "00", "hashes": []string{}, "checkpoint": "c"}},
	}}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/index/retrieve":
			json.NewEncoder(w).Encode([]string{"entry-uuid"})
		case strings.HasPrefix(r.URL.Path, "/api/v1/log/entries/"):
			json.NewEncoder(w).Encode(entry)
		default:
			http.NotFound(w, r)
		}
	}))
}

// TestOnlineLookupMatchesArtifactAndKey: a Rekor entry is only this
// signature's when it is over this object id AND made by this
// certificate (GHSA-8pmp-678w-c8xx). Entries for another commit by the
// same certificate, or for this commit by another certificate, are
// refused before anything else is checked.
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
		srv := fakeRekor(t, b)
		v := builtinVerifier(t, billy)
		v.Rekor = &rekor.Client{URL: srv.URL, Version: 1, HTTP: httpx.New(time.Second)}
		_, _, err = v.lookupOnline(context.Background(), id, this.Cert)
		var ve *Error
		if !errors.As(err, &ve) || ve.Kind != Bad || !strings.Contains(err.Error(), "no Rekor entry matches") {
			t.Errorf("%s: %v", name, err)
		}
		srv.Close()
	}
}
