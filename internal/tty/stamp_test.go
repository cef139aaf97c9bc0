package tty

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestStampedLines(t *testing.T) {
	var b bytes.Buffer
	clock := time.Date(2026, 3, 1, 10, 30, 15, 42_000_000, time.FixedZone("CET", 3600))
	s := &stamped{w: &b, now: func() time.Time { clock = clock.Add(time.Millisecond); return clock }}
	for _, p := range []string{"gitsign: error: one\n", "To sign in, open\n\n    https://x\n", "partial ", "line\n"} {
		if n, err := s.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	want := "2026-03-01T09:30:15.043Z gitsign: error: one\n" +
		"2026-03-01T09:30:15.044Z To sign in, open\n" +
		"2026-03-01T09:30:15.044Z \n" +
		"2026-03-01T09:30:15.044Z     https://x\n" +
		"2026-03-01T09:30:15.045Z partial line\n"
	if b.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestLogLinesStamped: every line Open's log gets starts with the time.
func TestLogLinesStamped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gitsign.log")
	m := Open(path)
	m.term, m.errs = &bytes.Buffer{}, &bytes.Buffer{}
	m.Errorf("cannot reach %s", "Fulcio")
	m.Hintf("check the URL")
	m.Terminal().Write([]byte("Waiting for the sign-in...\n"))
	m.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z `)
	if len(lines) != 3 {
		t.Fatalf("log:\n%s", b)
	}
	for _, l := range lines {
		if !stamp.MatchString(l) {
			t.Errorf("line without a time: %q", l)
		}
	}
	if !strings.HasSuffix(lines[0], " gitsign: error: cannot reach Fulcio") {
		t.Errorf("first line %q", lines[0])
	}
}
