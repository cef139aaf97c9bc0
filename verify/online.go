package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/rekor"
)

// Log finds the transparency log entries of online-mode signatures, which
// embed none: the reference's online mode logs a hashedrekord over
// sha256 of the object id, signed with the certificate's key.
type Log interface {
	// Entries returns hashedrekord entries over an artifact whose SHA-256
	// is digest, recorded with cert. It may return entries that match
	// neither: Verify checks each one itself. Where is the log's address,
	// for messages.
	Entries(ctx context.Context, digest []byte, cert *x509.Certificate) ([]*protorekor.TransparencyLogEntry, error)
	Where() string
}

// online verifies what it can of an online-mode signature without the
// log (the CMS signature, the certificate chain and SCT at the time the
// signature claims), and only then looks its entry up: a signature whose
// certificate no trusted Fulcio issued never causes a request to the log.
// It returns the entry, the signature it records and the artifact (the
// object id).
func (v *Verifier) online(ctx context.Context, p *cms.Parsed, attrs []byte, objectID func() (string, error)) (*protorekor.TransparencyLogEntry, []byte, []byte, error) {
	cert := p.Cert
	if err := cert.CheckSignature(x509.ECDSAWithSHA256, attrs, p.Signer.Signature); err != nil {
		return nil, nil, nil, fail(Bad, cert, "signature does not verify over its signed attributes: %v", err)
	}
	// The signing time is the signer's claim; the log's integrated time,
	// checked by verifyBundle, is what proves it. A forged claim only
	// decides whether this early check passes.
	if _, err := sgverify.VerifyLeafCertificate(p.SigningTime, leafForChain(cert), v.trust); err != nil {
		return nil, nil, nil, fail(Bad, cert, "the certificate does not chain to a trusted Fulcio at the signing time %s: %v", p.SigningTime.UTC().Format("2006-01-02T15:04:05Z"), err)
	}
	if err := v.checkSCT(cert, p.SigningTime); err != nil {
		return nil, nil, nil, fail(Bad, cert, "the certificate's SCT does not verify: %v", err)
	}
	if v.log == nil {
		return nil, nil, nil, fail(Unverifiable, cert, "this signature was made in online mode: its log entry is not embedded and must be looked up in Rekor, which is not configured")
	}
	id, err := objectID()
	if err != nil {
		return nil, nil, nil, fail(Unverifiable, cert, "online-mode signature: %v", err)
	}
	tle, sig, err := v.lookupOnline(ctx, id, cert)
	if err != nil {
		return nil, nil, nil, err
	}
	return tle, sig, []byte(id), nil
}

// lookupOnline finds the Rekor entry an online-mode signature made: a
// hashedrekord over sha256 of the object id, signed by the same
// certificate. Entries must match the artifact AND the certificate: an
// entry for another commit signed with the same cached key, or for this
// commit by someone else, is not this signature's (GHSA-8pmp-678w-c8xx).
func (v *Verifier) lookupOnline(ctx context.Context, objectID string, cert *x509.Certificate) (*protorekor.TransparencyLogEntry, []byte, error) {
	digest := sha256.Sum256([]byte(objectID))
	entries, err := v.log.Entries(ctx, digest[:], cert)
	if err != nil {
		return nil, nil, fail(Unverifiable, cert, "this signature was made in online mode and needs Rekor at %s for its log entry: %v", v.log.Where(), err)
	}
	var last error
	for _, tle := range entries {
		d, sig, pubPEM, err := rekor.HashedRekordV001Parts(tle.CanonicalizedBody)
		if err != nil {
			last = err
			continue
		}
		block, _ := pem.Decode(pubPEM)
		if !bytes.Equal(d, digest[:]) || block == nil || !bytes.Equal(block.Bytes, cert.Raw) {
			last = fmt.Errorf("entry %d is not for this object and certificate", tle.LogIndex)
			continue
		}
		return tle, sig, nil
	}
	if last == nil {
		return nil, nil, fail(Bad, cert, "this signature was made in online mode but Rekor at %s has no entry for object %s", v.log.Where(), objectID)
	}
	return nil, nil, fail(Bad, cert, "this signature was made in online mode but no Rekor entry matches object %s and its certificate: %v", objectID, last)
}
