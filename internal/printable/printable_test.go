package printable

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.com":     "alice@example.com",
		`https://x\.y`:          `https://x\.y`,
		"ünïcödé ✓":             "ünïcödé ✓",
		"a\nb":                  `a\x0ab`,
		"\x1b[31mred\x1b[0m":    `\x1b[31mred\x1b[0m`,
		"\r[GNUPG:] GOODSIG":    `\x0d[GNUPG:] GOODSIG`,
		"del\x7f":               `del\x7f`,
		"c1 \u009b31m":          `c1 \u009b31m`,
		"bidi \u202eevil\u202c": `bidi \u202eevil\u202c`,
		"zero\u200bwidth":       `zero\u200bwidth`,
		"line\u2028sep":         `line\u2028sep`,
		"bad \xff\xfe utf8":     `bad \xff\xfe utf8`,
		"tab\there":             `tab\x09here`,
		"":                      "",
	} {
		got := String(in)
		if got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
		if !Safe(got) {
			t.Errorf("String(%q) = %q is not safe", in, got)
		}
		if Safe(in) != (in == want) {
			t.Errorf("Safe(%q) = %v", in, Safe(in))
		}
	}
}

// TestASCII: everything String escapes is escaped the same way, and so is
// every other character outside ASCII, look-alikes included.
func TestASCII(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.com":      "alice@example.com",
		`https://x\.y \* "q"`:    `https://x\.y \* "q"`,
		"\u0430lice@example.com": `\u0430lice@example.com`,
		"ex\u0430mple.com":       `ex\u0430mple.com`,
		"ünï ✓":                  `\u00fcn\u00ef \u2713`,
		"emoji \U0001F600":       `emoji \U0001f600`,
		"\x1b[31mred":            `\x1b[31mred`,
		"tab\there":              `tab\x09here`,
		"bidi \u202eevil":        `bidi \u202eevil`,
		"c1 \u009b":              `c1 \u009b`,
		"bad \xff utf8":          `bad \xff utf8`,
		"replacement \uFFFD":     `replacement \ufffd`,
		"":                       "",
	} {
		got := ASCII(in)
		if got != want {
			t.Errorf("ASCII(%q) = %q, want %q", in, got, want)
		}
		if !IsASCII(got) || !Safe(got) {
			t.Errorf("ASCII(%q) = %q is not safe ASCII", in, got)
		}
	}
	for in, want := range map[string]bool{"": true, "a b\t~": true, "\x7f": true, "é": false, "a\u0430": false, "\xff": false} {
		if IsASCII(in) != want {
			t.Errorf("IsASCII(%q) = %v", in, !want)
		}
	}
}

// FuzzASCII: what comes out is printable ASCII, and printable ASCII comes
// out as it went in.
func FuzzASCII(f *testing.F) {
	f.Add("\u0430lice")
	f.Add("\U0001F600\xff\x1b")
	f.Fuzz(func(t *testing.T, s string) {
		out := ASCII(s)
		if !IsASCII(out) || !Safe(out) {
			t.Fatalf("ASCII(%q) = %q", s, out)
		}
		if IsASCII(s) && Safe(s) && out != s {
			t.Fatalf("printable ASCII %q changed to %q", s, out)
		}
		if Safe(s) && !IsASCII(s) && out == s {
			t.Fatalf("%q came back unescaped", s)
		}
	})
}

// FuzzString: whatever goes in, what comes out is valid UTF-8 with no
// control, format or separator character.
func FuzzString(f *testing.F) {
	f.Add("\x1b]0;title\x07")
	f.Add("\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if !utf8.ValidString(out) || !Safe(out) {
			t.Fatalf("String(%q) = %q", s, out)
		}
		if Safe(s) && out != s {
			t.Fatalf("safe %q changed to %q", s, out)
		}
	})
}

// TestShellQuote runs each quoted word through a real shell: it must come
// back as exactly the value and run nothing.
func TestShellQuote(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	for _, v := range []string{
		"alice@example.com",
		"https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
		"$(touch pwned)",
		"`touch pwned`",
		"it's; touch pwned",
		"a b  c",
		"*",
		"~root",
		"-n",
		"",
		"'",
		`\`,
		"!x",
		"a#b",
	} {
		q, ok := ShellQuote(v)
		if !ok {
			t.Errorf("%q: refused", v)
			continue
		}
		cmd := exec.Command(sh, "-c", "printf '%s' "+q)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil || string(out) != v {
			t.Errorf("%q quoted as %s: shell printed %q (%v)", v, q, out, err)
		}
	}
	if out, _ := exec.Command("ls", "-A", dir).Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("a quoted value ran a command: %s", out)
	}
	for _, v := range []string{"a\nb", "\x1b[2J", "\u202e"} {
		if _, ok := ShellQuote(v); ok {
			t.Errorf("%q: offered for copying", v)
		}
	}
}

func TestJSON(t *testing.T) {
	type doc struct{ Identity string }
	for _, id := range []string{"alice@example.com", "x\u009b2J\u202ey\U000e0041z", "a\x1bb\nc"} {
		raw, err := json.Marshal(doc{id})
		if err != nil {
			t.Fatal(err)
		}
		out := JSON(raw)
		if !Safe(string(out)) {
			t.Errorf("%q: %s is not safe", id, out)
		}
		var back doc
		if err := json.Unmarshal(out, &back); err != nil || back.Identity != id {
			t.Errorf("%q: %s reads back as %q (%v)", id, out, back.Identity, err)
		}
	}
}

func TestLines(t *testing.T) {
	for in, want := range map[string]string{
		"Open https://issuer/device\nand enter ABCD-EFGH\n": "Open https://issuer/device\nand enter ABCD-EFGH\n",
		"crlf\r\nok":             "crlf\r\nok",
		"\x1b[2Jcode: \u202eX\n": `\x1b[2Jcode: \u202eX` + "\n",
		"lone cr\rover":          `lone cr\x0dover`,
		"end cr\r":               `end cr\x0d`,
	} {
		if got := Lines(in); got != want {
			t.Errorf("Lines(%q) = %q, want %q", in, got, want)
		}
	}
}
