package gitsign_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
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

	"github.com/digitorus/timestamp"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gitsign-dev/gitsign/internal/testcert"
	"github.com/gitsign-dev/gitsign/oauth"
)

// Paths of the fake services. One server plays all of them, so that one
// event list records the order of every request.
const (
	pathFulcio  = "/api/v2/signingCert"
	pathTSA     = "/tsa"
	pathRekorV1 = "/api/v1/log/entries"
	pathRekorV2 = "/api/v2/log/entries"
)

// Names of the services in sigstore.events.
const (
	evFulcio = "fulcio"
	evTSA    = "tsa"
	evRekor  = "rekor"
)

// upload is one request to the fake Rekor, checked as Rekor checks it: the
// signature verifies over the digest with the certificate's key.
type upload struct {
	digest, sig []byte
	cert        *x509.Certificate
}

// sigstore is an in-process Fulcio, timestamp authority and Rekor (v1 and
// v2) over HTTP, each checking requests as the real one does. Fulcio
// issues chains (root, intermediate, leaf for the requested key) to the
// tokens in tokens; the TSA grants RFC 3161 tokens; Rekor v1 answers with
// a signed entry timestamp a test can verify against Logs().
type sigstore struct {
	srv *httptest.Server

	fulcioRoot, fulcioInter *x509.Certificate
	fulcioKey               *ecdsa.PrivateKey
	tsaCert                 *x509.Certificate
	tsaKey                  *ecdsa.PrivateKey
	rekorKey                *ecdsa.PrivateKey
	rekorLogID              string // hex SHA-256 of the PKIX public key

	mu sync.Mutex
	// tokens maps a raw token to the identity Fulcio certifies for it.
	tokens map[string]string
	// certEmail, when set, is the email Fulcio puts in every certificate,
	// whatever the token says.
	certEmail string
	// fail holds, per event name, the statuses to answer with before
	// serving normally.
	fail map[string][]int
	// events lists every request received, by event name, in order.
	events []string
	// imprints are the SHA-256 values the TSA stamped; uploads what
	// Rekor logged.
	imprints [][]byte
	uploads  []upload
}

// newSigstore starts the fake services; they stop at the end of the test.
func newSigstore(t *testing.T) *sigstore {
	t.Helper()
	s := &sigstore{tokens: map[string]string{}, fail: map[string][]int{}}
	// The CA certificates and the TSA's: distinct serials, valid for an
	// hour either side of now.
	serial, nb, na := time.Now().UnixNano(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	var rootKey *ecdsa.PrivateKey
	s.fulcioRoot, rootKey = testcert.New(t, testcert.Options{Serial: serial, CommonName: "fake root", IsCA: true,
		NotBefore: nb, NotAfter: na})
	s.fulcioInter, s.fulcioKey = testcert.New(t, testcert.Options{Serial: serial + 1, CommonName: "fake intermediate", IsCA: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, NotBefore: nb, NotAfter: na, Parent: s.fulcioRoot, ParentKey: rootKey})
	s.tsaCert, s.tsaKey = testcert.New(t, testcert.Options{Serial: serial + 2, CommonName: "fake tsa", KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, NotBefore: nb, NotAfter: na, Parent: s.fulcioRoot, ParentKey: rootKey})
	s.rekorKey = newKey(t)
	spki, err := x509.MarshalPKIXPublicKey(s.rekorKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	id := sha256.Sum256(spki)
	s.rekorLogID = hex.EncodeToString(id[:])

	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathFulcio, s.serve(evFulcio, s.fulcio))
	mux.HandleFunc("POST "+pathTSA, s.serve(evTSA, s.timestamp))
	mux.HandleFunc("POST "+pathRekorV1, s.serve(evRekor, s.rekorV1))
	mux.HandleFunc("POST "+pathRekorV2, s.serve(evRekor, s.rekorV2))
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Logs is the fake Rekor v1 as trust material for sigstore-go's tlog.
func (s *sigstore) Logs() map[string]*root.TransparencyLog {
	return map[string]*root.TransparencyLog{s.rekorLogID: {
		BaseURL: s.srv.URL, ID: []byte(s.rekorLogID), HashFunc: crypto.SHA256, SignatureHashFunc: crypto.SHA256,
		PublicKey: s.rekorKey.Public(), ValidityPeriodStart: time.Now().Add(-time.Hour),
	}}
}

// URL is the base URL of every fake service.
func (s *sigstore) URL() string { return s.srv.URL }

// failNext makes the next requests to ev fail with the given statuses.
func (s *sigstore) failNext(ev string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[ev] = append(s.fail[ev], statuses...)
}

// Events returns the requests received so far, in order.
func (s *sigstore) Events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events...)
}

// count returns how many requests ev received.
func (s *sigstore) count(ev string) int {
	n := 0
	for _, e := range s.Events() {
		if e == ev {
			n++
		}
	}
	return n
}

