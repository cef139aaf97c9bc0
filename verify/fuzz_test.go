package verify

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPolicyAnchor checks anchor, which turns a policy's regular
// expression into one that must match the whole value. Property: anchor
// never panics and either succeeds or returns a *PolicyError quoting the
// expression; it refuses every expression regexp.Compile refuses and the
// known escape `nobody@x\.com)|(.*`; and when it succeeds the anchored
// expression compiles and, for every probe string s (the expression
// itself, the fuzzer's s, and strings built from the expression's parse so
// that some do match), matches s exactly when the original expression has
// a match spanning the whole of s (found with leftmost-longest semantics:
// if any match covers [0, len(s)], the leftmost-longest one does).
func FuzzPolicyAnchor(f *testing.F) {
	for _, seed := range []struct{ re, s string }{
		{`nobody@x\.com)|(.*`, "anyone@evil.com"},
		{`a)|(?:.*`, "b"},
		{`.*@chainguard\.dev`, "billy@chainguard.dev"},
		{`alice|bob`, "alicebob"},
		{`\Qnobody@x.com`, "nobody@x.com"},
		{`\Qa)|(.*\E|b`, "a)|(.*"},
		{`(?i)ALICE@x\.com`, "alice@X.com"},
		{`(?m)^a$`, "a\nb"},
		{`(?s).+`, "a\nb"},
		{`(?U)a+?b*`, "aab"},
		{`^already@anchored\.dev$`, "already@anchored.dev"},
		{`x$|^y`, "x"},
		{`\bfoo\b|\B`, "foo"},
		{`https://github\.com/acme/[^/]+/\.github/workflows/release\.yml@refs/tags/v[0-9]+(\.[0-9]+)*`,
			"https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3"},
		{`[[:alpha:]\p{Greek}]{2,4}\z`, "αβγ"},
		{``, ""},
		{`(`, ""},
		{`x\`, ""},
	} {
		f.Add(seed.re, seed.s, uint64(0))
	}
	f.Fuzz(func(t *testing.T, re, s string, choices uint64) {
		a, err := anchor("identity regexp", re)
		orig, compileErr := regexp.Compile(re)
		if err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Value != re || pe.Rule != "identity regexp" {
				t.Fatalf("anchor(%q): error %T %v, want a *PolicyError quoting it", re, err, err)
			}
			return
		}
		if compileErr != nil {
			t.Fatalf("anchor(%q) = %q, but the expression does not compile: %v", re, a, compileErr)
		}
		if re == `nobody@x\.com)|(.*` {
			t.Fatalf("anchor accepted the known escape: %q", a)
		}
		anchored, err := regexp.Compile(a)
		if err != nil {
			t.Fatalf("anchor(%q) = %q, which does not compile: %v", re, a, err)
		}
		orig.Longest()
		probes := []string{re, s, ""}
		if parsed, err := syntax.Parse(re, syntax.Perl); err == nil {
			g := &generator{choices: choices}
			for range 4 {
				var b strings.Builder
				g.gen(&b, parsed, 0)
				probes = append(probes, b.String())
			}
		}
		for _, p := range probes {
			loc := orig.FindStringIndex(p)
			whole := loc != nil && loc[0] == 0 && loc[1] == len(p)
			if got := anchored.MatchString(p); got != whole {
				t.Fatalf("re %q, anchored %q, s %q: anchored matches %v, original matches the whole of s %v (leftmost-longest match %v)",
					re, a, p, got, whole, loc)
			}
		}
	})
}

// generator builds strings from a parsed expression, choosing branches and
// repeat counts from the bits of choices, so that probe strings often
// match (assertions are ignored, so some do not).
type generator struct {
	choices uint64
	n       int
}

func (g *generator) pick(k int) int {
	if k <= 1 {
		return 0
	}
	c := int(g.choices % uint64(k))
	g.choices = g.choices/uint64(k) ^ uint64(g.n)*0x9e3779b97f4a7c15
	g.n++
	return c
}

func (g *generator) gen(b *strings.Builder, r *syntax.Regexp, depth int) {
	if depth > 20 || b.Len() > 256 {
		return
	}
	switch r.Op {
	case syntax.OpLiteral:
		for _, c := range r.Rune {
			if r.Flags&syntax.FoldCase != 0 && g.pick(2) == 1 {
				c = flip(c)
			}
			b.WriteRune(c)
		}
	case syntax.OpCharClass:
		if len(r.Rune) >= 2 {
			i := 2 * g.pick(len(r.Rune)/2)
			lo, hi := r.Rune[i], r.Rune[i+1]
			c := lo
			if hi > lo && g.pick(2) == 1 {
				c = hi
			}
			writeRune(b, c)
		}
	case syntax.OpAnyCharNotNL:
		b.WriteByte("a.@ "[g.pick(4)])
	case syntax.OpAnyChar:
		b.WriteByte("a\n."[g.pick(3)])
	case syntax.OpCapture:
		g.gen(b, r.Sub[0], depth+1)
	case syntax.OpConcat:
		for _, sub := range r.Sub {
			g.gen(b, sub, depth+1)
		}
	case syntax.OpAlternate:
		g.gen(b, r.Sub[g.pick(len(r.Sub))], depth+1)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, 3
		switch r.Op {
		case syntax.OpPlus:
			lo = 1
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = r.Min, r.Max
			if hi < 0 {
				hi = lo + 2
			}
			if lo > 8 {
				lo = 8
			}
			if hi > lo+3 {
				hi = lo + 3
			}
		}
		for range lo + g.pick(hi-lo+1) {
			g.gen(b, r.Sub[0], depth+1)
		}
	}
	// Empty-width assertions, OpEmptyMatch and OpNoMatch add nothing.
}

// writeRune writes c, or a byte for the invalid-UTF-8 half of a class.
func writeRune(b *strings.Builder, c rune) {
	if utf8.ValidRune(c) {
		b.WriteRune(c)
		return
	}
	b.WriteByte(0xff)
}

func flip(c rune) rune {
	if l := []rune(strings.ToLower(string(c))); len(l) == 1 && l[0] != c {
		return l[0]
	}
	if u := []rune(strings.ToUpper(string(c))); len(u) == 1 {
		return u[0]
	}
	return c
}

// TestAnchorRefusesKnownEscape: the expression that escaped the
// reference's pasted anchoring is refused.
func TestAnchorRefusesKnownEscape(t *testing.T) {
	_, err := anchor("identity regexp", `nobody@x\.com)|(.*`)
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("accepted or wrong error: %v", err)
	}
}
