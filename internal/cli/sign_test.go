package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/tty"
)

// unexpiredToken is a JWT (never verified here: Fulcio would) for
// a@example.test, expiring in 2100.
const unexpiredToken = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjkiLCJzdWIiOiJhIiwiZW1haWwiOiJhQGV4YW1wbGUudGVzdCIsImV4cCI6NDEwMjQ0NDgwMH0.c2ln"

// signingEnv makes the process environment hermetic for a signing run in
// a directory outside any repository.
func signingEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for k, v := range map[string]string{
		"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.DevNull, "GIT_CEILING_DIRECTORIES": dir,
		"HOME": dir, "XDG_CACHE_HOME": filepath.Join(dir, "cache"), "GITSIGN_LOG": "",
		"SIGSTORE_ID_TOKEN": unexpiredToken,
	} {
		t.Setenv(k, v)
	}
	return dir
}

// withMessages makes runSign write to term and errs, with progress shown
// at once on term, as if term were /dev/tty.
func withMessages(t *testing.T, term, errs *bytes.Buffer) {
	t.Helper()
	openMessages = func(string) *tty.Messages { return tty.New(term, errs, nil).WithProgress(term, 0) }
	t.Cleanup(func() { openMessages = tty.Open })
}

// TestSignProgressAndHints: a signature that fails at Fulcio, with an
// agent configured that is not running. The terminal gets the steps, the
// warning about the agent with how to start it, and nothing else; the
// error is one line on standard error; standard output stays empty.
func TestSignProgressAndHints(t *testing.T) {
	dir := signingEnv(t)
	fulcio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"the token is not for this Fulcio"}`))
	}))
	defer fulcio.Close()
	sock := filepath.Join(dir, "agent.sock")
	t.Setenv("GITSIGN_FULCIO_URL", fulcio.URL)
	t.Setenv("GITSIGN_CACHE", "agent")
	t.Setenv("GITSIGN_CREDENTIAL_CACHE", sock)

	var term, errs, stdout, stderr bytes.Buffer
	withMessages(t, &term, &errs)
	code := run([]string{"--status-fd=2", "-bsau", "KEY"}, streams{in: strings.NewReader("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nm\n"), out: &stdout, err: &stderr})
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if stdout.Len() != 0 || stderr.Len() != 0 {
		t.Errorf("stdout %q, stderr %q: want both empty (status lines only after a signature)", stdout.String(), stderr.String())
	}
	want := "gitsign: asking the agent at " + sock + " for a credential...\n" +
		"gitsign: warning: no credential cache agent is running at " + sock + "; logging in without it\n" +
		"gitsign: hint: start the agent there: gitsign-credential-cache --socket " + sock + " &\n" +
		"gitsign: asking the agent at " + sock + " for a credential... done\n" +
		"gitsign: getting a certificate from Fulcio... failed\n"
	if term.String() != want {
		t.Errorf("terminal:\n%s\nwant:\n%s", term.String(), want)
	}
	if got := errs.String(); !strings.HasPrefix(got, "gitsign: error: fulcio refused the certificate request (401): ") || strings.Count(got, "\n") != 1 {
		t.Errorf("errors: %q", got)
	}
}

// TestSignQuiet: without a terminal, or when every step is quick, there is
// no progress: only the error, with its hint.
func TestSignQuiet(t *testing.T) {
	signingEnv(t)
	t.Setenv("GITSIGN_REKOR_VERSION", "2")
	var term, errs, stdout, stderr bytes.Buffer
	openMessages = func(string) *tty.Messages { return tty.New(&term, &errs, nil) } // no terminal: no progress
	t.Cleanup(func() { openMessages = tty.Open })
	code := run([]string{"--status-fd=2", "-bsau", "KEY"}, streams{in: strings.NewReader("payload"), out: &stdout, err: &stderr})
	if code != 2 || stdout.Len() != 0 || term.Len() != 0 { // settings that cannot work together: exit 2
		t.Errorf("exit %d, stdout %q, terminal %q", code, stdout.String(), term.String())
	}
	want := "gitsign: error: rekor v2 gives no signed time, so signing with it needs a timestamp authority\n" +
		"gitsign: hint: set GITSIGN_TIMESTAMP_SERVER_URL (gitsign.timestampServerURL) to a timestamp authority\n"
	if errs.String() != want {
		t.Errorf("errors %q, want %q", errs.String(), want)
	}
}

// TestSignChannelClean: standard output is where git reads the signature;
// when signing fails, nothing is written there, also for the reference's
// deprecated --detached-sign, whose notice goes to standard error.
func TestSignChannelClean(t *testing.T) {
	signingEnv(t)
	var term, errs bytes.Buffer
	withMessages(t, &term, &errs)
	t.Setenv("GITSIGN_CACHE", "off")
	// Each way signing can fail: a service down or not there, a setting
	// that cannot work, no token and nobody to log in.
	for _, failure := range []map[string]string{
		{"GITSIGN_FULCIO_URL": "http://127.0.0.1:9"}, // nothing listens
		{"GITSIGN_FULCIO_URL": "http://nonexistent.invalid"},
		{"GITSIGN_FULCIO_URL": "fulcio.example"},
		{"GITSIGN_REKOR_MODE": "bogus"},
		{"GITSIGN_REKOR_VERSION": "2"},
		{"GITSIGN_TOKEN_PROVIDER": "google-impersonation"}, // no such provider
		{"GITSIGN_TOKEN_PROVIDER": "spiffe", "SPIFFE_ENDPOINT_SOCKET": "/nonexistent/spire-agent/api.sock"},
		{"SIGSTORE_ID_TOKEN": "", "GITSIGN_TOKEN_PROVIDER": "device", "GITSIGN_OIDC_ISSUER": "http://127.0.0.1:9"},
	} {
		for k, v := range failure {
			t.Setenv(k, v)
		}
		signFailsCleanly(t, fmt.Sprint(failure))
		for k := range failure {
			os.Unsetenv(k)
		}
		t.Setenv("SIGSTORE_ID_TOKEN", unexpiredToken)
	}
}

// signFailsCleanly asks for a signature every way git and the reference
// do, and checks that it fails with nothing on standard output and only
// gitsign's lines on standard error.
func signFailsCleanly(t *testing.T, failure string) {
	t.Helper()
	for _, args := range [][]string{{"--detached-sign", "-s"}, {"-bsau", "x"}, {"--detach-sign", "--sign", "--armor"}} {
		var stdout, stderr bytes.Buffer
		code := run(args, streams{in: strings.NewReader("payload"), out: &stdout, err: &stderr})
		if code == 0 || stdout.Len() != 0 {
			t.Errorf("%s %q: exit %d, stdout %q", failure, args, code, stdout.String())
		}
		deprecated := strings.Contains(stderr.String(), "gitsign: warning: --detached-sign is deprecated: use --detach-sign\n")
		if deprecated != (args[0] == "--detached-sign") {
			t.Errorf("%q: deprecation notice %v on stderr:\n%s", args, deprecated, stderr.String())
		}
		for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			if l != "" && !strings.HasPrefix(l, "gitsign: ") {
				t.Errorf("%q: a line without the gitsign: prefix: %q", args, l)
			}
		}
	}
}
