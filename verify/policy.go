package verify

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// Policy says whose signatures to accept. It is either a list of Rules
// (an allowed-signers file: each line one identity from one issuer), or
// the git-config form the reference uses: identity rules and issuer rules,
// where the certificate's identity (its SAN) must match an identity rule
// AND its OIDC issuer an issuer rule. The second form is a cross product,
// so it is accepted only while one side has a single rule: with two
// people from two issuers it would also accept each person as vouched for
// by the other's issuer, pairs nobody configured. Regular expressions
// match the whole value.
type Policy struct {
	Identities      []string
	IdentityRegexps []string
	Issuers         []string
	IssuerRegexps   []string
	// Claims are CI claims (Fulcio's certificate extensions) every
	// signature must carry with exactly these values, as the reference's
	// --certificate-github-workflow-* flags ask; empty fields ask nothing.
	// They apply to the identity and issuer rules above.
	Claims certificate.Extensions

	// Rules are exact identity–issuer pairs, each with its own claims,
	// validity window and object types.
	Rules []Rule
}

// Rule accepts signatures by one identity from one issuer. Identity and
// Issuer are each given as an exact value or as a regular expression that
// must match the whole value (one of the two).
type Rule struct {
	Identity, IdentityRegexp string
	Issuer, IssuerRegexp     string
	// Claims must all be present in the certificate with these values.
	Claims certificate.Extensions
	// ValidAfter and ValidBefore, when not zero, bound the signing time the
	// transparency log or a timestamp authority proves (every such time):
	// ValidAfter <= t < ValidBefore.
	ValidAfter, ValidBefore time.Time
	// Objects limits the rule to "commit" and/or "tag" objects; empty: any.
	Objects []string
	// Origin says where the rule comes from (e.g. ".gitsigners:3"), for
	// messages.
	Origin string
}

// Configured reports whether the policy has any rule at all.
func (p Policy) Configured() bool {
	return len(p.Identities)+len(p.IdentityRegexps)+len(p.Issuers)+len(p.IssuerRegexps)+len(p.Rules) > 0 || p.Claims != (certificate.Extensions{})
}

// PolicyError is a policy that cannot be applied. Missing names the kind
// of rule that is absent ("identity" or "issuer"); Crossed says identity
// and issuer rules were both given more than once; otherwise Rule names
// the rule ("identity regexp", "issuer regexp", a rule's origin) and Value
// is the rule as it was given, which the message quotes unescaped between
// single quotes.
type PolicyError struct {
	Missing string
	Crossed bool
	Rule    string
	Value   string
	Reason  string
}

