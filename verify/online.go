package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/gitsign-dev/gitsign/internal/rekor"
)

// lookupOnline finds the Rekor entry an online-mode signature made: a
// hashedrekord over sha256 of the object id, signed by the same
// certificate. Entries must match the artifact AND the certificate: an
// entry for another commit signed with the same cached key, or for this
// commit by someone else, is not this signature's (GHSA-8pmp-678w-c8xx).
func (v *Verifier) lookupOnline(ctx context.Context, objectID string, cert *x509.Certificate) (*protorekor.TransparencyLogEntry, []byte, error) {
	if v.Rekor == nil {
		return nil, nil, fail(Unverifiable, cert, "this signature was made in online mode: its log entry is not embedded and must be looked up in Rekor, which is not configured")
	}
	digest := sha256.Sum256([]byte(objectID))
	uuids, err := v.Rekor.SearchV1(ctx, digest[:])
	if err != nil {
		return nil, nil, fail(Unverifiable, cert, "this signature was made in online mode and needs Rekor at %s, which could not be searched: %v", v.Rekor.URL, err)
	}
	var last error
	for _, uuid := range uuids {
		tle, err := v.Rekor.EntryV1(ctx, uuid)
		if err != nil {
			last = err
			continue
		}
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
		return nil, nil, fail(Bad, cert, "this signature was made in online mode but Rekor at %s has no entry for object %s", v.Rekor.URL, objectID)
	}
	return nil, nil, fail(Bad, cert, "this signature was made in online mode but no Rekor entry matches object %s and its certificate: %v", objectID, last)
}

// describe names a certificate's identity and issuer for messages.
func describe(cert *x509.Certificate) string {
	if cert == nil {
		return "an unknown signer"
	}
	sum, err := certificate.SummarizeCertificate(cert)
	if err != nil {
		return strings.Join(cert.EmailAddresses, ",")
	}
	return fmt.Sprintf("%s (issuer %s)", sum.SubjectAlternativeName, sum.Extensions.Issuer)
}
