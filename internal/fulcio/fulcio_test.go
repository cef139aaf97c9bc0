package fulcio

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/testcert"
)

// fakeFulcio checks the request the way Fulcio does (bearer token, proof
// of possession over the subject) and issues a certificate for the key.
func fakeFulcio(t *testing.T, subject string) *httptest.Server {
	ca, caKey := testcert.New(t, testcert.Options{CommonName: "ca", IsCA: true, NotAfter: time.Now().Add(time.Hour)})
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/signingCert" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, `{"code":16,"message":"unauthenticated"}`, http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req certRequest
		json.Unmarshal(body, &req)
		block, _ := pem.Decode([]byte(req.PublicKeyRequest.PublicKey.Content))
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			http.Error(w, `{"message":"bad key"}`, 400)
			return
		}
		pop, _ := base64.StdEncoding.DecodeString(req.PublicKeyRequest.ProofOfPossession)
		h := sha256.Sum256([]byte(subject))
		if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), h[:], pop) {
			http.Error(w, `{"code":3,"message":"The signature supplied in the request could not be verified"}`, 400)
			return
		}
		leaf, _, err := testcert.Make(testcert.Options{Serial: 2, PublicKey: pub, Parent: ca, ParentKey: caKey})
		if err != nil {
			http.Error(w, `{"message":"`+err.Error()+`"}`, 500)
			return
		}
		p := func(der []byte) string {
			return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		}
		json.NewEncoder(w).Encode(map[string]any{"signedCertificateEmbeddedSct": map[string]any{
			"chain": map[string]any{"certificates": []string{p(leaf.Raw), p(ca.Raw)}}}})
	}))
}

func TestSigningCert(t *testing.T) {
	srv := fakeFulcio(t, "alice@example.test")
	defer srv.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c := &Client{URL: srv.URL, HTTP: httpx.New(time.Second)}
	chain, err := c.SigningCert(context.Background(), "tok", "alice@example.test", key)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 2 || !chain[0].PublicKey.(*ecdsa.PublicKey).Equal(key.Public()) || !chain[1].IsCA {
		t.Errorf("chain of %d, want leaf for our key then the CA", len(chain))
	}
	// A proof of possession over another subject is refused, with Fulcio's words.
	_, err = c.SigningCert(context.Background(), "tok", "mallory@example.test", key)
	if err == nil || !strings.Contains(err.Error(), "fulcio refused the certificate request (400): The signature supplied") {
		t.Errorf("err = %v", err)
	}
	if _, err = c.SigningCert(context.Background(), "other", "alice@example.test", key); err == nil || !strings.Contains(err.Error(), "(401): unauthenticated") {
		t.Errorf("err = %v", err)
	}
}

func TestParseChainRejectsOtherKey(t *testing.T) {
	srv := fakeFulcio(t, "s")
	defer srv.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c := &Client{URL: srv.URL, HTTP: httpx.New(time.Second)}
	chain, err := c.SigningCert(context.Background(), "tok", "s", key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"signedCertificateDetachedSct": map[string]any{"chain": map[string]any{
		"certificates": []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[0].Raw}))}}}})
	if _, err := parseChain(body, other); err == nil || !strings.Contains(err.Error(), "not for our key") {
		t.Errorf("err = %v", err)
	}
	for _, b := range []string{`{}`, `{"signedCertificateEmbeddedSct":{"chain":{"certificates":["junk"]}}}`, `nope`} {
		if _, err := parseChain([]byte(b), key); err == nil {
			t.Errorf("accepted %s", b)
		}
	}
}

func FuzzParseChain(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Add([]byte(`{"signedCertificateEmbeddedSct":{"chain":{"certificates":["-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n"]}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		chain, err := parseChain(body, key)
		if err != nil {
			return
		}
		// Property: a chain is only ever returned for our own key.
		if len(chain) == 0 || !chain[0].PublicKey.(*ecdsa.PublicKey).Equal(key.Public()) {
			t.Fatal("returned a chain that is not for our key")
		}
	})
}
