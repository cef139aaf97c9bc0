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
// Each IDENTITY or ISSUER is at most [MaxPatternBytes] bytes once quotes
// are undone, with at most [MaxWildcards] wildcards ('*' and '?'
// together); real identities are far shorter (an email address has at
// most 254 bytes, a CI workflow's URI a few hundred, an issuer URL well
// under 100) and a real pattern has a wildcard or two. The verifier
// compiles each pattern that has wildcards into a regular expression,
// which costs far more per byte than reading the file, so a file may
// hold at most [MaxWildcardPatterns] such patterns, together at most
// [MaxWildcardBytes] bytes; exact values cost little and are bounded
// only by the file's size. With these bounds the work to read, compile
// and match a file grows linearly with its size: the largest file
// allowed is read and compiled in tens of milliseconds, and matching an
// identity against all its patterns takes at most the identity's length
// times [MaxWildcardBytes] steps (go test -bench Worst).
//
// An IDENTITY or ISSUER that is not plain ASCII (a Cyrillic а in place
// of a Latin a looks the same but is another identity) is accepted, but
// [File.NonASCII] lists it, [File.Warning] says so, and error messages
// show such characters escaped (\u0430).
//
// OPTIONS is a comma-separated list of name=value pairs, each name at most
// once. A value may be written in double quotes, with the same escapes, to
// hold commas or spaces; no value may be empty. The names are:
//
//   - valid-after=YYYYMMDD[HHMM[SS]]: the rule accepts signatures proven
//     (by the transparency log or a timestamp authority) at or after this
//     time, in UTC; a date alone means its midnight. The year must be
//     from 1970 through 2099 ([EarliestTime] to [LatestTime]): earlier or
//     later ones are mistakes, and a year-1 date would be Go's zero time,
//     which in a [verify.Rule] means no bound.
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
// value, a date that does not exist or is out of range, an empty
// validity window, a pattern over its bounds. A file with no rule at all
// is an error too, since it would accept nobody.
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
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/verify"
)

const (
	// MaxSize is the largest file Parse reads, in bytes.
	MaxSize = 1 << 20
	// MaxLines is the most lines a file may have.
	MaxLines = 10000
	// MaxPatternBytes is the longest IDENTITY or ISSUER, in bytes, once
	// quotes are undone.
	MaxPatternBytes = 1024
	// MaxWildcards is the most wildcards ('*' and '?') one IDENTITY or
	// ISSUER may have.
	MaxWildcards = 16
	// MaxWildcardPatterns is the most patterns with wildcards a file may
	// have (an IDENTITY and an ISSUER with wildcards on one line are two).
	MaxWildcardPatterns = 256
	// MaxWildcardBytes is the most bytes the patterns with wildcards of a
	// file may have together.
	MaxWildcardBytes = 16 << 10
)

