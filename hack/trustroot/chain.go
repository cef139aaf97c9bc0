package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// checkChain checks that certs is a certificate authority's chain in the
// trusted_root order: every certificate a CA, each signed by the next, the
// last self-signed. A chain given root first is refused with a hint, since
// sigstore-go would take its issuing CA for the root.
func checkChain(certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return errors.New("no certificate")
	}
	for i, c := range certs {
		if !c.BasicConstraintsValid || !c.IsCA {
			return fmt.Errorf("certificate %d (%s) is not a CA", i+1, c.Subject)
		}
		if i == len(certs)-1 {
			break
		}
		if err := c.CheckSignatureFrom(certs[i+1]); err != nil {
			if len(certs) > 1 && certs[0].CheckSignatureFrom(certs[0]) == nil {
				return fmt.Errorf("certificate %d (%s) is self-signed: put the issuing CA first and the root last", 1, certs[0].Subject)
			}
			return fmt.Errorf("certificate %d (%s) is not signed by certificate %d (%s): %w", i+1, c.Subject, i+2, certs[i+1].Subject, err)
		}
	}
	last := certs[len(certs)-1]
	if err := last.CheckSignatureFrom(last); err != nil {
		return fmt.Errorf("the last certificate (%s) is not a self-signed root: %w", last.Subject, err)
	}
	return nil
}

// sameChain reports whether the Fulcio CA ca holds exactly want
// (intermediates in order, then the root).
func sameChain(ca *root.FulcioCertificateAuthority, want []*x509.Certificate) error {
	got := append(append([]*x509.Certificate{}, ca.Intermediates...), ca.Root)
	if len(got) != len(want) {
		return fmt.Errorf("the Fulcio CA has %d certificate(s), want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].Raw, want[i].Raw) {
			return fmt.Errorf("certificate %d of the Fulcio CA is %s, want %s", i+1, got[i].Subject, want[i].Subject)
		}
	}
	return nil
}
