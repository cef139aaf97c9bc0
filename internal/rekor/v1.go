package rekor

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/internal/httpx"
)

// HashedRekordV001 returns the hashedrekord v0.0.1 proposed entry for a
// signature over an artifact whose SHA-256 is digest, made with cert's key.
// Rekor stores it canonicalized, which for this kind is the same JSON.
func HashedRekordV001(digest, sig []byte, cert *x509.Certificate) ([]byte, error) {
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	type hash struct {
		Algorithm string `json:"algorithm"`
		Value     string `json:"value"`
	}
	var e struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Data struct {
				Hash hash `json:"hash"`
			} `json:"data"`
			Signature struct {
				Content   string `json:"content"`
				PublicKey struct {
					Content string `json:"content"`
				} `json:"publicKey"`
			} `json:"signature"`
		} `json:"spec"`
	}
	e.APIVersion, e.Kind = "0.0.1", "hashedrekord"
	e.Spec.Data.Hash = hash{"sha256", hex.EncodeToString(digest)}
	e.Spec.Signature.Content = base64.StdEncoding.EncodeToString(sig)
	e.Spec.Signature.PublicKey.Content = base64.StdEncoding.EncodeToString(certPEM)
	return json.Marshal(e)
}

// logEntryV1 is one value of Rekor v1's {uuid: entry} answers.
type logEntryV1 struct {
	Body           string `json:"body"`
	IntegratedTime *int64 `json:"integratedTime"`
	LogID          string `json:"logID"`
	LogIndex       *int64 `json:"logIndex"`
	Verification   *struct {
		SignedEntryTimestamp []byte `json:"signedEntryTimestamp"`
		InclusionProof       *struct {
			Checkpoint string   `json:"checkpoint"`
			Hashes     []string `json:"hashes"`
			LogIndex   *int64   `json:"logIndex"`
			RootHash   string   `json:"rootHash"`
			TreeSize   *int64   `json:"treeSize"`
		} `json:"inclusionProof"`
	} `json:"verification"`
}

// uploadV1 posts a hashedrekord v0.0.1 to a Rekor v1 log and returns the
// entry with its inclusion proof and signed entry timestamp.
func (c *Client) uploadV1(ctx context.Context, digest, sig []byte, cert *x509.Certificate) (*protorekor.TransparencyLogEntry, error) {
	body, err := HashedRekordV001(digest, sig, cert)
	if err != nil {
		return nil, err
	}
	hdr := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	url := c.base() + "/api/v1/log/entries"
	resp, err := c.HTTP.Do(ctx, http.MethodPost, url, body, hdr)
	var se *httpx.StatusError
	if errors.As(err, &se) && se.Status == http.StatusConflict {
		// The same entry is already in the log: fetch it.
		return c.entryV1(ctx, strings.TrimPrefix(se.Location, "/"))
	}
	if err != nil {
		return nil, fmt.Errorf("rekor: %w", err)
	}
	return parseEntriesV1(resp.Body)
}

// EntryV1 fetches an entry from a Rekor v1 log by UUID.
func (c *Client) EntryV1(ctx context.Context, uuid string) (*protorekor.TransparencyLogEntry, error) {
	return c.entryV1(ctx, uuid)
}

func (c *Client) entryV1(ctx context.Context, loc string) (*protorekor.TransparencyLogEntry, error) {
	uuid := loc[strings.LastIndex(loc, "/")+1:]
	if uuid == "" {
		return nil, errors.New("rekor: existing entry has no UUID")
	}
	resp, err := c.HTTP.Do(ctx, http.MethodGet, c.base()+"/api/v1/log/entries/"+uuid, nil, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, fmt.Errorf("rekor: %w", err)
	}
	return parseEntriesV1(resp.Body)
}

func parseEntriesV1(body []byte) (*protorekor.TransparencyLogEntry, error) {
	var m map[string]logEntryV1
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("rekor: malformed answer: %w", err)
	}
	if len(m) != 1 {
		return nil, fmt.Errorf("rekor: answer holds %d entries, want 1", len(m))
	}
	for _, e := range m {
		return e.toProto()
	}
	panic("unreachable")
}

func (e logEntryV1) toProto() (*protorekor.TransparencyLogEntry, error) {
	v := e.Verification
	if e.IntegratedTime == nil || e.LogIndex == nil || v == nil || v.InclusionProof == nil ||
		v.InclusionProof.LogIndex == nil || v.InclusionProof.TreeSize == nil || len(v.SignedEntryTimestamp) == 0 {
		return nil, errors.New("rekor: entry lacks its inclusion proof, signed entry timestamp or time")
	}
	logID, err := hex.DecodeString(e.LogID)
	if err != nil {
		return nil, fmt.Errorf("rekor: bad log id: %w", err)
	}
	root, err := hex.DecodeString(v.InclusionProof.RootHash)
	if err != nil {
		return nil, fmt.Errorf("rekor: bad root hash: %w", err)
	}
	hashes := make([][]byte, len(v.InclusionProof.Hashes))
	for i, h := range v.InclusionProof.Hashes {
		if hashes[i], err = hex.DecodeString(h); err != nil {
			return nil, fmt.Errorf("rekor: bad proof hash: %w", err)
		}
	}
	body, err := base64.StdEncoding.DecodeString(e.Body)
	if err != nil {
		return nil, fmt.Errorf("rekor: bad entry body: %w", err)
	}
	var kv struct{ APIVersion, Kind string }
	if err := json.Unmarshal(body, &kv); err != nil {
		return nil, fmt.Errorf("rekor: bad entry body: %w", err)
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          *e.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    *e.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: v.SignedEntryTimestamp},
		CanonicalizedBody: body,
		InclusionProof: &protorekor.InclusionProof{
			LogIndex:   *v.InclusionProof.LogIndex,
			RootHash:   root,
			TreeSize:   *v.InclusionProof.TreeSize,
			Hashes:     hashes,
			Checkpoint: &protorekor.Checkpoint{Envelope: v.InclusionProof.Checkpoint},
		},
	}, nil
}

