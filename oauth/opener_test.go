package oauth

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"firefox --new-tab https://e.x", []string{"firefox", "--new-tab", "https://e.x"}},
		{"  a \t b\n", []string{"a", "b"}},
		{`open -na "Google Chrome" --args`, []string{"open", "-na", "Google Chrome", "--args"}},
		{`open -a 'Google Chrome'`, []string{"open", "-a", "Google Chrome"}},
		{`--profile-directory="Profile 1"`, []string{"--profile-directory=Profile 1"}},
		{`"C:\Program Files\Chrome\chrome.exe" x`, []string{`C:\Program Files\Chrome\chrome.exe`, "x"}},
		{`C:\tools\open.exe a\ b`, []string{`C:\tools\open.exe`, `a\`, "b"}},
		{`'"'`, []string{`"`}},
		{`"'"`, []string{`'`}},
		{`'a "b" c'`, []string{`a "b" c`}},
		{`foo'bar'"baz"`, []string{"foobarbaz"}},
		{`a"b b"c`, []string{"ab bc"}},
		{`x "" y ''`, []string{"x", "", "y", ""}},
		{`''""`, []string{""}},
		{`'it'"'"'s'`, []string{"it's"}},
		{"héllo 'wörld ✓'", []string{"héllo", "wörld ✓"}},
		{"", nil},
		{"   ", nil},
	} {
		got, err := splitCommand(tc.in)
		if err != nil || !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("splitCommand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{`firefox "abc`, `'`, `'"''`, `a 'b`} {
		if got, err := splitCommand(in); err == nil || !strings.Contains(err.Error(), "unterminated") {
			t.Errorf("splitCommand(%q) = %q, %v; want an unterminated-quote error", in, got, err)
		}
	}
}

func TestRenderOpener(t *testing.T) {
	const url = "http://issuer.test/auth?a=1&b=$(rm -rf ~)'\"`;x"
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"firefox {{.URL}}", []string{"firefox", url}},
		{"open -a {{.URL}} Safari", []string{"open", "-a", url, "Safari"}},
		{"my-opener --url={{.URL}}", []string{"my-opener", "--url=" + url}},
		{`"/opt/My Browser/run" "{{.URL}}"`, []string{"/opt/My Browser/run", url}},
	} {
		got, err := renderOpener(tc.cmd, url)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("renderOpener(%q) = %q, %v; want %q", tc.cmd, got, err, tc.want)
		}
	}
	for _, cmd := range []string{
		"firefox --new-tab",          // no {{
		"firefox {{.URL}}\nrm -rf /", // newline
		"firefox\r{{.URL}}",          // carriage return
		"   {{/* */}}",               // renders to an empty program
		`firefox "{{.URL}}`,          // unterminated quote
		"firefox {{.URL}",            // bad template
		"firefox {{.Nope}}",          // unknown field
		"{{",                         // bad template
	} {
		if got, err := renderOpener(cmd, url); err == nil {
			t.Errorf("renderOpener(%q) = %q, want an error", cmd, got)
		}
	}
}

func TestOpenURLReportsOutcome(t *testing.T) {
	term := &syncBuffer{}
	select {
	case err := <-first(openURL("echo opened {{.URL}}", "http://x.test/", term)):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("opener outcome never reported")
	}
	term.waitFor(t, "opened http://x.test/\n")

	err := <-first(openURL("gitsign-test-no-such-opener {{.URL}}", "http://x.test/", term))
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("missing program: %v", err)
	}
	err = <-first(openURL("false {{.URL}}", "http://x.test/", term))
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Errorf("failing program: %v", err)
	}
}

func first(c <-chan error, _ func()) <-chan error { return c }

// FuzzSplitCommand checks two properties of the splitter:
//   - any list of words (the input cut at NUL bytes) survives quoting with
//     joinCommand and splitting;
//   - whatever splitCommand accepts, re-joining and re-splitting its words
//     gives the same words (splitting is a fixed point).
//
// It also checks that no unquoted word contains whitespace.
func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{
		"firefox {{.URL}}", `"C:\Program Files\x.exe" --a="b c" {{.URL}}`,
		`'it'"'"'s'`, `x "" y`, "a\x00b c\x00", `a"b b"c`, `'"`, "\t\n", "\xdb \"\xff\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := strings.Split(s, "\x00")
		got, err := splitCommand(joinCommand(words))
		if err != nil || !slices.Equal(got, words) {
			t.Fatalf("split(join(%q)) = %q, %v", words, got, err)
		}

		first, err := splitCommand(s)
		if err != nil {
			return
		}
		again, err := splitCommand(joinCommand(first))
		if err != nil || !slices.Equal(again, first) {
			t.Fatalf("split(%q) = %q, but split(join(that)) = %q, %v", s, first, again, err)
		}
		if !strings.ContainsAny(s, `'"`) {
			for _, w := range first {
				if w == "" || strings.ContainsAny(w, " \t\n\v\f\r") {
					t.Fatalf("unquoted input %q gave word %q", s, w)
				}
			}
		}
	})
}

// TestBrowserError: pkg/browser's "executable file not found" for its
// list of openers is said for a person, with what to set.
func TestBrowserError(t *testing.T) {
	raw := &exec.Error{Name: "xdg-open,x-www-browser,www-browser", Err: exec.ErrNotFound}
	got := browserError(raw).Error()
	if strings.Contains(got, "xdg-open,x-www-browser") || !strings.Contains(got, "gitsign.urlOpener") {
		t.Errorf("%q", got)
	}
	other := errors.New("other")
	if browserError(other) != other || browserError(nil) != nil {
		t.Error("other errors changed")
	}
}
