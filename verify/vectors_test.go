package verify

// The signatures the sweep (sweep_test.go) mutates: the real public-good
// vectors in testdata/realworld, and those hack/mkvectors made through
// real git against the local Sigstore stack in testdata/local, in every
// mode gitsign signs in. Each comes with the verifier that accepts it, so
// the sweep needs no running stack.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/rekor"
)

const localVectors = "../testdata/local"

// localModes are the modes of testdata/local, as hack/mkvectors names
// them.
var localModes = []string{"offline", "offline-tsa", "online", "online-tsa", "rekor2-tsa"}

// sweepVector is one good signature and the verifier that accepts it.
type sweepVector struct {
	name, mode   string // mode: "realworld" or one of localModes
	typ          string
	raw          []byte // the object as git stores it
	payload, sig []byte
	v            *Verifier
}

// verify checks sig (a mutation of the vector's signature) over the
// vector's payload. The object id an online-mode lookup needs is the one
// the object would have with sig in it, as git's helper computes it.
func (vec sweepVector) verify(sig []byte) (*Result, error) {
	return vec.v.Verify(context.Background(), vec.payload, sig, func() (string, error) {
		obj, typ, err := gitobj.WithSignature(vec.payload, sig)
		if err != nil {
			return "", err
		}
		return gitobj.ID(typ, obj), nil
	})
}

// verifyObject checks raw, a mutation of the vector's object, as a whole.
func (vec sweepVector) verifyObject(raw []byte) (*Result, error) {
	return vec.v.VerifyObject(context.Background(), Object{Type: vec.typ, ID: gitobj.ID(vec.typ, raw), Raw: raw})
}

// sweepVectors returns every vector, each verified once as it is.
func sweepVectors(t testing.TB) []sweepVector {
	t.Helper()
	var out []sweepVector
	add := func(path, name, mode, typ string, v *Verifier) {
		vec := load(t, path, typ, "")
		out = append(out, sweepVector{name: name, mode: mode, typ: typ, raw: vec.raw, payload: vec.payload, sig: vec.sig, v: v})
	}
	real := builtinVerifier(t, billy)
	files, _ := filepath.Glob(filepath.Join(realworld, "commits", "*.commit"))
	for _, f := range files {
		add(f, filepath.Base(f), "realworld", "commit", real)
	}
	add(filepath.Join(realworld, "tags", "v0.17.0.tag"), "v0.17.0.tag", "realworld", "tag", real)
	local := localVerifier(t)
	for _, mode := range localModes {
		for _, typ := range []string{"commit", "tag"} {
			add(filepath.Join(localVectors, mode+"."+typ), mode+"."+typ, mode, typ, local)
		}
	}
	for _, vec := range out {
		if _, err := vec.verify(vec.sig); err != nil {
			t.Fatalf("%s does not verify as it is: %v", vec.name, err)
		}
		if _, err := vec.verifyObject(vec.raw); err != nil {
			t.Fatalf("%s does not verify as a whole object: %v", vec.name, err)
		}
	}
	return out
}

var (
	localOnce     sync.Once
	localVerified *Verifier
	localErr      error
)

// localVerifier verifies the testdata/local vectors: their trusted root,
// the one identity that signed them, and their online-mode entries served
// by a stand-in for Rekor v1 from the answers hack/mkvectors recorded.
func localVerifier(t testing.TB) *Verifier {
	t.Helper()
	localOnce.Do(func() {
		tm, _, err := LoadTrust(TrustOptions{TrustedRoot: filepath.Join(localVectors, "trusted_root.json")})
		if err != nil {
			localErr = err
			return
		}
		signer, err := os.ReadFile(filepath.Join(localVectors, "allowed_signers"))
		if err != nil {
			localErr = err
			return
		}
		id, issuer, _ := strings.Cut(strings.TrimSpace(string(signer)), " ")
		srv := httptest.NewServer(recordedRekor(t))
		localVerified, localErr = New(tm, Options{
			Policy: Policy{Identities: []string{id}, Issuers: []string{issuer}},
			Log:    &rekor.Client{URL: srv.URL, Version: 1, HTTP: httpx.New(10 * time.Second)},
		})
	})
	if localErr != nil {
		t.Fatal(localErr)
	}
	return localVerified
}

// recordedRekor answers as Rekor v1 does, from the entries hack/mkvectors
// recorded: a search by artifact hash (the key part of the query is not
// checked: the verifier checks each entry's certificate itself), and each
// entry by UUID.
func recordedRekor(t testing.TB) http.Handler {
	entries := map[string]json.RawMessage{} // by UUID
	byHash := map[string][]string{}         // "sha256:HEX" -> UUIDs
	files, _ := filepath.Glob(filepath.Join(localVectors, "*.rekor.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var answer map[string]struct {
			Body []byte `json:"body"`
		}
		var raw map[string]json.RawMessage
		if json.Unmarshal(b, &answer) != nil || json.Unmarshal(b, &raw) != nil {
			t.Fatalf("%s: not a Rekor answer", f)
		}
		for uuid, e := range answer {
			digest, _, _, err := rekor.HashedRekordV001Parts(e.Body)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			entries[uuid] = raw[uuid]
			key := "sha256:" + hex.EncodeToString(digest)
			byHash[key] = append(byHash[key], uuid)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/index/retrieve", func(w http.ResponseWriter, r *http.Request) {
		var q struct{ Hash string }
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		uuids := byHash[q.Hash]
		if uuids == nil {
			uuids = []string{}
		}
		json.NewEncoder(w).Encode(uuids)
	})
	mux.HandleFunc("GET /api/v1/log/entries/{uuid}", func(w http.ResponseWriter, r *http.Request) {
		e, ok := entries[r.PathValue("uuid")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		var out bytes.Buffer
		out.WriteString(`{"` + r.PathValue("uuid") + `":`)
		out.Write(e)
		out.WriteString("}")
		w.Write(out.Bytes())
	})
	return mux
}
