package tty

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestMessagesEscape: a server's error or an issuer's text cannot drive the
// terminal or forge a second line, on the terminal or in the log.
func TestMessagesEscape(t *testing.T) {
	var term, errs, log bytes.Buffer
	m := New(&term, &errs, &log)
	m.Errorf("%v", errors.New("fulcio: 400: \x1b]0;owned\x07bad\ngitsign: signed as admin"))
	m.Infof("signed as %s", "a\u202eb")
	io := m.Terminal()
	io.Write([]byte("Enter code \x1b[5mABCD\x1b[0m at https://issuer/device\n"))
	for name, b := range map[string]string{"errors": errs.String(), "terminal": term.String(), "log": log.String()} {
		if strings.ContainsAny(b, "\x1b\x07\u202e") {
			t.Errorf("%s: %q", name, b)
		}
	}
	if strings.Count(errs.String(), "\n") != 1 || !strings.Contains(errs.String(), `\x1b]0;owned\x07bad\x0agitsign: signed as admin`) {
		t.Errorf("errors: %q", errs.String())
	}
	if !strings.HasSuffix(term.String(), "Enter code \\x1b[5mABCD\\x1b[0m at https://issuer/device\n") {
		t.Errorf("terminal: %q", term.String())
	}
}
