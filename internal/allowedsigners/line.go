package allowedsigners

import (
	"strings"
	"unicode/utf8"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// Line returns a rule line that accepts exactly identity from issuer:
// wildcards and backslashes are escaped, and a field is quoted when it
// is empty, holds a blank or a double quote, or starts with '#'. It
// returns "" when no line can say it: a value that is empty, longer than
// MaxPatternBytes, not UTF-8, or holds a character the format does not
// allow (a control character other than tab, an invisible formatting
// character).
func Line(identity, issuer string) string {
	id, ok := field(identity)
	if !ok {
		return ""
	}
	is, ok := field(issuer)
	if !ok {
		return ""
	}
	return id + " " + is
}

// field writes an exact value as a pattern field.
func field(v string) (string, bool) {
	if v == "" || len(v) > MaxPatternBytes || !utf8.ValidString(v) || checkText(v) != nil {
		return "", false
	}
	p := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`).Replace(v)
	if !strings.ContainsAny(p, " \t\"") && !strings.HasPrefix(p, "#") {
		return p, true
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`, true
}

// LineWith is Line with claim options for every non-empty field of claims
// (in ClaimOptions order), each value double-quoted when it holds a blank,
// a comma or a double quote. It returns "" when no line can say it.
func LineWith(identity, issuer string, claims certificate.Extensions) string {
	line := Line(identity, issuer)
	if line == "" {
		return ""
	}
	var opts []string
	for _, c := range ClaimOptions {
		v := *c.Field(&claims)
		if v == "" {
			continue
		}
		if !utf8.ValidString(v) || checkText(v) != nil {
			return ""
		}
		if strings.ContainsAny(v, " \t,\"") {
			v = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
		}
		opts = append(opts, c.Name+"="+v)
	}
	if len(opts) == 0 {
		return line
	}
	return line + " " + strings.Join(opts, ",")
}
