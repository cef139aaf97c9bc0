// Package allowedsigners reads allowed-signers files: the list of who may
// sign, one identity from one issuer per line, that gitsign verifies
// against (git config gitsign.allowedSignersFile, gitsign verify
// --allowed-signers). Each line becomes one [verify.Rule].
//
// # Format
//
// The file is UTF-8 text of at most [MaxSize] bytes and [MaxLines] lines.
// Lines end with a line feed; a carriage return before it is dropped, and
// the last line needs no line feed. A UTF-8 byte order mark at the start
// of the file is ignored. Blank lines, and lines whose first non-blank
// character is '#', are ignored; there are no comments after a rule. No
// line may hold a control character other than tab, nor an invisible
// formatting character (bidirectional controls, zero-width characters,
// line and paragraph separators): the file must read as it means.
//
// A rule line has two or three fields, separated by runs of spaces and
// tabs:
//
//	IDENTITY ISSUER [OPTIONS]
//
// IDENTITY or ISSUER may be written in double quotes, to hold spaces or
// tabs, or to start with '#' or '"'; inside the quotes \" stands for a
// double quote and \\ for a backslash, no other backslash sequence is
// allowed, and the closing quote must end the field. Quotes are undone
// before the pattern (below) is read, so a literal '*' inside quotes is
// written "\\*". Unquoted, these fields may not hold a double quote.
//
// IDENTITY (the certificate's subject alternative name: an email address
// or a URI) and ISSUER (the OIDC issuer URL) are patterns over the whole
// value: '*' matches any run of characters, none included; '?' matches
// exactly one character; '\' makes the next character literal and may
// only precede '*', '?' or '\'; every other character stands for itself.
// There are no regular expressions, so nothing in a pattern can reach
// outside it: "*@example.com" matches "alice@example.com" but not
// "alice@example.com.evil". A pattern without wildcards is an exact value
// (Rule.Identity, Rule.Issuer); one with wildcards becomes an anchored
// regular expression (Rule.IdentityRegexp, Rule.IssuerRegexp) built from
// quoted literals, ".*" and ".", in which '.' matches any character.
// Neither may be empty.
//
// OPTIONS is a comma-separated list of name=value pairs, each name at most
// once. A value may be written in double quotes, with the same escapes, to
// hold commas or spaces; no value may be empty. The names are:
//
//   - valid-after=YYYYMMDD[HHMM[SS]]: the rule accepts signatures proven
//     (by the transparency log or a timestamp authority) at or after this
//     time, in UTC; a date alone means its midnight.
//   - valid-before=YYYYMMDD[HHMM[SS]]: the same, strictly before this
//     time. With both, valid-after must be before valid-before.
//   - objects=commit, objects=tag or objects="commit,tag": the rule
//     applies only to these kinds of git object (default: any).
//   - the CI claims Fulcio puts in certificates, each an exact value the
//     certificate must carry: github-workflow-trigger, github-workflow-sha,
//     github-workflow-name, github-workflow-repository,
//     github-workflow-ref, build-signer-uri, build-signer-digest,
//     runner-environment, source-repository-uri, source-repository-digest,
//     source-repository-ref, source-repository-identifier,
//     source-repository-owner-uri, source-repository-owner-identifier,
//     build-config-uri, build-config-digest, build-trigger,
//     run-invocation-uri, source-repository-visibility-at-signing.
//
// Anything else is an error naming the file and line ([ParseError]),
// never skipped: an unknown or repeated option, an empty or malformed
// value, a date that does not exist, an empty validity window. A file
// with no rule at all is an error too, since it would accept nobody.
//
// Example:
//
//	# people
//	alice@example.com https://accounts.google.com
//	*@example.org https://github.com/login/oauth valid-after=20250101
//	# the release workflow, for tags only
//	https://github.com/acme/app/.github/workflows/release.yml@refs/tags/* https://token.actions.githubusercontent.com objects=tag,source-repository-uri=https://github.com/acme/app
package allowedsigners

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/verify"
)

