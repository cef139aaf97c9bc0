package verify

import (
	"errors"
	"fmt"
	"regexp"

	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// Policy says whose signatures to accept: the certificate's identity (its
// SAN) must match one identity rule AND its OIDC issuer one issuer rule.
// Regular expressions must match the whole value.
type Policy struct {
	Identities      []string
	IdentityRegexps []string
	Issuers         []string
	IssuerRegexps   []string
}

// Configured reports whether the policy has any rule at all.
func (p Policy) Configured() bool {
	return len(p.Identities)+len(p.IdentityRegexps)+len(p.Issuers)+len(p.IssuerRegexps) > 0
}

// Complete reports an error unless the policy has at least one identity
// rule and one issuer rule.
func (p Policy) Complete() error {
	if len(p.Identities)+len(p.IdentityRegexps) == 0 {
		return errors.New("no identity rule: set --certificate-identity or --certificate-identity-regexp (or gitsign.certificateIdentity)")
	}
	if len(p.Issuers)+len(p.IssuerRegexps) == 0 {
		return errors.New("no issuer rule: set --certificate-oidc-issuer or --certificate-oidc-issuer-regexp (or gitsign.certificateOIDCIssuer)")
	}
	return nil
}

// anchor makes a regular expression match whole values only.
func anchor(re string) (string, error) {
	a := `^(?:` + re + `)$`
	if _, err := regexp.Compile(a); err != nil {
		return "", fmt.Errorf("bad regular expression %q: %w", re, err)
	}
	return a, nil
}

// identities turns the policy into sigstore-go certificate identities: the
// cross product of identity and issuer rules, any of which may match.
func (p Policy) identities() ([]sgverify.CertificateIdentity, error) {
	if err := p.Complete(); err != nil {
		return nil, err
	}
	type rule struct{ value, re string }
	var sans, issuers []rule
	for _, v := range p.Identities {
		sans = append(sans, rule{value: v})
	}
	for _, r := range p.IdentityRegexps {
		a, err := anchor(r)
		if err != nil {
			return nil, fmt.Errorf("identity: %w", err)
		}
		sans = append(sans, rule{re: a})
	}
	for _, v := range p.Issuers {
		issuers = append(issuers, rule{value: v})
	}
	for _, r := range p.IssuerRegexps {
		a, err := anchor(r)
		if err != nil {
			return nil, fmt.Errorf("issuer: %w", err)
		}
		issuers = append(issuers, rule{re: a})
	}
	var out []sgverify.CertificateIdentity
	for _, s := range sans {
		for _, i := range issuers {
			id, err := sgverify.NewShortCertificateIdentity(i.value, i.re, s.value, s.re)
			if err != nil {
				return nil, err
			}
			out = append(out, id)
		}
	}
	return out, nil
}
