// Package certinfo names who a Fulcio certificate certifies: its subject
// alternative name and the OIDC issuer that vouched for it, read the way
// sigstore-go reads them when it matches an identity policy. Every message
// and report that names a signer goes through it, so they all agree.
package certinfo

import (
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// Unknown stands for an identity or issuer a certificate does not carry.
const Unknown = "(unknown)"

// Signer is a certificate's identity and issuer.
type Signer struct {
	Identity string // the SAN: first URI, else first email, else otherName
	Issuer   string // the OIDC issuer extension
	// Extensions are all of Fulcio's extensions, for claim checks.
	Extensions certificate.Extensions
}

// Of reads cert's identity and issuer.
func Of(cert *x509.Certificate) (Signer, error) {
	sum, err := certificate.SummarizeCertificate(cert)
	if err != nil {
		return Signer{}, err
	}
	return Signer{Identity: sum.SubjectAlternativeName, Issuer: sum.Extensions.Issuer, Extensions: sum.Extensions}, nil
}

// Names returns cert's identity and issuer, with Unknown for what it
// does not carry or cannot be read.
func Names(cert *x509.Certificate) (identity, issuer string) {
	identity, issuer = Unknown, Unknown
	if cert == nil {
		return
	}
	s, err := Of(cert)
	if err != nil {
		if len(cert.EmailAddresses) > 0 {
			identity = strings.Join(cert.EmailAddresses, ",")
		}
		return
	}
	if s.Identity != "" {
		identity = s.Identity
	}
	if s.Issuer != "" {
		issuer = s.Issuer
	}
	return
}

// Describe names cert's signer for a message: "IDENTITY (issuer ISSUER)".
func Describe(cert *x509.Certificate) string {
	if cert == nil {
		return "an unknown signer"
	}
	id, iss := Names(cert)
	// ASCII: a look-alike letter (a Cyrillic а for a Latin a) shows.
	return fmt.Sprintf("%s (issuer %s)", printable.ASCII(id), printable.ASCII(iss))
}
