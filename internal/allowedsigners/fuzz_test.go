package allowedsigners

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/verify"
)

// FuzzParse: Parse never panics; it returns a file or a *ParseError,
// never both; an error names a line the input has (or 0); every rule it
// returns compiles as a policy, with its origin, within the pattern
// bounds; and NonASCII lists exactly the rule lines that are not plain
// ASCII.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"alice@example.com https://accounts.google.com\n",
		"# c\n\n*@x ? valid-after=20250101,valid-before=20260101120000\n",
		`"a \"b\" \\*" "#i" objects="commit,tag",source-repository-uri="https://x/y, z"` + "\r\n",
		`a\*\?\\ b\ c`,
		"a b objects=tag,,",
		"\uFEFFa b build-trigger=push\n",
		"a*b?c* ** unknown=1",
		"\"\n",
		// The bounds: patterns, wildcards, dates, look-alikes.
		strings.Repeat("x", MaxPatternBytes) + " i\n" + strings.Repeat("y", MaxPatternBytes+1) + " i",
		strings.Repeat("*a", MaxWildcards) + " " + strings.Repeat("?", MaxWildcards+1),
		strings.Repeat("*", MaxWildcards) + ` "` + strings.Repeat(`\\*`, MaxWildcards+1) + `"`,
		strings.Repeat("*a *b\n", MaxWildcardPatterns/2) + "*c d",
		"a b valid-before=00010101\na b valid-after=19700101,valid-before=20991231235959\n",
		"a b valid-after=20250101,valid-before=00010101",
		"a b valid-after=19691231235959,valid-before=21000101",
		"\u0430lice@example.com https://accounts.google.com\nbob@ex\u0430mple.com https://\u0456ssuer\n",
		`a b\é "c\é" d`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "f")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || file != nil || pe.File != "f" || pe.Reason == "" {
				t.Fatalf("Parse(%q) = %v, %#v", data, file, err)
			}
			if pe.Line < 0 || pe.Line > bytes.Count(data, []byte("\n"))+1 || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Parse(%q): error %q", data, err)
			}
			return
		}
		if file.Name != "f" || len(file.Rules) == 0 {
			t.Fatalf("Parse(%q): %+v and no error", data, file)
		}
		if err := (verify.Policy{Rules: file.Rules}).Complete(); err != nil {
			t.Fatalf("Parse(%q) = %+v, which does not compile: %v", data, file.Rules, err)
		}
		lines := strings.Split(string(data), "\n")
		nonASCII := map[int]bool{}
		for _, r := range file.Rules {
			var n int
			if _, err := fmt.Sscanf(r.Origin, "f:%d", &n); err != nil || n < 1 || n > len(lines) {
				t.Fatalf("Parse(%q): origin %q", data, r.Origin)
			}
			for _, v := range []string{r.Identity + r.IdentityRegexp, r.Issuer + r.IssuerRegexp} {
				if !printable.IsASCII(v) {
					nonASCII[n] = true
				}
			}
			if !r.ValidAfter.IsZero() && (r.ValidAfter.Before(EarliestTime) || !r.ValidAfter.Before(LatestTime)) ||
				!r.ValidBefore.IsZero() && (r.ValidBefore.Before(EarliestTime) || !r.ValidBefore.Before(LatestTime)) {
				t.Fatalf("Parse(%q): a time out of range in %+v", data, r)
			}
		}
		listed := map[int]bool{}
		for _, n := range file.NonASCII {
			if !nonASCII[n.Line] || printable.IsASCII(n.Pattern) {
				t.Fatalf("Parse(%q): NonASCII %+v", data, n)
			}
			listed[n.Line] = true
		}
		if len(listed) != len(nonASCII) {
			t.Fatalf("Parse(%q): lines %v are not plain ASCII, NonASCII lists %v", data, nonASCII, file.NonASCII)
		}
		if (file.Warning() == "") != (len(file.NonASCII) == 0) || !printable.IsASCII(file.Warning()) {
			t.Fatalf("Parse(%q): warning %q", data, file.Warning())
		}
	})
}
