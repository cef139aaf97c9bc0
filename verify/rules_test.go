package verify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

const (
	google  = "https://accounts.google.com"
	actions = "https://token.actions.githubusercontent.com"
)

// TestRulesArePairs: two people from two issuers accept each person only
// from their own issuer, never the crossed combinations.
func TestRulesArePairs(t *testing.T) {
	vec := vectors(t, "commits")[0] // billy@chainguard.dev from Google
	pairs := []Rule{
		{Identity: "alice@example.com", Issuer: google, Origin: "signers:1"},
		{Identity: "billy@chainguard.dev", Issuer: actions, Origin: "signers:2"},
	}
	expectFail(t, builtinVerifier(t, Policy{Rules: pairs}), "billy vouched for by the other line's issuer", vec.payload, vec.sig, Mismatch, "not accepted by")
	ok := append(pairs, Rule{Identity: "billy@chainguard.dev", Issuer: google, Origin: "signers:3"})
	res, err := builtinVerifier(t, Policy{Rules: ok}).Verify(context.Background(), vec.payload, vec.sig, noID)
	if err != nil || !res.PolicyChecked || res.Rule != "signers:3" {
		t.Fatalf("the matching pair: %+v %v", res, err)
	}
}

// TestConfigPolicyRefusesCrossProduct: the git-config form with several
// identity rules and several issuer rules is refused, not guessed at; one
// side with a single rule stays a set of pairs.
func TestConfigPolicyRefusesCrossProduct(t *testing.T) {
	crossed := Policy{Identities: []string{"alice@example.com", "billy@chainguard.dev"}, Issuers: []string{google, actions}}
	var pe *PolicyError
	if err := crossed.Complete(); !errors.As(err, &pe) || !pe.Crossed || !strings.Contains(err.Error(), "every combination") {
		t.Errorf("crossed policy: %v", err)
	}
	vec := vectors(t, "commits")[0]
	oneIssuer := Policy{Identities: []string{"alice@example.com", "billy@chainguard.dev"}, Issuers: []string{google}}
	if _, err := builtinVerifier(t, oneIssuer).Verify(context.Background(), vec.payload, vec.sig, noID); err != nil {
		t.Errorf("two identities from one issuer: %v", err)
	}
	if err := (Policy{Identities: []string{"a"}, Issuers: []string{google}, Rules: []Rule{{Identity: "a", Issuer: google}}}).Complete(); err == nil {
		t.Error("config rules and allowed-signers rules together accepted")
	}
}

// TestRuleWindows: valid-after and valid-before are judged at the time
// the log proves, on both sides of each bound (after <= t < before).
func TestRuleWindows(t *testing.T) {
	vec := vectors(t, "commits")[0]
	res, err := builtinVerifier(t, billy).Verify(context.Background(), vec.payload, vec.sig, noID)
	if err != nil {
		t.Fatal(err)
	}
	logged := res.Time
	rule := func(after, before time.Time) Policy {
		return Policy{Rules: []Rule{{Identity: "billy@chainguard.dev", Issuer: google, ValidAfter: after, ValidBefore: before, Origin: "signers:7"}}}
	}
	second := time.Second
	for name, tc := range map[string]struct {
		p  Policy
		ok bool
	}{
		"valid-after at the logged time":      {rule(logged, time.Time{}), true},
		"valid-after a second later":          {rule(logged.Add(second), time.Time{}), false},
		"valid-before a second later":         {rule(time.Time{}, logged.Add(second)), true},
		"valid-before at the logged time":     {rule(time.Time{}, logged), false},
		"window around the logged time":       {rule(logged.Add(-time.Hour), logged.Add(time.Hour)), true},
		"window ended a year before":          {rule(logged.AddDate(-2, 0, 0), logged.AddDate(-1, 0, 0)), false},
		"commit date is not the logged time ": {rule(logged.Add(time.Minute), time.Time{}), false},
	} {
		_, err := builtinVerifier(t, tc.p).Verify(context.Background(), vec.payload, vec.sig, noID)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !tc.ok {
			var ve *Error
			if !errors.As(err, &ve) || ve.Kind != Mismatch || !strings.Contains(err.Error(), "outside the validity window") || !strings.Contains(err.Error(), "signers:7") {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if err := rule(logged, logged).Complete(); err == nil {
		t.Error("an empty window accepted")
	}
}

// TestRuleObjects: objects= limits a rule to commits or tags.
func TestRuleObjects(t *testing.T) {
	vecs := vectors(t, "commits")
	commit, tag := vecs[0], vecs[len(vecs)-1]
	if tag.typ != "tag" {
		t.Fatal("the last vector is not the tag")
	}
	tagsOnly := Policy{Rules: []Rule{{Identity: "billy@chainguard.dev", Issuer: google, Objects: []string{"tag"}}}}
	v := builtinVerifier(t, tagsOnly)
	expectFail(t, v, "a commit under a tags-only rule", commit.payload, commit.sig, Mismatch, "covers commit objects")
	if _, err := v.Verify(context.Background(), tag.payload, tag.sig, noID); err != nil {
		t.Errorf("a tag under a tags-only rule: %v", err)
	}
	if err := (Policy{Rules: []Rule{{Identity: "a", Issuer: google, Objects: []string{"blob"}}}}).Complete(); err == nil {
		t.Error("objects=blob accepted")
	}
}

// TestRuleClaims: a claim the certificate does not carry, or carries with
// another value, refuses the signature (sigstore-go compares them).
func TestRuleClaims(t *testing.T) {
	vec := vectors(t, "commits")[0] // a person's certificate: no CI claims
	p := Policy{Identities: []string{"billy@chainguard.dev"}, Issuers: []string{google},
		Claims: certificate.Extensions{SourceRepositoryURI: "https://github.com/sigstore/gitsign"}}
	expectFail(t, builtinVerifier(t, p), "a claim the certificate lacks", vec.payload, vec.sig, Mismatch, "not accepted by")
	if err := (Policy{Rules: []Rule{{Identity: "a", Issuer: google, Claims: certificate.Extensions{Issuer: google}}}}).Complete(); err == nil {
		t.Error("the issuer as a claim accepted")
	}
}

func TestDescribeRules(t *testing.T) {
	for _, tc := range []struct {
		origins []string
		want    string
	}{
		{[]string{"the identity policy", "the identity policy"}, "the identity policy"},
		{[]string{".gitsigners:3"}, ".gitsigners line 3"},
		{[]string{".gitsigners:3", ".gitsigners:4", ".gitsigners:5", ".gitsigners:6", ".gitsigners:7"}, ".gitsigners lines 3-7"},
		{[]string{"HEAD:.gitsigners:1", "HEAD:.gitsigners:3", "HEAD:.gitsigners:4"}, "HEAD:.gitsigners lines 1 and 3-4"},
		{[]string{"a:1", "a:3", "a:5", "a:7", "a:9", "a:10"}, "a lines 1-10 (6 rules)"},
		{nil, "no rule"},
	} {
		if got := DescribeRules(tc.origins); got != tc.want {
			t.Errorf("DescribeRules(%q) = %q, want %q", tc.origins, got, tc.want)
		}
	}
}
