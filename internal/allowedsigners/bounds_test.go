package allowedsigners

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/verify"
)

// parseErr returns Parse's error for text as a string, "" when it parses
// to rules that compile.
func parseErr(t *testing.T, text string) string {
	t.Helper()
	f, err := Parse([]byte(text), "f")
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) || f != nil {
			t.Fatalf("Parse: %v, %v", f, err)
		}
		return err.Error()
	}
	if err := (verify.Policy{Rules: f.Rules}).Complete(); err != nil {
		t.Fatalf("the rules do not compile: %v", err)
	}
	return ""
}

// TestPatternBounds: a pattern at each bound is accepted and means what
// it says; one over is refused, naming the line and the bound.
func TestPatternBounds(t *testing.T) {
	long := strings.Repeat("x", MaxPatternBytes)
	stars := strings.Repeat("*a", MaxWildcards)
	for _, ok := range []string{
		long + " " + long,
		stars + " " + strings.Repeat("?", MaxWildcards),
		// Escaped wildcards are literal, not wildcards.
		strings.Repeat(`\*`, MaxWildcards+1) + " i",
		// The length is the pattern's, once quotes are undone.
		`"` + strings.Repeat(`\"`, MaxPatternBytes) + `" i`,
		// Only patterns are bounded; an option value is not.
		"a b build-trigger=" + strings.Repeat("v", 4*MaxPatternBytes),
	} {
		if err := parseErr(t, ok); err != "" {
			t.Errorf("%.40q...: %s", ok, err)
		}
	}
	f, err := Parse([]byte(stars+" "+long), "f")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(f.Rules[0].IdentityRegexp)
	if !re.MatchString(strings.Repeat("za", MaxWildcards)) || re.MatchString(strings.Repeat("za", MaxWildcards-1)) || f.Rules[0].Issuer != long {
		t.Errorf("%q does not mean what it says: %+v", stars, f.Rules[0])
	}

	over := fmt.Sprintf("is %d bytes long, more than the %d a pattern may have", MaxPatternBytes+1, MaxPatternBytes)
	wild := fmt.Sprintf("has more than %d wildcards ('*' and '?' together), the most a pattern may have", MaxWildcards)
	for _, tc := range []struct{ in, want string }{
		{"a b\n" + long + "x b", "f:2: identity " + over},
		{"a " + long + "x", "f:1: issuer " + over},
		{`"` + strings.Repeat(`\"`, MaxPatternBytes+1) + `" i`, "f:1: identity " + over},
		{"# c\n" + stars + "* b", "f:2: identity " + wild},
		{"a " + strings.Repeat("?", MaxWildcards+1), "f:1: issuer " + wild},
		{"a " + strings.Repeat("*?", MaxWildcards/2) + "?", "f:1: issuer " + wild},
	} {
		if got := parseErr(t, tc.in); got != tc.want {
			t.Errorf("%.40q...:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

// TestWildcardBudget: a file may have MaxWildcardPatterns patterns with
// wildcards, MaxWildcardBytes of them together, however many exact ones;
// the line that goes over is named.
func TestWildcardBudget(t *testing.T) {
	// Exact values are not counted.
	exact := strings.Repeat("alice@example.com https://accounts.google.com\n", MaxLines-1)
	// MaxWildcardPatterns short patterns, two a line.
	short := strings.Repeat("*@example.com https://*.example.com\n", MaxWildcardPatterns/2)
	// MaxWildcardBytes in patterns of the longest length.
	p := "*" + strings.Repeat("b", MaxPatternBytes-1)
	long := strings.Repeat(p+" i\n", MaxWildcardBytes/MaxPatternBytes)
	for name, ok := range map[string]string{"exact": exact, "short": short, "long": long} {
		if err := parseErr(t, ok); err != "" {
			t.Errorf("%s: %s", name, err)
		}
	}
	count := fmt.Sprintf("more than %d patterns with wildcards in the file: each becomes a regular expression to compile; write exact values where you can", MaxWildcardPatterns)
	bytes := func(n int) string {
		return fmt.Sprintf("the patterns with wildcards up to this line add up to %d bytes, more than the %d a file may have: each becomes a regular expression to compile; write exact values where you can", n, MaxWildcardBytes)
	}
	line := func(text string) int { return strings.Count(text, "\n") + 1 }
	for _, tc := range []struct{ in, want string }{
		{short + "*x i", fmt.Sprintf("f:%d: %s", line(short), count)},
		{short + "x i?", fmt.Sprintf("f:%d: %s", line(short), count)},
		{"# c\n" + long + "x? i", fmt.Sprintf("f:%d: %s", line(long)+1, bytes(MaxWildcardBytes+2))},
	} {
		if got := parseErr(t, tc.in); got != tc.want {
			t.Errorf("%.60q...:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

// TestDateBounds: valid-after and valid-before are from 1970 through 2099;
// anything else is refused, so no parsed time is Go's zero time, which a
// verify.Rule reads as no bound; and a window with a refused end is
// refused, not read as open.
func TestDateBounds(t *testing.T) {
	rangeErr := func(opt string) string {
		name, v, _ := strings.Cut(opt, "=")
		return fmt.Sprintf("f:1: %s '%s' is out of range: the year must be from 1970 through 2099", name, v)
	}
	for _, tc := range []struct{ opts, want string }{
		{"valid-before=00010101", rangeErr("valid-before=00010101")},
		{"valid-after=00010101", rangeErr("valid-after=00010101")},
		{"valid-after=19691231", rangeErr("valid-after=19691231")},
		{"valid-before=19691231235959", rangeErr("valid-before=19691231235959")},
		{"valid-before=21000101", rangeErr("valid-before=21000101")},
		{"valid-after=99991231", rangeErr("valid-after=99991231")},
		// The window: its end was the zero time, read as none.
		{"valid-after=20250101,valid-before=00010101", rangeErr("valid-before=00010101")},
		{"valid-before=00010101,valid-after=20250101", rangeErr("valid-before=00010101")},
		{"valid-after=00010101000000,valid-before=20250101", rangeErr("valid-after=00010101000000")},
		// Empty windows at the ends of the range.
		{"valid-after=19700101,valid-before=19700101", "f:1: empty validity window: valid-after must be before valid-before"},
		{"valid-after=20991231235959,valid-before=20991231", "f:1: empty validity window: valid-after must be before valid-before"},
	} {
		if got := parseErr(t, "a b "+tc.opts); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.opts, got, tc.want)
		}
	}
	for _, tc := range []struct {
		opts          string
		after, before time.Time
	}{
		{"valid-after=19700101", EarliestTime, time.Time{}},
		{"valid-after=19700101,valid-before=19700101000001", EarliestTime, EarliestTime.Add(time.Second)},
		{"valid-before=20991231235959", time.Time{}, LatestTime.Add(-time.Second)},
		{"valid-after=20250101,valid-before=20260101", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		f, err := Parse([]byte("a b "+tc.opts), "f")
		if err != nil {
			t.Errorf("%s: %v", tc.opts, err)
			continue
		}
		r := f.Rules[0]
		if !r.ValidAfter.Equal(tc.after) || !r.ValidBefore.Equal(tc.before) || r.ValidAfter.IsZero() != tc.after.IsZero() || r.ValidBefore.IsZero() != tc.before.IsZero() {
			t.Errorf("%s: window %v to %v", tc.opts, r.ValidAfter, r.ValidBefore)
		}
	}
}

// TestNonASCII: identities and issuers that are not plain ASCII are
// accepted and listed, the warning names the first line, escaped, and
// counts the others; error messages escape them too.
func TestNonASCII(t *testing.T) {
	file := "alice@example.com https://accounts.google.com\n" +
		"# \u0430 comment is not a rule\n" +
		"\u0430lice@example.com https://accounts.google.com\n" +
		"bob@ex\u0430mple.com \"https://\u0456ssuer\"\n" +
		"carol@example.com https://accounts.google.com build-trigger=pu\u0455h\n" +
		"*@\u00e9cole.fr https://i\n"
	f, err := Parse([]byte(file), ".gitsigners")
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{
		{3, "identity", "\u0430lice@example.com"},
		{4, "identity", "bob@ex\u0430mple.com"},
		{4, "issuer", "https://\u0456ssuer"},
		{6, "identity", "*@\u00e9cole.fr"},
	}
	if fmt.Sprint(f.NonASCII) != fmt.Sprint(want) {
		t.Errorf("NonASCII = %v, want %v", f.NonASCII, want)
	}
	if got, want := f.Warning(), `.gitsigners:3: identity '\u0430lice@example.com' is not plain ASCII: a character outside ASCII can look like an ASCII one, so check that the line names whom you mean; 2 more lines are not plain ASCII either`; got != want {
		t.Errorf("warning\n got %s\nwant %s", got, want)
	}
	f, err = Parse([]byte("a https://\u0456\n"), "f")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Warning(), `f:1: issuer 'https://\u0456' is not plain ASCII: a character outside ASCII can look like an ASCII one, so check that the line names whom you mean`; got != want {
		t.Errorf("warning\n got %s\nwant %s", got, want)
	}
	for _, tc := range []struct{ in, want string }{
		{"\u0430\\x b", `f:1: identity '\u0430\x': \x is not an escape (a backslash only escapes *, ? and \)`},
		{"a b\u0430\\", `f:1: issuer 'b\u0430\' ends with a backslash, which escapes nothing (write \\ for a backslash)`},
		{"a b objects=t\u0430g", `f:1: objects 't\u0430g': want commit, tag or "commit,tag"`},
		{"a b valid-after=\uff12\uff10\uff12\uff15", `f:1: valid-after '\uff12\uff10\uff12\uff15' is not a time: want a real UTC time as YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS`},
	} {
		if got := parseErr(t, tc.in); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}
