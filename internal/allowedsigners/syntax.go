package allowedsigners

import (
	"encoding/asn1"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/verify"
)

// scanner reads the fields of one line.
type scanner struct {
	s string
	i int
}

func (s *scanner) done() bool { return s.i >= len(s.s) }
func (s *scanner) peek() byte { return s.s[s.i] }

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func (s *scanner) skipBlanks() {
	for !s.done() && isBlank(s.peek()) {
		s.i++
	}
}

// field reads an IDENTITY or ISSUER field, quoted or bare, which must end
// at a blank or the end of the line.
func (s *scanner) field(what string) (string, error) {
	if s.peek() == '"' {
		v, err := s.quoted("the " + what)
		if err != nil {
			return "", err
		}
		if !s.done() && !isBlank(s.peek()) {
			return "", fmt.Errorf("text right after the quoted %s: separate fields with spaces", what)
		}
		return v, nil
	}
	start := s.i
	for !s.done() && !isBlank(s.peek()) {
		if s.peek() == '"' {
			return "", fmt.Errorf("a double quote inside the unquoted %s: quote the whole field and write \\\" for the quote", what)
		}
		s.i++
	}
	return s.s[start:s.i], nil
}

// quoted reads a double-quoted string starting at the opening quote;
// inside it, \" and \\ are the only escapes.
func (s *scanner) quoted(what string) (string, error) {
	s.i++ // the opening quote
	var b strings.Builder
	for !s.done() {
		c := s.peek()
		s.i++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if s.done() || (s.peek() != '"' && s.peek() != '\\') {
				esc := `\`
				if !s.done() {
					esc = badEscape(s.s[s.i:])
				}
				return "", fmt.Errorf(`invalid escape %s in %s: inside quotes only \" and \\ are escapes`, esc, what)
			}
			b.WriteByte(s.peek())
			s.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("%s has no closing quote", what)
}

// options reads the OPTIONS field into r.
func (s *scanner) options(r *verify.Rule) error {
	if s.peek() == '#' {
		return fmt.Errorf("comments must be on lines of their own")
	}
	seen := map[string]bool{}
	for {
		start := s.i
		for !s.done() && !isBlank(s.peek()) && s.peek() != '=' && s.peek() != ',' {
			s.i++
		}
		name := s.s[start:s.i]
		if name == "" {
			if !s.done() && s.peek() == '=' {
				return fmt.Errorf("an option without a name: options are NAME=VALUE")
			}
			return fmt.Errorf("an empty option: a comma with nothing after it, or two commas")
		}
		if s.done() || s.peek() != '=' {
			if name == "commit" || name == "tag" {
				return fmt.Errorf(`option %s has no value: to name several object types, quote them: objects="commit,tag"`, printable.Quote(name))
			}
			return fmt.Errorf("option %s has no value: options are NAME=VALUE", printable.Quote(name))
		}
		s.i++ // '='
		value, err := s.optionValue(name)
		if err != nil {
			return err
		}
		set, known := setters[name]
		if !known {
			return fmt.Errorf("unknown option %s", printable.Quote(name))
		}
		if seen[name] {
			return fmt.Errorf("option %s is given twice", printable.Quote(name))
		}
		seen[name] = true
		if value == "" {
			return fmt.Errorf("option %s has an empty value", printable.Quote(name))
		}
		if err := set(r, value); err != nil {
			return err
		}
		if s.done() || isBlank(s.peek()) {
			break
		}
		s.i++ // ','
	}
	// Whether a bound is set is what the line says, not what the time is.
	if seen["valid-after"] && seen["valid-before"] && !r.ValidAfter.Before(r.ValidBefore) {
		return fmt.Errorf("empty validity window: valid-after must be before valid-before")
	}
	return nil
}

// optionValue reads an option's value, quoted or bare, which must end at
// a comma, a blank or the end of the line.
func (s *scanner) optionValue(name string) (string, error) {
	if !s.done() && s.peek() == '"' {
		v, err := s.quoted(fmt.Sprintf("the value of option %s", printable.Quote(name)))
		if err != nil {
			return "", err
		}
		if !s.done() && !isBlank(s.peek()) && s.peek() != ',' {
			return "", fmt.Errorf("text right after the quoted value of option %s: separate options with commas", printable.Quote(name))
		}
		return v, nil
	}
	start := s.i
	for !s.done() && !isBlank(s.peek()) && s.peek() != ',' {
		if s.peek() == '"' {
			return "", fmt.Errorf("a double quote inside the unquoted value of option %s: quote the whole value", printable.Quote(name))
		}
		s.i++
	}
	return s.s[start:s.i], nil
}

// setters apply each option's value to a rule.
var setters = map[string]func(r *verify.Rule, value string) error{
	"valid-after":  func(r *verify.Rule, v string) error { return setTime(&r.ValidAfter, "valid-after", v) },
	"valid-before": func(r *verify.Rule, v string) error { return setTime(&r.ValidBefore, "valid-before", v) },
	"objects":      setObjects,
}

// ClaimOption is an option that constrains a CI claim: named after the
// Fulcio certificate extension (OID) that carries it, and setting the
// field of sigstore-go's certificate.Extensions that holds its value.
type ClaimOption struct {
	Name  string
	OID   asn1.ObjectIdentifier
	Field func(e *certificate.Extensions) *string
}

// ClaimOptions are the claim options, in OID order.
var ClaimOptions = []ClaimOption{
	{"github-workflow-trigger", fulcioClaim(2), func(e *certificate.Extensions) *string { return &e.GithubWorkflowTrigger }},
	{"github-workflow-sha", fulcioClaim(3), func(e *certificate.Extensions) *string { return &e.GithubWorkflowSHA }},
	{"github-workflow-name", fulcioClaim(4), func(e *certificate.Extensions) *string { return &e.GithubWorkflowName }},
	{"github-workflow-repository", fulcioClaim(5), func(e *certificate.Extensions) *string { return &e.GithubWorkflowRepository }},
	{"github-workflow-ref", fulcioClaim(6), func(e *certificate.Extensions) *string { return &e.GithubWorkflowRef }},
	{"build-signer-uri", fulcioClaim(9), func(e *certificate.Extensions) *string { return &e.BuildSignerURI }},
	{"build-signer-digest", fulcioClaim(10), func(e *certificate.Extensions) *string { return &e.BuildSignerDigest }},
	{"runner-environment", fulcioClaim(11), func(e *certificate.Extensions) *string { return &e.RunnerEnvironment }},
	{"source-repository-uri", fulcioClaim(12), func(e *certificate.Extensions) *string { return &e.SourceRepositoryURI }},
	{"source-repository-digest", fulcioClaim(13), func(e *certificate.Extensions) *string { return &e.SourceRepositoryDigest }},
	{"source-repository-ref", fulcioClaim(14), func(e *certificate.Extensions) *string { return &e.SourceRepositoryRef }},
	{"source-repository-identifier", fulcioClaim(15), func(e *certificate.Extensions) *string { return &e.SourceRepositoryIdentifier }},
	{"source-repository-owner-uri", fulcioClaim(16), func(e *certificate.Extensions) *string { return &e.SourceRepositoryOwnerURI }},
	{"source-repository-owner-identifier", fulcioClaim(17), func(e *certificate.Extensions) *string { return &e.SourceRepositoryOwnerIdentifier }},
	{"build-config-uri", fulcioClaim(18), func(e *certificate.Extensions) *string { return &e.BuildConfigURI }},
	{"build-config-digest", fulcioClaim(19), func(e *certificate.Extensions) *string { return &e.BuildConfigDigest }},
	{"build-trigger", fulcioClaim(20), func(e *certificate.Extensions) *string { return &e.BuildTrigger }},
	{"run-invocation-uri", fulcioClaim(21), func(e *certificate.Extensions) *string { return &e.RunInvocationURI }},
	{"source-repository-visibility-at-signing", fulcioClaim(22), func(e *certificate.Extensions) *string { return &e.SourceRepositoryVisibilityAtSigning }},
}

// fulcioClaim is the OID 1.3.6.1.4.1.57264.1.n of a Fulcio extension.
func fulcioClaim(n int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, n}
}

