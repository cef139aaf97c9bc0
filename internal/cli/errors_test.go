package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/testspiffe"
	"github.com/gitsign-dev/gitsign/oauth"
)

// TestReport: one error line, then the hints, every line escaped; an
// already reported error prints nothing; the exit code travels.
func TestReport(t *testing.T) {
	var b bytes.Buffer
	err := fmt.Errorf("fulcio: \x1b[2Jbad\nsecond line: %w", usageError("inner").hint("do \x07this"))
	if code := report(&b, err); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	want := "gitsign: error: fulcio: \\x1b[2Jbad\\x0asecond line: inner\ngitsign: hint: do \\x07this\n"
	if b.String() != want {
		t.Errorf("report %q, want %q", b.String(), want)
	}
	b.Reset()
	if code := report(&b, &exitError{code: 1, err: errReported}); code != 1 || b.Len() != 0 {
		t.Errorf("reported error: exit %d, printed %q", code, b.String())
	}
	if code := report(&b, errors.New("plain")); code != 1 {
		t.Errorf("plain error: exit %d", code)
	}
}

// spiffeError returns the error of the spiffe token provider asking
// the Workload API at socket.
func spiffeError(t *testing.T, socket string) error {
	t.Helper()
	_, err := oauth.Get(context.Background(), oauth.Options{Provider: oauth.ProviderSPIFFE, Timeout: 5 * time.Second,
		LookupEnv: func(k string) (string, bool) { return socket, k == oauth.EnvSPIFFEEndpointSocket }})
	if err == nil {
		t.Fatal("the spiffe provider got a token")
	}
	return err
}

// silentTimeout returns a real timeout error from httpx.
func silentTimeout(t *testing.T) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	c := &httpx.Client{Timeout: 100 * time.Millisecond}
	_, err = c.Do(context.Background(), http.MethodGet, "http://"+l.Addr().String(), nil, nil)
	return fmt.Errorf("rekor: %w", err)
}