// serve records the request and answers with an injected failure or h.
func (s *sigstore) serve(ev string, h func(body []byte, r *http.Request) (int, []byte, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.events = append(s.events, ev)
		var status int
		if q := s.fail[ev]; len(q) > 0 {
			status, s.fail[ev] = q[0], q[1:]
		}
		s.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"code":%d,"message":"injected failure"}`, status)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		status, out, err := h(body, r)
		if err != nil {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"message":%q}`, err.Error())
			return
		}
		w.WriteHeader(status)
		w.Write(out)
	}
}

// fulcio checks the bearer token and the proof of possession over the
// token's identity, and issues a chain for the key.
func (s *sigstore) fulcio(body []byte, r *http.Request) (int, []byte, error) {
	s.mu.Lock()
	subject, ok := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	email := s.certEmail
	s.mu.Unlock()
	if !ok {
		return http.StatusUnauthorized, nil, fmt.Errorf("unknown token")
	}
	var req struct {
		PublicKeyRequest struct {
			PublicKey         struct{ Content string } `json:"publicKey"`
			ProofOfPossession string                   `json:"proofOfPossession"`
		} `json:"publicKeyRequest"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, nil, err
	}
	block, _ := pem.Decode([]byte(req.PublicKeyRequest.PublicKey.Content))
	if block == nil {
		return http.StatusBadRequest, nil, fmt.Errorf("no PEM public key")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return http.StatusBadRequest, nil, err
	}
	pop, err := base64.StdEncoding.DecodeString(req.PublicKeyRequest.ProofOfPossession)
	h := sha256.Sum256([]byte(subject))
	if ek, ok := pub.(*ecdsa.PublicKey); err != nil || !ok || !ecdsa.VerifyASN1(ek, h[:], pop) {
		return http.StatusBadRequest, nil, fmt.Errorf("proof of possession does not verify")
	}
	if email == "" {
		email = subject
	}
	leaf, err := s.issue(pub, email)
	if err != nil {
		return http.StatusInternalServerError, nil, err
	}
	var certs []string
	for _, c := range []*x509.Certificate{leaf, s.fulcioInter, s.fulcioRoot} {
		certs = append(certs, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	out, err := json.Marshal(map[string]any{"signedCertificateEmbeddedSct": map[string]any{"chain": map[string]any{"certificates": certs}}})
	return http.StatusCreated, out, err
}

// issue makes a ten-minute code-signing certificate for pub naming email
// and Fulcio's issuer extension.
func (s *sigstore) issue(pub crypto.PublicKey, email string) (*x509.Certificate, error) {
	cert, _, err := testcert.Make(testcert.Options{
		Serial: time.Now().UnixNano(), Emails: []string{email}, Issuer: "https://issuer.example.test",
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		PublicKey: pub, Parent: s.fulcioInter, ParentKey: s.fulcioKey,
	})
	return cert, err
}

// timestamp grants an RFC 3161 token for the request's imprint and nonce.
func (s *sigstore) timestamp(body []byte, _ *http.Request) (int, []byte, error) {
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		return http.StatusBadRequest, nil, err
	}
	s.mu.Lock()
	s.imprints = append(s.imprints, req.HashedMessage)
	s.mu.Unlock()
	ts := timestamp.Timestamp{
		HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Nonce: req.Nonce,
		Time: time.Now(), Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}, AddTSACertificate: req.Certificates,
	}
	out, err := ts.CreateResponseWithOpts(s.tsaCert, s.tsaKey, crypto.SHA256)
	if err != nil {
		return http.StatusInternalServerError, nil, err
	}
	return http.StatusOK, out, nil
}

// record checks an upload the way Rekor does and keeps it.
func (s *sigstore) record(u upload) (int, error) {
	pub, ok := u.cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || len(u.digest) != sha256.Size || !ecdsa.VerifyASN1(pub, u.digest, u.sig) {
		return 0, fmt.Errorf("signature does not verify over the digest")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploads = append(s.uploads, u)
	return len(s.uploads) - 1, nil
}

// rekorV1 logs a hashedrekord v0.0.1 and answers with the entry, its
// signed entry timestamp and inclusion proof.
func (s *sigstore) rekorV1(body []byte, _ *http.Request) (int, []byte, error) {
	var e struct {
		Spec struct {
			Data struct {
				Hash struct{ Value string } `json:"hash"`
			} `json:"data"`
			Signature struct {
				Content   []byte `json:"content"`
				PublicKey struct {
					Content []byte `json:"content"`
				} `json:"publicKey"`
			} `json:"signature"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return http.StatusBadRequest, nil, err
	}
	digest, err := hex.DecodeString(e.Spec.Data.Hash.Value)
	if err != nil {
		return http.StatusBadRequest, nil, err
	}
	block, _ := pem.Decode(e.Spec.Signature.PublicKey.Content)
	if block == nil {
		return http.StatusBadRequest, nil, fmt.Errorf("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return http.StatusBadRequest, nil, err
	}
	index, err := s.record(upload{digest: digest, sig: e.Spec.Signature.Content, cert: cert})
	if err != nil {
		return http.StatusBadRequest, nil, err
	}
	b64 := base64.StdEncoding.EncodeToString(body)
	now := time.Now().Unix()
	// The signed entry timestamp: ECDSA over SHA-256 of the canonical JSON
	// of these four fields (sorted keys, no spaces: what json.Marshal
	// makes of this map, as no value needs escaping).
	payload, err := json.Marshal(map[string]any{"body": b64, "integratedTime": now, "logID": s.rekorLogID, "logIndex": index})
	if err != nil {
		return http.StatusInternalServerError, nil, err
	}
	h := sha256.Sum256(payload)
	set, err := ecdsa.SignASN1(rand.Reader, s.rekorKey, h[:])
	if err != nil {
		return http.StatusInternalServerError, nil, err
	}
	leaf := sha256.Sum256(append([]byte{0}, body...))
	proof := map[string]any{"logIndex": 0, "treeSize": 1, "rootHash": hex.EncodeToString(leaf[:]), "hashes": []string{},
		"checkpoint": checkpoint("rekor.example.test - 1", 1, leaf[:])}
	logID := s.rekorLogID
	out, err := json.Marshal(map[string]any{fmt.Sprintf("%064x", index): map[string]any{
		"body": b64, "integratedTime": now, "logID": logID, "logIndex": index,
		"verification": map[string]any{"signedEntryTimestamp": set, "inclusionProof": proof},
	}})
	return http.StatusCreated, out, err
}

// rekorV2 logs a hashedrekord v0.0.2 request and answers with the entry
// and a checkpoint, as rekor-tiles does.
func (s *sigstore) rekorV2(body []byte, _ *http.Request) (int, []byte, error) {
	var req struct {
		HashedRekord struct {
			Digest    []byte `json:"digest"`
			Signature struct {
				Content  []byte `json:"content"`
				Verifier struct {
					X509Certificate struct {
						RawBytes []byte `json:"rawBytes"`
					} `json:"x509Certificate"`
				} `json:"verifier"`
			} `json:"signature"`
		} `json:"hashedRekordRequestV002"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, nil, err
	}
	hr := req.HashedRekord
	cert, err := x509.ParseCertificate(hr.Signature.Verifier.X509Certificate.RawBytes)
	if err != nil {
		return http.StatusBadRequest, nil, err
	}
	index, err := s.record(upload{digest: hr.Digest, sig: hr.Signature.Content, cert: cert})
	if err != nil {
		return http.StatusBadRequest, nil, err
	}
	leaf := sha256.Sum256(append([]byte{0}, body...))
	tle := &protorekor.TransparencyLogEntry{
		LogIndex:    int64(index),
		LogId:       &protocommon.LogId{KeyId: []byte("fake-v2-log")},
		KindVersion: &protorekor.KindVersion{Kind: "hashedrekord", Version: "0.0.2"},
		InclusionProof: &protorekor.InclusionProof{
			LogIndex: int64(index), TreeSize: int64(index) + 1, RootHash: leaf[:],
			Checkpoint: &protorekor.Checkpoint{Envelope: checkpoint("log.example.test", index+1, leaf[:])},
		},
		CanonicalizedBody: body,
	}
	out, err := protojson.Marshal(tle)
	return http.StatusCreated, out, err
}

// checkpoint is a signed note of the form Rekor's checkpoints have; its
// signature is not checked by the signer, only carried.
func checkpoint(origin string, size int, rootHash []byte) string {
	name, _, _ := strings.Cut(origin, " ")
	return fmt.Sprintf("%s\n%d\n%s\n\n\u2014 %s %s\n", origin, size, base64.StdEncoding.EncodeToString(rootHash),
		name, base64.StdEncoding.EncodeToString([]byte("hint and signature")))
}

// tokenFor registers a token for identity with Fulcio and returns a token
// source that gives it.
func (s *sigstore) tokenFor(identity string) *tokenSource {
	raw := "token-for-" + identity
	s.mu.Lock()
	s.tokens[raw] = identity
	s.mu.Unlock()
	return &tokenSource{tok: &oauth.IDToken{Raw: raw, Subject: identity, Email: identity, Issuer: "https://issuer.example.test"}}
}

// tokenSource is a gitsign.TokenSource that counts its calls.
type tokenSource struct {
	mu    sync.Mutex
	tok   *oauth.IDToken
	err   error
	calls int
}

func (ts *tokenSource) Token(context.Context) (*oauth.IDToken, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.calls++
	if ts.err != nil {
		return nil, ts.err
	}
	return ts.tok, nil
}
