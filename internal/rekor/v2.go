package rekor

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// uploadV2 posts a hashedrekord v0.0.2 request to a Rekor v2 log, which
// answers synchronously with the entry, its inclusion proof and checkpoint.
// Rekor v2 gives no signed time: a timestamp authority must vouch for it.
func (c *Client) uploadV2(ctx context.Context, digest, sig []byte, cert *x509.Certificate) (*protorekor.TransparencyLogEntry, error) {
	type verifier struct {
		X509Certificate struct {
			RawBytes string `json:"rawBytes"`
		} `json:"x509Certificate"`
		KeyDetails string `json:"keyDetails"`
	}
	var req struct {
		HashedRekord struct {
			Digest    string `json:"digest"`
			Signature struct {
				Content  string   `json:"content"`
				Verifier verifier `json:"verifier"`
			} `json:"signature"`
		} `json:"hashedRekordRequestV002"`
	}
	req.HashedRekord.Digest = base64.StdEncoding.EncodeToString(digest)
	req.HashedRekord.Signature.Content = base64.StdEncoding.EncodeToString(sig)
	req.HashedRekord.Signature.Verifier.X509Certificate.RawBytes = base64.StdEncoding.EncodeToString(cert.Raw)
	req.HashedRekord.Signature.Verifier.KeyDetails = "PKIX_ECDSA_P256_SHA_256"
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hdr := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	resp, err := c.HTTP.Do(ctx, http.MethodPost, c.base()+"/api/v2/log/entries", body, hdr)
	if err != nil {
		return nil, fmt.Errorf("rekor v2: %w", err)
	}
	var tle protorekor.TransparencyLogEntry
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(resp.Body, &tle); err != nil {
		return nil, fmt.Errorf("rekor v2: malformed answer: %w", err)
	}
	if tle.InclusionProof == nil || tle.InclusionProof.Checkpoint == nil || tle.InclusionProof.Checkpoint.Envelope == "" {
		return nil, errors.New("rekor v2: entry lacks its inclusion proof or checkpoint")
	}
	if tle.KindVersion == nil || tle.KindVersion.Kind != "hashedrekord" {
		return nil, fmt.Errorf("rekor v2: unexpected entry kind %v", tle.KindVersion)
	}
	return &tle, nil
}

// HashedRekordV002 returns the canonicalized body Rekor v2 logs for a
// hashedrekord v0.0.2 entry over an artifact whose SHA-256 is digest,
// signed with sig (ECDSA P-256, SHA-256) under cert: the entry's protobuf
// JSON form in RFC 8785 canonical JSON, the bytes whose RFC 6962 leaf
// hash the log's tree holds. A verifier rebuilds it from the signature
// and compares, rather than trust the body an embedded entry carries.
//
// Canonical JSON sorts keys and writes strings minimally escaped; every
// value here is a fixed ASCII word or standard base64, which JSON writes
// as is, so the struct fields below are simply declared in sorted order.
func HashedRekordV002(digest, sig []byte, cert *x509.Certificate) ([]byte, error) {
	type (
		data struct {
			Algorithm string `json:"algorithm"`
			Digest    string `json:"digest"`
		}
		verifier struct {
			KeyDetails      string `json:"keyDetails"`
			X509Certificate struct {
				RawBytes string `json:"rawBytes"`
			} `json:"x509Certificate"`
		}
		signature struct {
			Content  string   `json:"content"`
			Verifier verifier `json:"verifier"`
		}
	)
	var e struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			HashedRekordV002 struct {
				Data      data      `json:"data"`
				Signature signature `json:"signature"`
			} `json:"hashedRekordV002"`
		} `json:"spec"`
	}
	if len(digest) != 32 || len(sig) == 0 || cert == nil {
		return nil, errors.New("rekor: a hashedrekord v0.0.2 body needs a SHA-256 digest, a signature and a certificate")
	}
	e.APIVersion, e.Kind = "0.0.2", "hashedrekord"
	hr := &e.Spec.HashedRekordV002
	hr.Data = data{Algorithm: "SHA2_256", Digest: base64.StdEncoding.EncodeToString(digest)}
	hr.Signature.Content = base64.StdEncoding.EncodeToString(sig)
	hr.Signature.Verifier.KeyDetails = "PKIX_ECDSA_P256_SHA_256"
	hr.Signature.Verifier.X509Certificate.RawBytes = base64.StdEncoding.EncodeToString(cert.Raw)
	return json.Marshal(e)
}