func init() {
	for _, c := range ClaimOptions {
		setters[c.Name] = func(r *verify.Rule, v string) error {
			*c.Field(&r.Claims) = v
			return nil
		}
	}
}

// timeLayouts are the accepted forms of valid-after and valid-before, by
// length.
var timeLayouts = map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}

// setTime sets a validity bound. The range check keeps every parsed time
// away from Go's zero time, which a verify.Rule reads as no bound.
func setTime(t *time.Time, name, v string) error {
	layout, ok := timeLayouts[len(v)]
	if ok && strings.Trim(v, "0123456789") == "" {
		if parsed, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			if parsed.Before(EarliestTime) || !parsed.Before(LatestTime) {
				return fmt.Errorf("%s '%s' is out of range: the year must be from %d through %d", name, v, EarliestTime.Year(), LatestTime.Year()-1)
			}
			*t = parsed
			return nil
		}
	}
	return fmt.Errorf("%s '%s' is not a time: want a real UTC time as YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS", name, printable.ASCII(v))
}

func setObjects(r *verify.Rule, v string) error {
	for _, o := range strings.Split(v, ",") {
		if o != "commit" && o != "tag" {
			return fmt.Errorf(`objects '%s': want commit, tag or "commit,tag"`, printable.ASCII(v))
		}
		if slices.Contains(r.Objects, o) {
			return fmt.Errorf("objects '%s' names %s twice", v, o)
		}
		r.Objects = append(r.Objects, o)
	}
	return nil
}

