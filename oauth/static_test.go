package oauth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type tokens struct {
	env, file, expired string
}

func mintTokens(t *testing.T) tokens {
	s := newSigner(t)
	future := time.Now().Add(time.Hour).Unix()
	return tokens{
		env:     s.sign(t, map[string]any{"iss": "https://env.example", "sub": "env-sub", "exp": future}),
		file:    s.sign(t, map[string]any{"iss": "https://file.example", "sub": "file-sub", "email": "ci@example.com", "exp": future}),
		expired: s.sign(t, map[string]any{"iss": "https://env.example", "sub": "env-sub", "exp": time.Now().Add(-time.Minute).Unix()}),
	}
}

func writeToken(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "oidc-token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnvProvider(t *testing.T) {
	tk := mintTokens(t)
	tok, err := Get(context.Background(), Options{Provider: "envvar", LookupEnv: env(map[string]string{EnvIDToken: " " + tk.env + "\n"})})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Raw != tk.env || tok.Source != "envvar" || tok.Subject != "env-sub" || tok.Issuer != "https://env.example" {
		t.Errorf("got %+v", *tok)
	}

	for name, m := range map[string]map[string]string{"unset": {}, "blank": {EnvIDToken: "  \n"}} {
		_, err := Get(context.Background(), Options{Provider: "envvar", LookupEnv: env(m)})
		if !errors.Is(err, ErrNoToken) || !strings.Contains(err.Error(), EnvIDToken) {
			t.Errorf("%s: err = %v, want ErrNoToken naming %s", name, err, EnvIDToken)
		}
	}

	_, err = Get(context.Background(), Options{Provider: "envvar", LookupEnv: env(map[string]string{EnvIDToken: tk.expired})})
	var ee *ExpiredError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "SIGSTORE_ID_TOKEN") || strings.Contains(err.Error(), tk.expired) {
		t.Errorf("expired: err = %v", err)
	}
}

func TestFileProvider(t *testing.T) {
	tk := mintTokens(t)
	p := writeToken(t, tk.file+"\n")
	tok, err := Get(context.Background(), Options{Provider: "filesystem", TokenFile: p, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Raw != tk.file || tok.Source != "filesystem" || tok.Subject != "ci@example.com" || tok.Email != "ci@example.com" {
		t.Errorf("got %+v", *tok)
	}

	_, err = Get(context.Background(), Options{Provider: "filesystem", TokenFile: writeToken(t, "\n\n"), LookupEnv: env(nil)})
	if !errors.Is(err, ErrNoToken) {
		t.Errorf("empty file: %v", err)
	}
	_, err = Get(context.Background(), Options{Provider: "filesystem", TokenFile: writeToken(t, "not a token"), LookupEnv: env(nil)})
	if !errors.Is(err, ErrNotJWT) || strings.Contains(err.Error(), "not a token") {
		t.Errorf("garbage file: %v", err)
	}
	_, err = Get(context.Background(), Options{Provider: "filesystem", TokenFile: writeToken(t, strings.Repeat("a", maxTokenLen+1)), LookupEnv: env(nil)})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge file: %v", err)
	}
	if _, err := os.Stat(DefaultTokenFile); err == nil {
		t.Skip("a real token file exists on this machine")
	}
	_, err = Get(context.Background(), Options{Provider: "filesystem", LookupEnv: env(nil)})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), DefaultTokenFile) {
		t.Errorf("default path: err = %v, want not-exist naming %s", err, DefaultTokenFile)
	}
}

