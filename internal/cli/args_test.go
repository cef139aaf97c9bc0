package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestArgvShapes feeds every argv spelling git and gpgsm users send and
// checks what gitsign understood.
func TestArgvShapes(t *testing.T) {
	tests := []struct {
		argv []string
		want gpgOptions
		args []string
	}{
		{[]string{"--status-fd=2", "-bsau", "Alice <alice@example.test>"},
			gpgOptions{sign: true, detach: true, armor: true, localUser: "Alice <alice@example.test>", statusFD: 2, includeCerts: -2}, nil},
		{[]string{"-s", "-b", "-a", "-u", "KEY", "--status-fd", "2"},
			gpgOptions{sign: true, detach: true, armor: true, localUser: "KEY", statusFD: 2, includeCerts: -2}, nil},
		{[]string{"--sign", "--detach-sign", "--armor", "--local-user=KEY", "--status-fd=2"},
			gpgOptions{sign: true, detach: true, armor: true, localUser: "KEY", statusFD: 2, includeCerts: -2}, nil},
		{[]string{"--detached-sign", "-a"},
			gpgOptions{detach: true, armor: true, statusFD: -1, includeCerts: -2}, nil},
		{[]string{"-bsau", "KEY", "payload.txt"},
			gpgOptions{sign: true, detach: true, armor: true, localUser: "KEY", statusFD: -1, includeCerts: -2}, []string{"payload.txt"}},
		{[]string{"--status-fd=1", "--verify", "/tmp/.git_vtag_tmpXYZ", "-"},
			gpgOptions{verify: true, statusFD: 1, includeCerts: -2}, []string{"/tmp/.git_vtag_tmpXYZ", "-"}},
		{[]string{"-v", "sig", "-"},
			gpgOptions{verify: true, statusFD: -1, includeCerts: -2}, []string{"sig", "-"}},
		{[]string{"--include-certs=-1", "-bsau", "K"},
			gpgOptions{sign: true, detach: true, armor: true, localUser: "K", statusFD: -1, includeCerts: -1}, nil},
		{[]string{"--version"},
			gpgOptions{version: true, statusFD: -1, includeCerts: -2}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			var got gpgOptions
			var gotArgs []string
			called := false
			testOnlyParsed = func(o gpgOptions, a []string) { got, gotArgs, called = o, a, true }
			defer func() { testOnlyParsed = nil }()
			var stderr bytes.Buffer
			if code := run(tt.argv, streams{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &stderr}); code != 0 || !called {
				t.Fatalf("exit %d, parsed=%v, stderr %q", code, called, stderr.String())
			}
			if got != tt.want {
				t.Errorf("parsed %+v, want %+v", got, tt.want)
			}
			if strings.Join(gotArgs, "|") != strings.Join(tt.args, "|") {
				t.Errorf("args %q, want %q", gotArgs, tt.args)
			}
		})
	}
}

func TestArgvErrors(t *testing.T) {
	tests := []struct {
		argv []string
		code int
		msg  string
	}{
		{[]string{"--verify", "-b", "sig", "-"}, 2, "--verify cannot be combined"},
		{[]string{"-bsau", "K", "one", "two"}, 2, "at most one file"},
		{[]string{"--status-fd=x", "-bsau", "K"}, 2, `--status-fd takes a file descriptor number, not "x"`},
		{[]string{"--status-fd=\x1b[2J", "-bsau", "K"}, 2, `--status-fd takes a file descriptor number, not "\x1b[2J"`},
		{[]string{"--frobnicate"}, 2, "unknown flag: --frobnicate"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"--status-fd=2", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, 2, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.argv, streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
			if code != tt.code || !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("exit %d stderr %q, want exit %d and %q", code, stderr.String(), tt.code, tt.msg)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			if n := strings.Count(stderr.String(), "\n"); n != 1 {
				t.Errorf("want a one-line error, got %d lines: %q", n, stderr.String())
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, argv := range [][]string{{"--version"}, {"version"}} {
		var stdout, stderr bytes.Buffer
		if code := run(argv, streams{in: strings.NewReader(""), out: &stdout, err: &stderr}); code != 0 {
			t.Fatalf("%v: exit %d", argv, code)
		}
		if !strings.HasPrefix(stdout.String(), "version: ") || strings.Contains(stdout.String(), "\nsettings:\n") != (argv[0] == "version") || stderr.Len() != 0 {
			t.Errorf("%v printed %q", argv, stdout.String())
		}
	}
}