// EarliestTime and LatestTime bound valid-after and valid-before:
// EarliestTime <= t < LatestTime, years 1970 through 2099.
var (
	EarliestTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	LatestTime   = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// File is an allowed-signers file Parse accepted.
type File struct {
	// Name is how messages refer to the file.
	Name string
	// Rules are its rules in file order; verify.Policy{Rules: Rules}
	// compiles.
	Rules []verify.Rule
	// NonASCII are the identities and issuers that are not plain ASCII,
	// in file order.
	NonASCII []Field
}

// Field is an IDENTITY or ISSUER of a rule line.
type Field struct {
	Line    int    // 1-based
	Name    string // "identity" or "issuer"
	Pattern string // as written, quotes undone
}

// Warning is one line saying that the file names identities or issuers
// that are not plain ASCII: the first, as FILE:LINE: identity '...'
// with every character outside ASCII escaped, and how many more lines
// have one. It is "" when every identity and issuer is plain ASCII.
func (f *File) Warning() string {
	if len(f.NonASCII) == 0 {
		return ""
	}
	first := f.NonASCII[0]
	more := 0
	for i, n := range f.NonASCII[1:] {
		if n.Line != f.NonASCII[i].Line {
			more++
		}
	}
	msg := fmt.Sprintf("%s:%d: %s '%s' is not plain ASCII: a character outside ASCII can look like an ASCII one, so check that the line names whom you mean", f.Name, first.Line, first.Name, printable.ASCII(first.Pattern))
	switch {
	case more == 1:
		msg += "; 1 more line is not plain ASCII either"
	case more > 1:
		msg += fmt.Sprintf("; %d more lines are not plain ASCII either", more)
	}
	return msg
}

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
// The rules it returns are complete: verify.Policy{Rules: f.Rules}
// compiles.
func Parse(data []byte, name string) (*File, error) {
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
	// A rule is some 600 bytes: growing the slice would copy them over and over.
	f := &File{Name: name, Rules: make([]verify.Rule, 0, ruleLines(lines))}
	wildPatterns, wildBytes := 0, 0
	for i, line := range lines {
		fail := func(reason string) error { return &ParseError{File: name, Line: i + 1, Reason: reason} }
		l, ok, err := parseLine(strings.TrimSuffix(line, "\r"))
		if err != nil {
			return nil, fail(err.Error())
		}
		if !ok {
			continue
		}
		for _, p := range l.patterns {
			if p.wild {
				wildPatterns++
				wildBytes += len(p.text)
			}
			if !printable.IsASCII(p.text) {
				f.NonASCII = append(f.NonASCII, Field{Line: i + 1, Name: p.name, Pattern: p.text})
			}
		}
		if wildPatterns > MaxWildcardPatterns {
			return nil, fail(fmt.Sprintf("more than %d patterns with wildcards in the file: each becomes a regular expression to compile; write exact values where you can", MaxWildcardPatterns))
		}
		if wildBytes > MaxWildcardBytes {
			return nil, fail(fmt.Sprintf("the patterns with wildcards up to this line add up to %d bytes, more than the %d a file may have: each becomes a regular expression to compile; write exact values where you can", wildBytes, MaxWildcardBytes))
		}
		l.rule.Origin = name + ":" + strconv.Itoa(i+1)
		f.Rules = append(f.Rules, l.rule)
	}
	if len(f.Rules) == 0 {
		return nil, &ParseError{File: name, Reason: noSigners}
	}
	return f, nil
}

// ruleLines counts the lines that are neither blank nor comments: at
// least as many as the rules they hold.
func ruleLines(lines []string) int {
	n := 0
	for _, l := range lines {
		l = strings.TrimLeft(l, " \t\r")
		if l != "" && l[0] != '#' {
			n++
		}
	}
	return n
}

const noSigners = "no signers: the file has no rule lines, so it would accept nobody"

// ruleLine is a parsed rule line.
type ruleLine struct {
	rule     verify.Rule
	patterns [2]pattern // the identity and the issuer
}

// pattern is an IDENTITY or ISSUER as written, quotes undone.
type pattern struct {
	name, text string
	wild       bool // it has wildcards: it became a regular expression
}

// parseLine reads one line; ok is false for a blank line or a comment.
func parseLine(line string) (l ruleLine, ok bool, err error) {
	if err := checkText(line); err != nil {
		return l, false, err
	}
	s := &scanner{s: line}
	s.skipBlanks()
	if s.done() || s.peek() == '#' {
		return l, false, nil
	}
	id, err := s.field("identity")
	if err != nil {
		return l, false, err
	}
	s.skipBlanks()
	if s.done() {
		return l, false, fmt.Errorf("missing the issuer: a rule is IDENTITY ISSUER [OPTIONS]")
	}
	issuer, err := s.field("issuer")
	if err != nil {
		return l, false, err
	}
	r := &l.rule
	if r.Identity, r.IdentityRegexp, err = compilePattern("identity", id); err != nil {
		return l, false, err
	}
	if r.Issuer, r.IssuerRegexp, err = compilePattern("issuer", issuer); err != nil {
		return l, false, err
	}
	l.patterns = [2]pattern{{"identity", id, r.IdentityRegexp != ""}, {"issuer", issuer, r.IssuerRegexp != ""}}
	s.skipBlanks()
	if !s.done() {
		if err := s.options(r); err != nil {
			return l, false, err
		}
		s.skipBlanks()
		if !s.done() {
			if s.peek() == '#' {
				return l, false, fmt.Errorf("comments must be on lines of their own")
			}
			return l, false, fmt.Errorf("more than three fields: a rule is IDENTITY ISSUER [OPTIONS]; quote a field that holds spaces")
		}
	}
	return l, true, nil
}

// checkText refuses text that is not UTF-8, and characters that would
// make the line read differently from what it says.
func checkText(line string) error {
	for i, r := range line {
		if r >= ' ' && r < 0x7f || r == '\t' {
			continue // printable ASCII: the common case, decided here
		}
		if r == utf8.RuneError && !strings.HasPrefix(line[i:], "\uFFFD") {
			return fmt.Errorf("not UTF-8 text")
		}
		if r != '\t' && !printable.Safe(string(r)) {
			return fmt.Errorf("character %U is not allowed: control and invisible formatting characters could hide what the line says", r)
		}
	}
	return nil
}
