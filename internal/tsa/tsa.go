// Package tsa gets RFC 3161 timestamp tokens from a timestamp authority.
//
// gitsign timestamps the CMS signature value: the token's message imprint
// is SHA-256 over SignerInfo.signature, and the token is stored in the
// unsigned attribute id-aa-timeStampToken.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"

	"github.com/digitorus/timestamp"

	"github.com/gitsign-dev/gitsign/internal/httpx"
)

// OIDTimeStampToken is id-aa-timeStampToken (RFC 3161 appendix A).
var OIDTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

// Client talks to one timestamp authority.
type Client struct {
	URL  string // e.g. https://timestamp.example/api/v1/timestamp
	HTTP *httpx.Client
}

// Timestamp returns a DER TimeStampToken (a CMS ContentInfo) over
// SHA-256(signature), after checking that the authority granted it and that
// it answers this request (imprint and nonce).
func (c *Client) Timestamp(ctx context.Context, signature []byte) ([]byte, error) {
	imprint := sha256.Sum256(signature)
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	req := timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: imprint[:], Nonce: nonce, Certificates: true}
	body, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("tsa: encoding request: %w", err)
	}
	hdr := http.Header{"Content-Type": {"application/timestamp-query"}, "Accept": {"application/timestamp-reply"}}
	resp, err := c.HTTP.Do(ctx, http.MethodPost, c.URL, body, hdr)
	if err != nil {
		return nil, fmt.Errorf("timestamp authority: %w", err)
	}
	ts, err := timestamp.ParseResponse(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("timestamp authority: bad answer: %w", err)
	}
	if !bytes.Equal(ts.HashedMessage, imprint[:]) || ts.HashAlgorithm != crypto.SHA256 {
		return nil, errors.New("timestamp authority: token is not over our signature")
	}
	if ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, errors.New("timestamp authority: token does not answer our nonce")
	}
	if len(ts.RawToken) == 0 {
		return nil, errors.New("timestamp authority: answer holds no token")
	}
	return ts.RawToken, nil
}

// granted is the PKIStatusInfo of a granted answer: SEQUENCE { INTEGER 0 }.
var granted = []byte{0x30, 0x03, 0x02, 0x01, 0x00}

// Response wraps a TimeStampToken in the TimeStampResp (status granted)
// that Sigstore bundles and sigstore-go carry.
func Response(token []byte) []byte {
	out, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: append(slices.Clip(granted), token...)})
	return out
}

// TokenOf returns the TimeStampToken of a TimeStampResp in the one form
// Response makes: status granted, nothing else in the status, and the
// token.
func TokenOf(resp []byte) ([]byte, error) {
	var seq asn1.RawValue
	rest, err := asn1.Unmarshal(resp, &seq)
	if err != nil || len(rest) != 0 || seq.Tag != asn1.TagSequence || seq.Class != asn1.ClassUniversal || !seq.IsCompound {
		return nil, errors.New("timestamp: not a DER TimeStampResp")
	}
	token, ok := bytes.CutPrefix(seq.Bytes, granted)
	if !ok || len(token) == 0 {
		return nil, errors.New("timestamp: TimeStampResp is not a granted answer holding a token")
	}
	if !bytes.Equal(Response(token), resp) {
		return nil, errors.New("timestamp: TimeStampResp is not in canonical DER")
	}
	return token, nil
}
