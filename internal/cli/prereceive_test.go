package cli

import (
	"strings"
	"testing"
)

// TestSubjectOf: the subject shown to a pusher is the message's first
// line, escaped (a pushed commit is anyone's text), and short.
func TestSubjectOf(t *testing.T) {
	for raw, want := range map[string]string{
		"tree x\nauthor a\n\nfix the thing\n\nbody\n": "fix the thing",
		"tree x\n\n\x1b[31mred\x1b[0m\n":              `\x1b[31mred\x1b[0m`,
		"tree x\n\n" + strings.Repeat("é", 80):        strings.Repeat("é", 57) + "...",
		"tree x\nno message":                          "",
		"tree x\n\nline\rcarriage\n":                  `line\x0dcarriage`,
	} {
		if got := subjectOf([]byte(raw)); got != want {
			t.Errorf("%q: %q, want %q", raw, got, want)
		}
	}
}
