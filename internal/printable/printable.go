// Package printable makes text that comes from outside gitsign (a
// certificate's identity, a server's error, a git object) safe to show on
// a terminal or in a line-oriented stream such as git's status lines: no
// character in it can move the cursor, change colours, reorder the line
// (Unicode bidirectional controls) or start a new line.
//
// It only escapes; it never decides what to print.
package printable

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// String returns s with every character a terminal or a line-oriented
// reader could act on written as an escape: C0 controls, DEL and bytes
// that are not UTF-8 as \xHH, C1 controls, Unicode format characters
// (bidirectional controls, zero-width characters) and line and paragraph
// separators as \uHHHH. Printable text, spaces and backslashes included,
// is unchanged, so ordinary strings come back as they were.
func String(s string) string {
	if Safe(s) {
		return s
	}
	return escape(s, false)
}

// ASCII returns s as String does, and in addition writes every other
// character outside ASCII as \uHHHH (\UHHHHHHHH above U+FFFF), so text
// that only looks like ASCII shows that it is not: a Cyrillic а (U+0430)
// in place of a Latin a comes out as \u0430. Use it where such a
// look-alike would mislead, as in an identity a policy names. Backslashes
// are left as they are, as String leaves them. Printable ASCII comes back
// unchanged.
func ASCII(s string) string {
	if IsASCII(s) && Safe(s) {
		return s
	}
	return escape(s, true)
}

// escape writes s as String describes, and with nonASCII every other
// character outside ASCII too, as ASCII describes.
func escape(s string, nonASCII bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case nonASCII && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case nonASCII && r >= utf8.RuneSelf, unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// IsASCII reports whether every byte of s is ASCII (below 0x80). It says
// nothing about control characters: see Safe.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Safe reports whether s can be shown as it is.
func Safe(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r < 0x20 || r == 0x7f || unsafeRune(r) {
			return false
		}
		i += size
	}
	return true
}

func unsafeRune(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp)
}

// ShellQuote returns s as one POSIX shell word that a shell reads back
// as exactly s and that runs nothing, or false when s holds characters
// that cannot be shown safely (see Safe): such a value should not be
// offered for copying at all.
func ShellQuote(s string) (string, bool) {
	if !Safe(s) {
		return "", false
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !isPlainShellRune(r) }) < 0 {
		return s, true
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", true
}

// isPlainShellRune reports characters no POSIX shell treats specially
// anywhere in a word.
func isPlainShellRune(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r))
}

// JSON returns a JSON document with every character String would escape
// written as a \u escape. encoding/json already escapes C0 controls and
// the line separators; this adds C1 controls and format characters, which
// it leaves raw although a terminal may act on them. The document means
// the same: outside strings JSON is ASCII, and inside them \u escapes
// stand for the characters they replace.
func JSON(doc []byte) []byte {
	if Safe(string(doc)) || !utf8.Valid(doc) {
		return doc
	}
	var b strings.Builder
	for _, r := range string(doc) {
		if r >= 0x80 && unsafeRune(r) {
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
			continue
		}
		b.WriteRune(r)
	}
	return []byte(b.String())
}

// Lines is String for text of several lines: line feeds pass, and so
// does a carriage return right before one; everything else is escaped.
func Lines(s string) string {
	if Safe(strings.ReplaceAll(s, "\n", "")) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		cr := strings.HasSuffix(l, "\r")
		l = String(strings.TrimSuffix(l, "\r"))
		if cr && i < len(lines)-1 {
			l += "\r"
		} else if cr {
			l += `\x0d`
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}
