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

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/internal/httpx"
)

// UploadDSSE records a DSSE envelope, signed with cert's key, the way
// sigstore-go verifies it against each log:
//
//   - Rekor v1: a dsse v0.0.1 entry proposing envelope (the envelope's
//     JSON) with cert as its verifier. Rekor stores the payload's hash and
//     the signature; the entry's body is kept, and covered by the SET.
//   - Rekor v2: a hashedrekord v0.0.2 over SHA-256 of pae (the envelope's
//     pre-authentication encoding, what sig signs).
func (c *Client) UploadDSSE(ctx context.Context, envelope, pae, sig []byte, cert *x509.Certificate) (*protorekor.TransparencyLogEntry, error) {
	switch c.Version {
	case 0, 1:
		return c.uploadDSSEV1(ctx, envelope, cert)
	case 2:
		digest := sha256.Sum256(pae)
		return c.uploadV2(ctx, digest[:], sig, cert)
	}
	return nil, fmt.Errorf("rekor: unknown log version %d", c.Version)
}

// DSSEV001 returns the dsse v0.0.1 proposed entry for envelope, verified
// by cert.
func DSSEV001(envelope []byte, cert *x509.Certificate) ([]byte, error) {
	if len(envelope) == 0 || cert == nil {
		return nil, errors.New("rekor: a dsse entry needs an envelope and a certificate")
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	var e struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			ProposedContent struct {
				Envelope  string   `json:"envelope"`
				Verifiers []string `json:"verifiers"`
			} `json:"proposedContent"`
		} `json:"spec"`
	}
	e.APIVersion, e.Kind = "0.0.1", "dsse"
	e.Spec.ProposedContent.Envelope = string(envelope)
	e.Spec.ProposedContent.Verifiers = []string{base64.StdEncoding.EncodeToString(certPEM)}
	return json.Marshal(e)
}

// uploadDSSEV1 posts a dsse v0.0.1 entry to a Rekor v1 log and returns the
// entry with its body, inclusion proof and signed entry timestamp.
func (c *Client) uploadDSSEV1(ctx context.Context, envelope []byte, cert *x509.Certificate) (*protorekor.TransparencyLogEntry, error) {
	body, err := DSSEV001(envelope, cert)
	if err != nil {
		return nil, err
	}
	hdr := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	resp, err := c.HTTP.Do(ctx, http.MethodPost, c.base()+"/api/v1/log/entries", body, hdr)
	var se *httpx.StatusError
	if errors.As(err, &se) && se.Status == http.StatusConflict {
		return c.entryV1(ctx, se.Location)
	}
	if err != nil {
		return nil, fmt.Errorf("rekor: %w", err)
	}
	tle, err := parseEntriesV1(resp.Body)
	if err != nil {
		return nil, err
	}
	if kv := tle.GetKindVersion(); kv.GetKind() != "dsse" || kv.GetVersion() != "0.0.1" {
		return nil, fmt.Errorf("rekor: logged a %s/%s entry, want dsse/0.0.1", kv.GetKind(), kv.GetVersion())
	}
	return tle, nil
}

// DSSEV001Parts reads a dsse v0.0.1 body as Rekor v1 logs it: the
// SHA-256 of the envelope's payload, and each signature with the
// certificate (or key) PEM that verifies it.
func DSSEV001Parts(body []byte) (payloadHash []byte, sigs, pubPEMs [][]byte, err error) {
	var e struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			PayloadHash struct{ Algorithm, Value string } `json:"payloadHash"`
			Signatures  []struct {
				Signature []byte `json:"signature"`
				Verifier  []byte `json:"verifier"`
			} `json:"signatures"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, nil, nil, fmt.Errorf("rekor: malformed entry body: %w", err)
	}
	if e.Kind != "dsse" || e.APIVersion != "0.0.1" || e.Spec.PayloadHash.Algorithm != "sha256" {
		return nil, nil, nil, fmt.Errorf("rekor: entry is %s/%s over %s, want dsse/0.0.1 over sha256", e.Kind, e.APIVersion, e.Spec.PayloadHash.Algorithm)
	}
	if payloadHash, err = hex.DecodeString(e.Spec.PayloadHash.Value); err != nil || len(payloadHash) != sha256.Size {
		return nil, nil, nil, errors.New("rekor: bad payload hash in entry")
	}
	for _, s := range e.Spec.Signatures {
		sigs, pubPEMs = append(sigs, s.Signature), append(pubPEMs, s.Verifier)
	}
	return payloadHash, sigs, pubPEMs, nil
}
