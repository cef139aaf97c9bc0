package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/internal/dsse"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// Envelope is a DSSE envelope with one signature (an attestation), and
// what verifies it with no network.
type Envelope struct {
	PayloadType string
	Payload     []byte
	Signature   []byte
	Cert        *x509.Certificate
	// Entry is the transparency log entry: dsse v0.0.1 with its body
	// (Rekor v1), or hashedrekord v0.0.2 over SHA-256 of the envelope's
	// pre-authentication encoding (Rekor v2).
	Entry *protorekor.TransparencyLogEntry
	// Timestamp is a DER TimeStampToken over Signature, or nil.
	Timestamp []byte
}

// VerifyEnvelope checks a DSSE envelope the way Verify checks a commit's
// signature: sigstore-go verifies the signature over the envelope's
// pre-authentication encoding, the log entry and its proof, any
// timestamp, the certificate chain at the verified times and who signed
// (the policy's rules that cover objectType: "commit", "tag", or "" for
// rules that cover every object). gitsign checks the entry's fields that
// no signature covers (rekor.CheckBinding) and that its body is the one
// the log records for this envelope, and the SCT.
//
// A nil error means the payload is authentic; what it says (the
// statement's subject, its predicate type) is the caller's to check.
func (v *Verifier) VerifyEnvelope(e Envelope, objectType string) (*Result, error) {
	cert := e.Cert
	switch {
	case cert == nil:
		return nil, fail(Unverifiable, nil, "attestation: no signing certificate")
	case e.Entry == nil:
		return nil, fail(Unverifiable, cert, "attestation: no transparency log entry")
	case e.PayloadType == "" || len(e.Signature) == 0:
		return nil, fail(Unverifiable, cert, "attestation: envelope has no payload type or no signature")
	}
	var timestamps [][]byte
	if e.Timestamp != nil {
		if err := tsa.CheckTokenForm(e.Timestamp); err != nil {
			return nil, fail(Unverifiable, cert, "attestation: %v", err)
		}
		timestamps = append(timestamps, tsa.Response(e.Timestamp))
	}
	if err := envelopeEntry(e); err != nil {
		return nil, fail(Bad, cert, "attestation: %v", err)
	}
	env := &protodsse.Envelope{
		Payload:     e.Payload,
		PayloadType: e.PayloadType,
		Signatures:  []*protodsse.Signature{{Sig: e.Signature}},
	}
	return v.verifyBundle(cert, content{env: env}, e.Entry, timestamps, nil, objectType)
}

// envelopeEntry checks that e's log entry is one the log makes for e, in
// its one form: its unsigned fields equal the signed values
// (rekor.CheckBinding), and its body is what the log records for this
// envelope and certificate: for Rekor v2, rebuilt and compared byte for
// byte; for Rekor v1 (whose SET signs the body), read and compared field
// by field, since Rekor's canonical form of a dsse entry also holds the
// hash of the envelope as it was sent.
func envelopeEntry(e Envelope) error {
	tle := e.Entry
	if err := rekor.CheckCheckpointForm(tle); err != nil {
		return err
	}
	if err := rekor.CheckBinding(tle); err != nil {
		return err
	}
	pae := dsse.PAE(e.PayloadType, e.Payload)
	switch kv := tle.GetKindVersion(); kv.GetKind() + "/" + kv.GetVersion() {
	case "hashedrekord/0.0.2":
		digest := sha256.Sum256(pae)
		body, err := rekor.HashedRekordV002(digest[:], e.Signature, e.Cert)
		if err != nil {
			return err
		}
		if !bytes.Equal(tle.GetCanonicalizedBody(), body) {
			return errors.New("log entry: its canonicalized_body is not the body Rekor v2 logs for this envelope and certificate")
		}
	case "dsse/0.0.1":
		return checkDSSEBody(tle.GetCanonicalizedBody(), e)
	default:
		return fmt.Errorf("log entry is a %s/%s, want dsse/0.0.1 (Rekor v1) or hashedrekord/0.0.2 (Rekor v2)", kv.GetKind(), kv.GetVersion())
	}
	return nil
}

// checkDSSEBody checks a Rekor v1 dsse v0.0.1 body against the envelope:
// the payload's hash, the one signature and the certificate it names.
func checkDSSEBody(body []byte, e Envelope) error {
	payloadHash, sigs, pubPEM, err := rekor.DSSEV001Parts(body)
	if err != nil {
		return fmt.Errorf("log entry: %w", err)
	}
	sum := sha256.Sum256(e.Payload)
	switch {
	case !bytes.Equal(payloadHash, sum[:]):
		return errors.New("log entry: its payload hash is not the envelope's")
	case len(sigs) != 1:
		return fmt.Errorf("log entry holds %d signatures, want 1", len(sigs))
	case !bytes.Equal(sigs[0], e.Signature):
		return errors.New("log entry: its signature is not the envelope's")
	case !bytes.Equal(pubPEM[0], pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Cert.Raw})):
		return errors.New("log entry: its certificate is not the envelope's")
	}
	return nil
}
