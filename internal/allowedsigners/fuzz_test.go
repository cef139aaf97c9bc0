package allowedsigners

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/verify"
)

// FuzzParse: Parse never panics; it returns rules or a *ParseError, never
// both; an error names a line the input has (or 0); and every rule it
// returns compiles as a policy, with its origin.
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
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := Parse(data, "f")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || rules != nil || pe.File != "f" || pe.Reason == "" {
				t.Fatalf("Parse(%q) = %v, %#v", data, rules, err)
			}
			if pe.Line < 0 || pe.Line > bytes.Count(data, []byte("\n"))+1 || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Parse(%q): error %q", data, err)
			}
			return
		}
		if len(rules) == 0 {
			t.Fatalf("Parse(%q): no rules and no error", data)
		}
		if err := (verify.Policy{Rules: rules}).Complete(); err != nil {
			t.Fatalf("Parse(%q) = %+v, which does not compile: %v", data, rules, err)
		}
		for _, r := range rules {
			var n int
			if _, err := fmt.Sscanf(r.Origin, "f:%d", &n); err != nil || n < 1 {
				t.Fatalf("Parse(%q): origin %q", data, r.Origin)
			}
		}
	})
}
