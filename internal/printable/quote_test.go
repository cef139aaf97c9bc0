package printable

import "testing"

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"colour":           `"colour"`,
		"café":             `"café"`,
		`C:\path "x"`:      `"C:\path "x""`,
		"a\x00b\nc\u202ed": `"a\x00b\x0ac\u202ed"`,
		"":                 `""`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}