// Error says what is wrong with the policy.
func (e *PolicyError) Error() string {
	switch {
	case e.Missing != "":
		return fmt.Sprintf("the identity policy has no %s rule", e.Missing)
	case e.Crossed:
		return "the identity policy has several identity rules and several issuer rules, which would accept every combination of them, pairs nobody configured"
	case e.Value == "":
		return fmt.Sprintf("%s: %s", e.Rule, e.Reason)
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

// rule is a compiled Rule: a sigstore-go certificate identity with the
// conditions sigstore-go does not check.
type rule struct {
	id                      sgverify.CertificateIdentity
	validAfter, validBefore time.Time
	objects                 []string
	origin                  string
}

// compile turns the policy into rules, each regular expression anchored.
func (p Policy) compile() ([]rule, error) {
	legacy := len(p.Identities)+len(p.IdentityRegexps)+len(p.Issuers)+len(p.IssuerRegexps) > 0 || p.Claims != (certificate.Extensions{})
	if legacy && len(p.Rules) > 0 {
		return nil, &PolicyError{Rule: "identity policy", Reason: "identity and issuer rules cannot be combined with allowed-signers rules; put them all in the allowed-signers file"}
	}
	rules := p.Rules
	if legacy {
		var err error
		if rules, err = p.pairs(); err != nil {
			return nil, err
		}
	}
	out := make([]rule, 0, len(rules))
	for _, r := range rules {
		c, err := r.compile()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// configOrigin is the Origin of rules from the git-config (or flag) form.
const configOrigin = "the identity policy"

// pairs turns identity and issuer rules into Rules: each identity rule
// with each issuer rule, which is a set of pairs only while one side has
// a single rule.
func (p Policy) pairs() ([]Rule, error) {
	type side struct{ value, re string }
	var ids, issuers []side
	for _, v := range p.Identities {
		ids = append(ids, side{value: v})
	}
	for _, r := range p.IdentityRegexps {
		ids = append(ids, side{re: r})
	}
	for _, v := range p.Issuers {
		issuers = append(issuers, side{value: v})
	}
	for _, r := range p.IssuerRegexps {
		issuers = append(issuers, side{re: r})
	}
	switch {
	case len(ids) == 0:
		return nil, &PolicyError{Missing: "identity"}
	case len(issuers) == 0:
		return nil, &PolicyError{Missing: "issuer"}
	case len(ids) > 1 && len(issuers) > 1:
		return nil, &PolicyError{Crossed: true}
	}
	var out []Rule
	for _, id := range ids {
		for _, is := range issuers {
			out = append(out, Rule{Identity: id.value, IdentityRegexp: id.re, Issuer: is.value, IssuerRegexp: is.re, Claims: p.Claims, Origin: configOrigin})
		}
	}
	return out, nil
}

func (r Rule) compile() (rule, error) {
	origin := r.Origin
	if origin == "" {
		origin = "rule"
	}
	if (r.Identity == "") == (r.IdentityRegexp == "") {
		return rule{}, &PolicyError{Rule: origin, Reason: "give the identity as exactly one of a value or a regular expression"}
	}
	if (r.Issuer == "") == (r.IssuerRegexp == "") {
		return rule{}, &PolicyError{Rule: origin, Reason: "give the issuer as exactly one of a value or a regular expression"}
	}
	if r.Claims.Issuer != "" {
		return rule{}, &PolicyError{Rule: origin, Reason: "the issuer is not a claim: give it as the issuer"}
	}
	if !r.ValidAfter.IsZero() && !r.ValidBefore.IsZero() && !r.ValidAfter.Before(r.ValidBefore) {
		return rule{}, &PolicyError{Rule: origin, Reason: "its validity window is empty (valid-after is not before valid-before)"}
	}
	for _, o := range r.Objects {
		if o != "commit" && o != "tag" {
			return rule{}, &PolicyError{Rule: origin, Value: o, Reason: `not an object type (want "commit" or "tag")`}
		}
	}
	idRe, issuerRe := r.IdentityRegexp, r.IssuerRegexp
	var err error
	if idRe != "" {
		if idRe, err = anchor(regexpRule(r.Origin, "identity regexp"), idRe); err != nil {
			return rule{}, err
		}
	}
	if issuerRe != "" {
		if issuerRe, err = anchor(regexpRule(r.Origin, "issuer regexp"), issuerRe); err != nil {
			return rule{}, err
		}
	}
	san, err := sgverify.NewSANMatcher(r.Identity, idRe)
	if err != nil {
		return rule{}, &PolicyError{Rule: origin, Reason: err.Error()}
	}
	issuer, err := sgverify.NewIssuerMatcher(r.Issuer, issuerRe)
	if err != nil {
		return rule{}, &PolicyError{Rule: origin, Reason: err.Error()}
	}
	id, err := sgverify.NewCertificateIdentity(san, issuer, r.Claims)
	if err != nil {
		return rule{}, &PolicyError{Rule: origin, Reason: err.Error()}
	}
	return rule{id: id, validAfter: r.ValidAfter, validBefore: r.ValidBefore, objects: r.Objects, origin: origin}, nil
}

// regexpRule names a regular expression for messages: the git-config and
// flag forms by their kind, allowed-signers lines by their origin.
func regexpRule(origin, kind string) string {
	if origin == "" || origin == configOrigin {
		return kind
	}
	return origin + ": " + kind
}

// appliesTo reports whether the rule covers objects of type typ.
func (r rule) appliesTo(typ string) bool {
	return len(r.objects) == 0 || slices.Contains(r.objects, typ)
}

// inWindow reports whether every proven signing time lies in the rule's
// validity window.
func (r rule) inWindow(times []time.Time) bool {
	for _, t := range times {
		if !r.validAfter.IsZero() && t.Before(r.validAfter) {
			return false
		}
		if !r.validBefore.IsZero() && !t.Before(r.validBefore) {
			return false
		}
	}
	return true
}