const (
	// MaxSize is the largest file Parse reads, in bytes.
	MaxSize = 1 << 20
	// MaxLines is the most lines a file may have.
	MaxLines = 10000
)

// ParseError is a file that cannot be used: Line is the 1-based line at
// fault, or 0 when the fault is the file as a whole (its size, its line
// count, or that it has no rule).
type ParseError struct {
	File   string
	Line   int
	Reason string
}

// Error renders the error as FILE:LINE: reason, or FILE: reason.
func (e *ParseError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Reason
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// Parse reads an allowed-signers file. name is how messages and each
// rule's Origin ("NAME:LINE") refer to it. Every error is a *ParseError.
// The rules it returns are complete: verify.Policy{Rules: rules} compiles.
func Parse(data []byte, name string) ([]verify.Rule, error) {
	if len(data) > MaxSize {
		return nil, &ParseError{File: name, Reason: fmt.Sprintf("larger than %d bytes", MaxSize)}
	}
	text := strings.TrimPrefix(string(data), "\uFEFF")
	// The final line feed ends a line; it does not start one.
	text, _ = strings.CutSuffix(text, "\n")
	if text == "" {
		return nil, &ParseError{File: name, Reason: noSigners}
	}
	if strings.Count(text, "\n") >= MaxLines {
		return nil, &ParseError{File: name, Reason: fmt.Sprintf("more than %d lines", MaxLines)}
	}
	lines := strings.Split(text, "\n")
	var rules []verify.Rule
	for i, line := range lines {
		r, ok, err := parseLine(strings.TrimSuffix(line, "\r"))
		if err != nil {
			return nil, &ParseError{File: name, Line: i + 1, Reason: err.Error()}
		}
		if !ok {
			continue
		}
		r.Origin = fmt.Sprintf("%s:%d", name, i+1)
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		return nil, &ParseError{File: name, Reason: noSigners}
	}
	return rules, nil
}

const noSigners = "no signers: the file has no rule lines, so it would accept nobody"

// parseLine reads one line; ok is false for a blank line or a comment.
func parseLine(line string) (r verify.Rule, ok bool, err error) {
	if err := checkText(line); err != nil {
		return r, false, err
	}
	s := &scanner{s: line}
	s.skipBlanks()
	if s.done() || s.peek() == '#' {
		return r, false, nil
	}
	id, err := s.field("identity")
	if err != nil {
		return r, false, err
	}
	s.skipBlanks()
	if s.done() {
		return r, false, fmt.Errorf("missing the issuer: a rule is IDENTITY ISSUER [OPTIONS]")
	}
	issuer, err := s.field("issuer")
	if err != nil {
		return r, false, err
	}
	if r.Identity, r.IdentityRegexp, err = compilePattern("identity", id); err != nil {
		return r, false, err
	}
	if r.Issuer, r.IssuerRegexp, err = compilePattern("issuer", issuer); err != nil {
		return r, false, err
	}
	s.skipBlanks()
	if !s.done() {
		if err := s.options(&r); err != nil {
			return r, false, err
		}
		s.skipBlanks()
		if !s.done() {
			if s.peek() == '#' {
				return r, false, fmt.Errorf("comments must be on lines of their own")
			}
			return r, false, fmt.Errorf("more than three fields: a rule is IDENTITY ISSUER [OPTIONS]; quote a field that holds spaces")
		}
	}
	return r, true, nil
}

// checkText refuses text that is not UTF-8, and characters that would
// make the line read differently from what it says.
func checkText(line string) error {
	for i, r := range line {
		if r == utf8.RuneError && !strings.HasPrefix(line[i:], "\uFFFD") {
			return fmt.Errorf("not UTF-8 text")
		}
		if r != '\t' && !printable.Safe(string(r)) {
			return fmt.Errorf("character %U is not allowed: control and invisible formatting characters could hide what the line says", r)
		}
	}
	return nil
}
