package gitsign

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/dsse"
)

// Envelope is a signed DSSE envelope (an attestation) and what verifies it
// with no network: the certificate, the log entry with its proof, and an
// RFC 3161 timestamp when a timestamp authority vouched for it.
type Envelope struct {
	PayloadType string
	Payload     []byte
	// Signature is the DSSE signature: ECDSA P-256 with SHA-256 over
	// PAE(PayloadType, Payload).
	Signature []byte
	// JSON is the envelope as DSSE writes it and as it was logged:
	// {"payloadType","payload","signatures":[{"keyid":"","sig"}]}.
	JSON  []byte
	Cert  *x509.Certificate
	Entry *protorekor.TransparencyLogEntry
	// Timestamp is a DER TimeStampToken over Signature; nil without a
	// timestamp authority.
	Timestamp []byte
}

// SignEnvelope signs payload, of type payloadType, as a DSSE envelope with
// cred, has the timestamp authority (when configured) vouch for the
// signature, and records the envelope in the transparency log. It works in
// either Mode: the entry is always returned for the caller to keep.
func (s *Signer) SignEnvelope(ctx context.Context, cred *cache.Credential, payloadType string, payload []byte) (*Envelope, error) {
	if !complete(cred) {
		return nil, ErrNoCredential
	}
	if payloadType == "" {
		return nil, errors.New("a DSSE envelope needs a payload type")
	}
	leaf := cred.Leaf()
	pae := dsse.PAE(payloadType, payload)
	digest := sha256.Sum256(pae)
	sig, err := cred.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	env := &Envelope{PayloadType: payloadType, Payload: payload, Signature: sig, Cert: leaf}
	if env.JSON, err = dsse.Marshal(payloadType, payload, sig); err != nil {
		return nil, err
	}
	if s.tsa != nil {
		done := s.step("getting a timestamp from the timestamp authority")
		env.Timestamp, err = s.tsa.Timestamp(ctx, sig)
		done(err)
		if err != nil {
			return nil, &StageError{Stage: StageTimestamp, Err: err}
		}
	}
	done := s.step("recording the attestation in the transparency log")
	env.Entry, err = s.log.UploadDSSE(ctx, env.JSON, pae, sig, leaf)
	done(err)
	if err != nil {
		return nil, &StageError{Stage: StageLog, Err: err}
	}
	return env, nil
}