// TestKnownHints: library errors get hints naming the settings that
// change them; the libraries' own messages name none.
func TestKnownHints(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name string
		err  error
		hint string // a substring of the first hint; "" for none
	}{
		{"git config value", &config.Error{Key: "gitsign.rekorVersion", Value: "3", Reason: "must be 1 or 2"}, "git config --show-origin --get-all gitsign.rekorVersion"},
		{"environment value", &config.Error{Key: "GITSIGN_TIMEOUT", Value: "x", Reason: "r"}, "unset GITSIGN_TIMEOUT"},
		{"no agent", &cache.UnavailableError{Where: "the agent at /s", Socket: "/s", Err: fmt.Errorf("cache: %w", fs.ErrNotExist)}, "start the agent there: gitsign-credential-cache --socket /s &"},
		{"stale agent", &cache.UnavailableError{Where: "the agent at /tmp/a b.sock", Socket: "/tmp/a b.sock", Err: fmt.Errorf("cache: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED})}, "gitsign-credential-cache --socket '/tmp/a b.sock' &"},
		{"no keyring", &cache.UnavailableError{Where: "the OS keyring", Err: &cache.KeyringError{Err: errors.New("no bus")}}, "gitsign.cache off"},
		{"no agent on this system", cache.ErrAgentUnsupported, "gitsign.cache keyring"},
		{"rekor v2", gitsign.ErrNeedsTimestampAuthority, "GITSIGN_TIMESTAMP_SERVER_URL"},
		{"committer", &gitsign.CommitterMismatchError{Email: "b@x"}, "gitsign.matchCommitter"},
		{"expired env token", &oauth.SourceError{Provider: "envvar", Err: &oauth.ExpiredError{Issuer: "i", Expiry: now, Now: now}}, "SIGSTORE_ID_TOKEN holds an expired token"},
		{"expired token file", &oauth.SourceError{Provider: "filesystem", Err: &oauth.ExpiredError{Issuer: "i", Expiry: now, Now: now}}, "GITSIGN_TOKEN_FILE"},
		{"not in a Buildkite job", &oauth.SourceError{Provider: "buildkite-agent", Err: fmt.Errorf("%w: not in a Buildkite job", oauth.ErrNoToken)}, "works in the steps of a Buildkite job"},
		{"no buildkite-agent", &oauth.SourceError{Provider: "buildkite-agent", Err: fmt.Errorf("%w: x", oauth.ErrNoBuildkiteAgent)}, "install buildkite-agent"},
		{"no metadata server", &oauth.SourceError{Provider: "google-workload-identity", Err: fmt.Errorf("%w at u: x", oauth.ErrNoMetadataServer)}, "works on Google Cloud"},
		{"no Google credentials", &oauth.SourceError{Provider: "google-impersonate", Err: fmt.Errorf("%w: x", oauth.ErrNoGoogleCredentials)}, "gcloud auth application-default login"},
		{"no service account to impersonate", &oauth.SourceError{Provider: "google-impersonate", Err: fmt.Errorf("%w: x", oauth.ErrNoServiceAccount)}, "set GOOGLE_SERVICE_ACCOUNT_NAME to the email address"},
		{"no Google credentials, nor metadata server", &oauth.SourceError{Provider: "google-impersonate", Err: fmt.Errorf("%w: x, and %w", oauth.ErrNoGoogleCredentials, oauth.ErrNoMetadataServer)}, "gcloud auth application-default login"},
		{"no token from the IAM Credentials API", &oauth.SourceError{Provider: "google-impersonate", Err: fmt.Errorf("%w: x", oauth.ErrNoToken)}, ""},
		{"no SPIFFE Workload API", &oauth.SourceError{Provider: "spiffe", Err: fmt.Errorf("%w: no socket at /s", oauth.ErrNoWorkloadAPI)}, "start the agent, or set SPIFFE_ENDPOINT_SOCKET to its socket"},
		{"no SPIFFE identity", &oauth.SourceError{Provider: "spiffe", Err: fmt.Errorf("%w: PermissionDenied", oauth.ErrNoSVID)}, "a registration entry's selectors match"},
		{"no SPIFFE socket, as signing says it", fmt.Errorf("getting an identity token: %w", spiffeError(t, filepath.Join(t.TempDir(), "api.sock"))), "start the agent, or set SPIFFE_ENDPOINT_SOCKET"},
		{"SPIRE refuses, as signing says it", fmt.Errorf("getting an identity token: %w", spiffeError(t, testspiffe.Start(t, func(string) (string, error) { return "", testspiffe.ErrNoIdentity }))), "a registration entry's selectors match"},
		{"login timeout", fmt.Errorf("getting an identity token: %w", &oauth.SourceError{Provider: "interactive", Err: oauth.ErrLoginTimeout}), "gitsign.tokenProvider=device"},
		{"device code expired", &oauth.SourceError{Provider: "device", Err: oauth.ErrDeviceCodeExpired}, "enter the code before it expires"},
		{"timeout", silentTimeout(t), "gitsign.timeout (GITSIGN_TIMEOUT"},
		{"server error", fmt.Errorf("rekor: %w", &httpx.StatusError{Method: "POST", URL: "u", Status: 503}), "try again later"},
		{"client error", fmt.Errorf("rekor: %w", &httpx.StatusError{Method: "POST", URL: "u", Status: 400}), ""},
		{"not a repository", &exitError{code: 2, err: gitrepo.ErrNotRepository}, "or set GIT_DIR"},
	} {
		hs := hintsOf(tc.err)
		switch {
		case tc.hint == "" && len(hs) != 0:
			t.Errorf("%s: hints %q, want none", tc.name, hs)
		case tc.hint != "" && (len(hs) == 0 || !strings.Contains(hs[0], tc.hint)):
			t.Errorf("%s: hints %q, want one with %q", tc.name, hs, tc.hint)
		}
		for _, h := range hs {
			if strings.Contains(h, "\n") {
				t.Errorf("%s: hint on more than one line: %q", tc.name, h)
			}
		}
	}
}
