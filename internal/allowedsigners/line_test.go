package allowedsigners

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/gitsign-dev/gitsign/verify"
)

// exactly reports why line does not parse to one rule accepting exactly
// identity from issuer, with no other condition, or "" when it does.
func exactly(line, identity, issuer string) string {
	f, err := Parse([]byte(line+"\n"), "f")
	if err != nil {
		return err.Error()
	}
	rules := f.Rules
	switch {
	case len(rules) != 1:
		return "not one rule"
	case rules[0].Identity != identity || rules[0].IdentityRegexp != "":
		return "identity " + rules[0].Identity + rules[0].IdentityRegexp
	case rules[0].Issuer != issuer || rules[0].IssuerRegexp != "":
		return "issuer " + rules[0].Issuer + rules[0].IssuerRegexp
	case rules[0].Claims != (certificate.Extensions{}) || rules[0].Objects != nil || !rules[0].ValidAfter.IsZero() || !rules[0].ValidBefore.IsZero():
		return "extra conditions"
	}
	if err := (verify.Policy{Rules: rules}).Complete(); err != nil {
		return err.Error()
	}
	return ""
}

// TestLine: a line for exact values, escaped and quoted only as needed,
// parses back to exactly those values.
func TestLine(t *testing.T) {
	for _, tc := range []struct{ identity, issuer, want string }{
		{"alice@example.com", google, "alice@example.com https://accounts.google.com"},
		{"*@example.com", "https://i?", `\*@example.com https://i\?`},
		{`back\slash`, "https://i", `back\\slash https://i`},
		{"has space", "https://i", `"has space" https://i`},
		{"tab\there", "https://i", "\"tab\there\" https://i"},
		{"#hash", "#i", `"#hash" "#i"`},
		{"in#side", "https://i", "in#side https://i"},
		{`say "hi"*`, "https://i", `"say \"hi\"\\*" https://i`},
		{`"`, "https://i", `"\"" https://i`},
		{`https://github.com/acme/app/.github/workflows/x.yml@refs/heads/$(touch pwned)';touch pwned2;'`, "https://token.actions.githubusercontent.com",
			`"https://github.com/acme/app/.github/workflows/x.yml@refs/heads/$(touch pwned)';touch pwned2;'" https://token.actions.githubusercontent.com`},
		{"objects=tag", "valid-after=2020", "objects=tag valid-after=2020"},
		{" lead", "trail ", `" lead" "trail "`},
		{"ünïcode@例え.jp", "https://i", "ünïcode@例え.jp https://i"},
	} {
		got := Line(tc.identity, tc.issuer)
		if got != tc.want {
			t.Errorf("Line(%q, %q) = %s, want %s", tc.identity, tc.issuer, got, tc.want)
		}
		if why := exactly(got, tc.identity, tc.issuer); why != "" {
			t.Errorf("Line(%q, %q) = %s: %s", tc.identity, tc.issuer, got, why)
		}
	}
}

// TestLineRefuses: values no line can hold give "".
func TestLineRefuses(t *testing.T) {
	for _, v := range []string{"", "new\nline", "cr\r", "esc\x1b[2J", "bidi\u202e", "bad\xff", "nul\x00", "c1\u009b", "zwsp\u200b"} {
		if got := Line(v, google); got != "" {
			t.Errorf("Line(%q, issuer) = %q", v, got)
		}
		if got := Line("alice@example.com", v); got != "" {
			t.Errorf("Line(identity, %q) = %q", v, got)
		}
	}
}

// FuzzLine: whatever Line writes parses back to exactly its values; when
// it writes nothing, a value is one the format cannot hold.
func FuzzLine(f *testing.F) {
	for _, s := range [][2]string{
		{"alice@example.com", google}, {"*?\\", `"#`}, {" a b ", "\t"}, {`\"`, `"\\"`}, {"#", "#"}, {"", "x"}, {"a\nb", "c"},
		{strings.Repeat("<", MaxPatternBytes+1), "x"}, // longer than a pattern may be
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, identity, issuer string) {
		line := Line(identity, issuer)
		if line == "" {
			holdable := func(v string) bool {
				return v != "" && len(v) <= MaxPatternBytes && utf8.ValidString(v) && checkText(v) == nil
			}
			if holdable(identity) && holdable(issuer) {
				t.Fatalf("Line(%q, %q) is empty for values the format can hold", identity, issuer)
			}
			return
		}
		if strings.ContainsAny(line, "\r\n") {
			t.Fatalf("Line(%q, %q) = %q spans lines", identity, issuer, line)
		}
		if why := exactly(line, identity, issuer); why != "" {
			t.Fatalf("Line(%q, %q) = %q: %s", identity, issuer, line, why)
		}
	})
}