func TestAutoOrder(t *testing.T) {
	tk := mintTokens(t)
	file := writeToken(t, tk.file)
	missing := filepath.Join(t.TempDir(), "absent")
	gha := map[string]string{EnvActionsRequestURL: "ftp://actions.example/token", EnvActionsRequestToken: "secret"}
	display := map[string]string{"DISPLAY": ":0"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		env        map[string]string
		tokenFile  string
		opener     string
		wantSource string
		wantRaw    string
		wantErr    string
	}{
		{"env beats file", with(gha, EnvIDToken, tk.env), file, "", "envvar", tk.env, ""},
		{"file when env unset", gha, file, "", "filesystem", tk.file, ""},
		{"file when env blank", with(gha, EnvIDToken, " "), file, "", "filesystem", tk.file, ""},
		// The later sources fail at once here (no issuer, a bad URL):
		// the error says which one was chosen.
		{"github actions after file", gha, missing, "", "", "", "oauth: github-actions: ACTIONS_ID_TOKEN_REQUEST_URL must be an https URL"},
		{"github actions needs both variables", with(display, EnvActionsRequestURL, "https://x"), missing, "", "", "", "oauth: interactive: no OIDC issuer configured"},
		{"interactive with a display", display, missing, "", "", "", "oauth: interactive: no OIDC issuer configured"},
		{"interactive on wayland", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, missing, "", "", "", "oauth: interactive: no OIDC issuer configured"},
		{"device without a display", nil, missing, "", "", "", "oauth: device: no OIDC issuer configured"},
		{"device over ssh", with(display, "SSH_TTY", "/dev/pts/3"), missing, "", "", "", "oauth: device: no OIDC issuer configured"},
		{"an URL opener means a browser", map[string]string{"SSH_CONNECTION": "a b c d"}, missing, "my-browser {{.URL}}", "", "", "oauth: interactive: no OIDC issuer configured"},
		// A chosen source that fails is not skipped for the next one.
		{"expired env does not fall back", map[string]string{EnvIDToken: tk.expired}, file, "", "", "", "oauth: envvar: reading SIGSTORE_ID_TOKEN: identity token from https://env.example expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Get(context.Background(), Options{TokenFile: tc.tokenFile, URLOpener: tc.opener, LookupEnv: env(tc.env)})
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.Source != tc.wantSource || tok.Raw != tc.wantRaw {
				t.Errorf("source %q, want %q (raw match %v)", tok.Source, tc.wantSource, tok.Raw == tc.wantRaw)
			}
		})
	}
}

func TestAutoUsesDefaultTokenFile(t *testing.T) {
	if _, err := os.Stat(DefaultTokenFile); err == nil {
		t.Skip("a real token file exists on this machine")
	}
	// Absent: the next source is tried.
	_, err := Get(context.Background(), Options{LookupEnv: env(map[string]string{"DISPLAY": ":0"})})
	if err == nil || !strings.HasPrefix(err.Error(), "oauth: interactive:") {
		t.Errorf("err = %v", err)
	}
}

func TestHeadless(t *testing.T) {
	for _, tc := range []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"linux", map[string]string{"DISPLAY": ":0"}, ""},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, ""},
		{"linux", map[string]string{"DISPLAY": "  "}, "there is no display: neither DISPLAY nor WAYLAND_DISPLAY is set"},
		{"freebsd", nil, "there is no display"},
		{"darwin", nil, ""},
		{"windows", nil, ""},
		{"darwin", map[string]string{"SSH_CONNECTION": "1 2 3 4"}, "this is an SSH session: SSH_CONNECTION is set"},
		{"linux", map[string]string{"DISPLAY": "localhost:10.0", "SSH_CLIENT": "1 2 3"}, "this is an SSH session: SSH_CLIENT is set"},
		{"windows", map[string]string{"SSH_TTY": "/dev/pts/0"}, "this is an SSH session: SSH_TTY is set"},
	} {
		if got := Headless(env(tc.env), tc.goos); !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("Headless(%v, %s) = %q, want %q", tc.env, tc.goos, got, tc.want)
		}
	}
}

// TestUnknownProvider: every name the reference has is a provider (the
// configuration refuses other names before Get sees them).
func TestUnknownProvider(t *testing.T) {
	_, err := Get(context.Background(), Options{Provider: "google-impersonation"})
	want := `oauth: unknown token provider "google-impersonation" (want interactive, device, filesystem, envvar, github-actions, buildkite-agent, google-workload-identity, google-impersonate or spiffe)`
	if err == nil || err.Error() != want {
		t.Errorf("unknown: %v\nwant %s", err, want)
	}
	for _, name := range []string{"interactive", "device", "filesystem", "envvar", "github-actions", "buildkite-agent", "google-workload-identity", "google-impersonate", "spiffe"} {
		if sources[name] == nil {
			t.Errorf("no source for %s", name)
		}
	}
}

func TestGetHonoursCancelledContext(t *testing.T) {
	tk := mintTokens(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Get(ctx, Options{Provider: "envvar", LookupEnv: env(map[string]string{EnvIDToken: tk.env})})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestIDTokenFormattingHidesRaw(t *testing.T) {
	tk := mintTokens(t)
	tok, err := ParseUnverified(tk.file)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), fmt.Sprintf("%v %+v %#v", *tok, *tok, *tok)} {
		if strings.Contains(out, tk.file) || strings.Contains(out, strings.Split(tk.file, ".")[2]) {
			t.Errorf("formatting leaks the token: %s", out)
		}
		if !strings.Contains(out, "ci@example.com") {
			t.Errorf("formatting lost the subject: %s", out)
		}
	}
}
