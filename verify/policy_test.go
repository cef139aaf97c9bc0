package verify

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// TestAnchorCannotEscape: a regular expression is compiled on its own
// before it is anchored, so text that would close the anchoring group is
// refused, quoting what was typed, instead of matching everyone.
func TestAnchorCannotEscape(t *testing.T) {
	for _, re := range []string{`nobody@x\.com)|(.*`, `a)|(?:.*`, `(`, `x\`, `[a-`} {
		_, err := anchor("identity regexp", re)
		var pe *PolicyError
		if !errors.As(err, &pe) || pe.Value != re || !strings.Contains(err.Error(), "identity regexp '"+re+"'") {
			t.Errorf("%q: %v", re, err)
		}
		if err := (Policy{IdentityRegexps: []string{re}, Issuers: []string{"https://issuer"}}).Complete(); err == nil {
			t.Errorf("%q: policy accepted", re)
		}
	}
}

// TestAnchorMatchesWholeValues checks what anchored expressions match.
func TestAnchorMatchesWholeValues(t *testing.T) {
	for _, tc := range []struct {
		re        string
		match, no []string
	}{
		{`.*@chainguard\.dev`, []string{"billy@chainguard.dev"}, []string{"billy@chainguard.dev.evil.com", "x@chainguard.devx"}},
		{`billy@chainguard`, nil, []string{"billy@chainguard.dev", "xbilly@chainguard"}},
		{`alice|bob`, []string{"alice", "bob"}, []string{"alicebob", "alice|bob", "bob2"}},
		// \Q...\E pasted inside ^(?: )$ would quote the closing text too and
		// change meaning; anchoring the parsed expression keeps it.
		{`\Qnobody@x.com`, []string{"nobody@x.com"}, []string{"nobodyAx.com", "nobody@x.com)$"}},
		{`(?i)ALICE@x\.com`, []string{"alice@x.com", "ALICE@X.COM"}, []string{"alice@x.com.evil"}},
		{`https://github\.com/acme/[^/]+/\.github/workflows/release\.yml@refs/tags/v[0-9]+(\.[0-9]+)*`,
			[]string{"https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3"},
			[]string{"https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main", "https://github.com/acme/a/b/.github/workflows/release.yml@refs/tags/v1"}},
		{`^already@anchored\.dev$`, []string{"already@anchored.dev"}, []string{"xalready@anchored.dev"}},
		{`(?m)^a$`, []string{"a"}, []string{"a\nb", "b\na"}},
		{`(?s).+`, []string{"a\nb"}, []string{""}},
		{``, []string{""}, []string{"a"}},
	} {
		a, err := anchor("identity regexp", tc.re)
		if err != nil {
			t.Errorf("%q: %v", tc.re, err)
			continue
		}
		r := regexp.MustCompile(a)
		for _, s := range tc.match {
			if !r.MatchString(s) {
				t.Errorf("%q (anchored %q) does not match %q", tc.re, a, s)
			}
		}
		for _, s := range tc.no {
			if r.MatchString(s) {
				t.Errorf("%q (anchored %q) matches %q", tc.re, a, s)
			}
		}
	}
}

// TestNewRefusesBadPolicies: a Verifier is never made with a policy it
// cannot apply, and checking no identity must be asked for by name.
func TestNewRefusesBadPolicies(t *testing.T) {
	tm, _, err := LoadTrust(TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]Options{
		"no policy, not asked for":  {},
		"identity without issuer":   {Policy: Policy{Identities: []string{"a@b"}}},
		"issuer without identity":   {Policy: Policy{Issuers: []string{"https://i"}}},
		"escaping regexp":           {Policy: Policy{IdentityRegexps: []string{`x)|(.*`}, Issuers: []string{"https://i"}}},
		"bad issuer regexp":         {Policy: Policy{Identities: []string{"a@b"}, IssuerRegexps: []string{`(`}}},
		"half a policy with unsafe": {Policy: Policy{Identities: []string{"a@b"}}, AnyIdentityUnsafe: true},
	} {
		var pe *PolicyError
		if _, err := New(tm, o); !errors.As(err, &pe) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(tm, Options{AnyIdentityUnsafe: true}); err != nil {
		t.Errorf("explicitly unsafe: %v", err)
	}
	if _, err := New(nil, Options{Policy: billy}); err == nil {
		t.Error("no trust material accepted")
	}
}