// maxSearchResults bounds how many entries one search may make gitsign
// fetch. A search by artifact AND key finds only entries the key's holder
// made (normally one); more than this is refused, never cut short, since
// the entry left out could be the one that matters.
const maxSearchResults = 64

// searchIndexV1 is Rekor v1's SearchIndex query (POST /api/v1/index/retrieve).
type searchIndexV1 struct {
	Hash      string `json:"hash"`
	PublicKey struct {
		Format  string `json:"format"`
		Content []byte `json:"content"` // base64 in JSON
	} `json:"publicKey"`
	Operator string `json:"operator"`
}

// SearchV1 returns the UUIDs of the Rekor v1 entries over an artifact whose
// SHA-256 is digest AND recorded with cert. Rekor indexes a hashedrekord
// v0.0.1 entry under sha256 of the public key PEM it holds, and a search
// under sha256 of the PEM of the certificate it is given, so this finds
// entries that carry cert in the standard PEM encoding (as gitsign and
// the reference upload it). More than maxSearchResults UUIDs is an error.
func (c *Client) SearchV1(ctx context.Context, digest []byte, cert *x509.Certificate) ([]string, error) {
	if len(digest) != sha256.Size {
		return nil, errors.New("rekor: search digest must be a SHA-256")
	}
	if cert == nil {
		return nil, errors.New("rekor: search needs the signing certificate")
	}
	var q searchIndexV1
	q.Hash = "sha256:" + hex.EncodeToString(digest)
	q.PublicKey.Format = "x509"
	q.PublicKey.Content = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	q.Operator = "and"
	body, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	hdr := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	resp, err := c.HTTP.Do(ctx, http.MethodPost, c.base()+"/api/v1/index/retrieve", body, hdr)
	if err != nil {
		return nil, fmt.Errorf("rekor: %w", err)
	}
	return parseSearchV1(resp.Body)
}

// parseSearchV1 reads a search answer: a JSON array of entry UUIDs (64
// hex digits, or 80 with the log shard's tree id in front). Duplicates
// are dropped; more than maxSearchResults distinct UUIDs is an error.
func parseSearchV1(body []byte) ([]string, error) {
	var uuids []string
	if err := json.Unmarshal(body, &uuids); err != nil {
		return nil, fmt.Errorf("rekor: malformed search answer: %w", err)
	}
	seen := make(map[string]bool, len(uuids))
	out := make([]string, 0, len(uuids))
	for _, u := range uuids {
		u = strings.ToLower(u)
		if !validUUID(u) {
			return nil, fmt.Errorf("rekor: search answer holds %q, which is not an entry UUID", truncate(u, 100))
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	if len(out) > maxSearchResults {
		return nil, fmt.Errorf("rekor: Rekor returned %d entries for this object and key, more than the %d gitsign examines", len(out), maxSearchResults)
	}
	return out, nil
}

// validUUID reports whether u is a Rekor v1 entry UUID, so that a search
// answer can only name entries, never another path on the server.
func validUUID(u string) bool {
	if len(u) != 64 && len(u) != 80 {
		return false
	}
	_, err := hex.DecodeString(u)
	return err == nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// HashedRekordV001Parts reads a hashedrekord v0.0.1 body: the artifact
// digest, the signature and the certificate (or key) PEM.
func HashedRekordV001Parts(body []byte) (digest, sig, pubPEM []byte, err error) {
	var e struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Data struct {
				Hash struct{ Algorithm, Value string }
			}
			Signature struct {
				Content   []byte
				PublicKey struct{ Content []byte }
			}
		}
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, nil, nil, fmt.Errorf("rekor: malformed entry body: %w", err)
	}
	if e.Kind != "hashedrekord" || e.APIVersion != "0.0.1" || e.Spec.Data.Hash.Algorithm != "sha256" {
		return nil, nil, nil, fmt.Errorf("rekor: entry is %s/%s over %s, want hashedrekord/0.0.1 over sha256", e.Kind, e.APIVersion, e.Spec.Data.Hash.Algorithm)
	}
	if digest, err = hex.DecodeString(e.Spec.Data.Hash.Value); err != nil {
		return nil, nil, nil, fmt.Errorf("rekor: bad digest in entry: %w", err)
	}
	return digest, e.Spec.Signature.Content, e.Spec.Signature.PublicKey.Content, nil
}

// Entries returns every Rekor v1 entry over an artifact whose SHA-256 is
// digest recorded with cert (see SearchV1). It fails if any of them cannot
// be fetched, rather than answer with a subset that may lack the one the
// caller needs; the caller still checks each entry against the artifact
// and the certificate.
func (c *Client) Entries(ctx context.Context, digest []byte, cert *x509.Certificate) ([]*protorekor.TransparencyLogEntry, error) {
	uuids, err := c.SearchV1(ctx, digest, cert)
	if err != nil {
		return nil, err
	}
	out := make([]*protorekor.TransparencyLogEntry, 0, len(uuids))
	for _, uuid := range uuids {
		tle, err := c.EntryV1(ctx, uuid)
		if err != nil {
			return nil, fmt.Errorf("fetching entry %s: %w", uuid, err)
		}
		out = append(out, tle)
	}
	return out, nil
}

// Where is the log's address, for messages.
func (c *Client) Where() string { return c.URL }
