// Package fulcio asks a Fulcio certificate authority for a short-lived code
// signing certificate over an ephemeral key, through Fulcio's v2 API
// (POST /api/v2/signingCert) with proof of possession of the key.
package fulcio

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/httpx"
)

// Client talks to one Fulcio instance.
type Client struct {
	URL  string // base URL, e.g. https://fulcio.sigstore.dev
	HTTP *httpx.Client
}

type certRequest struct {
	PublicKeyRequest struct {
		PublicKey struct {
			Algorithm string `json:"algorithm"`
			Content   string `json:"content"`
		} `json:"publicKey"`
		ProofOfPossession string `json:"proofOfPossession"`
	} `json:"publicKeyRequest"`
}

type chain struct {
	Chain struct {
		Certificates []string `json:"certificates"`
	} `json:"chain"`
}

type certResponse struct {
	Embedded *chain `json:"signedCertificateEmbeddedSct"`
	Detached *chain `json:"signedCertificateDetachedSct"`
}

// SigningCert requests a certificate for key. token is the raw OIDC ID token
// and subject the identity it names (its email, or else its sub claim),
// which the key signs to prove possession. It returns the chain Fulcio sent,
// leaf first.
func (c *Client) SigningCert(ctx context.Context, token, subject string, key *ecdsa.PrivateKey) ([]*x509.Certificate, error) {
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("fulcio: encoding public key: %w", err)
	}
	h := sha256.Sum256([]byte(subject))
	pop, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("fulcio: proof of possession: %w", err)
	}
	var req certRequest
	req.PublicKeyRequest.PublicKey.Algorithm = "ECDSA"
	req.PublicKeyRequest.PublicKey.Content = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
	req.PublicKeyRequest.ProofOfPossession = base64.StdEncoding.EncodeToString(pop)
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Accept", "application/json")
	hdr.Set("Authorization", "Bearer "+token)
	url := strings.TrimRight(c.URL, "/") + "/api/v2/signingCert"
	resp, err := c.HTTP.Do(ctx, http.MethodPost, url, body, hdr)
	if err != nil {
		var se *httpx.StatusError
		if errors.As(err, &se) && se.Status >= 400 && se.Status < 500 {
			return nil, fmt.Errorf("fulcio refused the certificate request (%d): %s", se.Status, serverMessage(se.Body))
		}
		return nil, fmt.Errorf("fulcio: %w", err)
	}
	return parseChain(resp.Body, key)
}

func parseChain(body []byte, key *ecdsa.PrivateKey) ([]*x509.Certificate, error) {
	var cr certResponse
	if err := json.Unmarshal(body, &cr); err != nil {
		return nil, fmt.Errorf("fulcio: malformed response: %w", err)
	}
	src := cr.Embedded
	if src == nil {
		src = cr.Detached
	}
	if src == nil || len(src.Chain.Certificates) == 0 {
		return nil, errors.New("fulcio: response holds no certificate")
	}
	var certs []*x509.Certificate
	for i, p := range src.Chain.Certificates {
		rest := []byte(p)
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("fulcio: certificate %d: %w", i, err)
			}
			certs = append(certs, cert)
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("fulcio: response holds no PEM certificate")
	}
	leafKey, ok := certs[0].PublicKey.(*ecdsa.PublicKey)
	if !ok || !leafKey.Equal(key.Public()) {
		return nil, errors.New("fulcio: the certificate returned is not for our key")
	}
	return certs, nil
}

// serverMessage extracts the "message" of a gRPC-gateway error body.
func serverMessage(body string) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(body), &e) == nil && e.Message != "" {
		return e.Message
	}
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	return strings.TrimSpace(body)
}
