// Package receive reads what git tells a pre-receive hook and decides, by
// ref, what the hook must check: git's "<old> <new> <ref>" lines, read with
// bounds, and the ref patterns of gitsign.receive.exempt and
// gitsign.receive.protect. It asks git nothing; internal/cli runs the hook.
package receive

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/gitrepo"
)

// Limits on what git may send: far above any real push, low enough that
// the hook's memory is bounded whatever arrives.
const (
	MaxUpdates = 100_000
	maxLine    = 4096
)

// Update is one ref a push changes.
type Update struct {
	Old, New, Ref string
}

// Created reports whether the push makes the ref.
func (u Update) Created() bool { return isZero(u.Old) }

// Deleted reports whether the push deletes the ref.
func (u Update) Deleted() bool { return isZero(u.New) }

func isZero(id string) bool { return strings.Trim(id, "0") == "" }

// Parse reads git's pre-receive input: one "<old> <new> <ref>" line per
// ref, each id a full object id (idLen hex digits; 0 for either format's,
// the same on every line), each ref a full ref name. Anything else is an
// error naming the line; no more than MaxUpdates lines are read.
func Parse(r io.Reader, idLen int) ([]Update, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxLine)
	var out []Update
	for n := 1; sc.Scan(); n++ {
		if len(out) == MaxUpdates {
			return nil, fmt.Errorf("more than %d ref updates", MaxUpdates)
		}
		f := strings.Split(sc.Text(), " ")
		if idLen == 0 && len(f) == 3 && (len(f[0]) == 40 || len(f[0]) == 64) {
			idLen = len(f[0])
		}
		if len(f) != 3 || !isID(f[0], idLen) || !isID(f[1], idLen) || !validRef(f[2]) {
			return nil, fmt.Errorf("line %d of git's input is not \"<old id> <new id> <ref>\"", n)
		}
		if isZero(f[0]) && isZero(f[1]) {
			return nil, fmt.Errorf("line %d of git's input neither creates nor deletes %s", n, f[2])
		}
		out = append(out, Update{Old: f[0], New: f[1], Ref: f[2]})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a line of git's input is longer than %d bytes", maxLine)
		}
		return nil, fmt.Errorf("reading git's input: %w", err)
	}
	return out, nil
}

func isID(s string, n int) bool { return len(s) == n && gitrepo.IsObjectID(s) }

// validRef accepts what git may name a ref here: "refs/" and printable
// ASCII without spaces or control characters.
func validRef(ref string) bool {
	if !strings.HasPrefix(ref, "refs/") || len(ref) <= len("refs/") {
		return false
	}
	for i := 0; i < len(ref); i++ {
		if ref[i] <= ' ' || ref[i] >= 0x7f {
			return false
		}
	}
	return true
}

// Patterns are ref patterns: a pattern without '*' is a full ref name; a
// '*' matches any characters, '/' included ("refs/heads/scratch/*" matches
// refs/heads/scratch/a/b).
type Patterns []string

// Match reports whether ref matches any of p.
func (p Patterns) Match(ref string) bool {
	for _, pat := range p {
		if match(pat, ref) {
			return true
		}
	}
	return false
}

// match is glob matching with '*' only, by the usual two-pointer walk
// (linear in practice, never exponential).
func match(pat, s string) bool {
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(pat) && pat[i] == '*':
			star, mark = i, j
			i++
		case i < len(pat) && pat[i] == s[j]:
			i++
			j++
		case star >= 0:
			i, mark = star+1, mark+1
			j = mark
		default:
			return false
		}
	}
	for i < len(pat) && pat[i] == '*' {
		i++
	}
	return i == len(pat)
}