// compilePattern turns an IDENTITY or ISSUER pattern into an exact value,
// or into an anchored regular expression when it has wildcards. It
// refuses a pattern over MaxPatternBytes or MaxWildcards.
func compilePattern(what, p string) (exact, re string, err error) {
	if p == "" {
		return "", "", fmt.Errorf("empty %s", what)
	}
	if len(p) > MaxPatternBytes {
		return "", "", fmt.Errorf("%s is %d bytes long, more than the %d a pattern may have", what, len(p), MaxPatternBytes)
	}
	if !strings.ContainsAny(p, `*?\`) {
		return p, "", nil // the common case: an exact value, written as it is
	}
	var literal, expr strings.Builder
	wild := 0
	flush := func() {
		expr.WriteString(regexp.QuoteMeta(literal.String()))
		literal.Reset()
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 == len(p) {
				return "", "", fmt.Errorf(`%s '%s' ends with a backslash, which escapes nothing (write \\ for a backslash)`, what, printable.ASCII(p))
			}
			i++
			if n := p[i]; n != '*' && n != '?' && n != '\\' {
				return "", "", fmt.Errorf(`%s '%s': %s is not an escape (a backslash only escapes *, ? and \)`, what, printable.ASCII(p), badEscape(p[i:]))
			}
			literal.WriteByte(p[i])
		case '*', '?':
			if wild++; wild > MaxWildcards {
				return "", "", fmt.Errorf("%s has more than %d wildcards ('*' and '?' together), the most a pattern may have", what, MaxWildcards)
			}
			flush()
			if c == '*' {
				expr.WriteString(".*")
			} else {
				expr.WriteString(".")
			}
		default:
			literal.WriteByte(c)
		}
	}
	if wild == 0 {
		return literal.String(), "", nil
	}
	flush()
	return "", `\A(?s:` + expr.String() + `)\z`, nil
}

// badEscape names a backslash and the character after it, the start of
// rest: \d when that character is printable ASCII, else "\ before
// U+00E9", which cannot be mistaken for an escape of the format.
func badEscape(rest string) string {
	r, _ := utf8.DecodeRuneInString(rest)
	if r > ' ' && r < 0x7f {
		return `\` + string(r)
	}
	return fmt.Sprintf(`\ before %U`, r)
}
