package verify

import (
	"fmt"
	"regexp/syntax"

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

// PolicyError is a policy that cannot be applied. Missing names the kind
// of rule that is absent ("identity" or "issuer"); otherwise Rule names
// the rule ("identity regexp", "issuer regexp") and Value is the rule as
// it was given, which the message quotes unescaped between single quotes.
type PolicyError struct {
	Missing string
	Rule    string
	Value   string
	Reason  string
}

func (e *PolicyError) Error() string {
	if e.Missing != "" {
		return fmt.Sprintf("the identity policy has no %s rule", e.Missing)
	}
	return fmt.Sprintf("%s '%s': %s", e.Rule, e.Value, e.Reason)
}

// Complete reports a *PolicyError unless the policy has at least one
// identity rule and one issuer rule and every regular expression compiles.
func (p Policy) Complete() error {
	_, err := p.compile()
	return err
}

// anchor returns a regular expression that matches exactly the whole
// values re matches. re is parsed on its own first, so text like
// `a)|(.*` cannot close the anchoring group and escape it; the anchored
// expression is built from the parse, not by pasting re between ^(?: and
// )$ (which would also change the meaning of `\Q...` quoting). It returns
// a *PolicyError, quoting re, when re does not compile or cannot be
// written back faithfully.
func anchor(rule, re string) (string, error) {
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return "", &PolicyError{Rule: rule, Value: re, Reason: "not a valid regular expression: " + err.Error()}
	}
	body := parsed.String()
	if again, err := syntax.Parse(body, syntax.Perl); err != nil || !again.Equal(parsed) {
		return "", &PolicyError{Rule: rule, Value: re, Reason: "cannot be anchored without changing its meaning; write it more simply"}
	}
	return `^(?:` + body + `)$`, nil
}

// compile turns the policy into sigstore-go certificate identities, each
// regular expression anchored: the cross product of identity and issuer
// rules, any of which may match.
func (p Policy) compile() ([]sgverify.CertificateIdentity, error) {
	type rule struct{ value, re string }
	var sans, issuers []rule
	for _, v := range p.Identities {
		sans = append(sans, rule{value: v})
	}
	for _, r := range p.IdentityRegexps {
		a, err := anchor("identity regexp", r)
		if err != nil {
			return nil, err
		}
		sans = append(sans, rule{re: a})
	}
	for _, v := range p.Issuers {
		issuers = append(issuers, rule{value: v})
	}
	for _, r := range p.IssuerRegexps {
		a, err := anchor("issuer regexp", r)
		if err != nil {
			return nil, err
		}
		issuers = append(issuers, rule{re: a})
	}
	if len(sans) == 0 {
		return nil, &PolicyError{Missing: "identity"}
	}
	if len(issuers) == 0 {
		return nil, &PolicyError{Missing: "issuer"}
	}
	var out []sgverify.CertificateIdentity
	for _, s := range sans {
		for _, i := range issuers {
			id, err := sgverify.NewShortCertificateIdentity(i.value, i.re, s.value, s.re)
			if err != nil {
				return nil, &PolicyError{Rule: "identity policy", Value: s.value + s.re + " " + i.value + i.re, Reason: err.Error()}
			}
			out = append(out, id)
		}
	}
	return out, nil
}
