package oauth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildkiteStandIn is a `buildkite-agent` on PATH that behaves as the
// real one for `oidc request-token`: it needs the agent's access token and
// the job (BUILDKITE_JOB_ID), which the agent sets in each job, prints
// the token and a newline on standard output, and otherwise exits 1 with
// a fatal error on standard error. After a failed API request the real
// one logs a warning for each retry before its error; BK_MODE makes the
// stand-in answer that way, or misbehave. It records its arguments, one a
// line, in args.
const buildkiteStandIn = `#!/bin/sh
dir=$(dirname "$0")
printf '%s\n' "$@" > "$dir/args"
if [ "$1" != oidc ] || [ "$2" != request-token ]; then
	echo "buildkite-agent: unknown command $1 $2" >&2; exit 1
fi
shift 2
aud=
while [ $# -gt 0 ]; do
	case $1 in
	--audience) aud=$2; shift 2 ;;
	*) echo "fatal: flag provided but not defined: $1" >&2; exit 1 ;;
	esac
done
if [ -z "$BUILDKITE_AGENT_ACCESS_TOKEN" ]; then
	echo "fatal: Missing agent-access-token. See: 'buildkite-agent oidc request-token --help'" >&2; exit 1
fi
if [ -z "$BUILDKITE_JOB_ID" ]; then
	echo "fatal: Missing job. See: 'buildkite-agent oidc request-token --help'" >&2; exit 1
fi
case $BK_MODE in
api-error)
	for i in 1 2 3 4; do
		echo "2026-12-04 23:00:0$i WARN   POST https://agent.buildkite.com/v3/jobs/$BUILDKITE_JOB_ID/oidc/tokens: 500 (Attempt $i/5 Retrying in 2s)" >&2
	done
	echo "2026-12-04 23:00:05 ERROR  Could not obtain OIDC token for audience $aud" >&2
	echo "fatal: POST https://agent.buildkite.com/v3/jobs/$BUILDKITE_JOB_ID/oidc/tokens: 500 Internal Server Error" >&2
	exit 1 ;;
escape) printf 'fatal: \033[31mred\033[0m\n' >&2; exit 1 ;;
hang) exec sleep 30 ;;
empty) exit 0 ;;
big) head -c 70000 /dev/zero | tr '\0' a; exit 0 ;;
esac
cat "$dir/token.$aud" || exit 1
`

// buildkiteJob puts the stand-in first on PATH, with token (a JWT) as
// what it prints for audience sigstore, and sets the variables of a
// Buildkite job. It returns the stand-in's directory.
func buildkiteJob(t *testing.T, token string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "buildkite-agent"), []byte(buildkiteStandIn), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token.sigstore"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("BUILDKITE_AGENT_ACCESS_TOKEN", "agent-secret")
	t.Setenv("BUILDKITE_JOB_ID", "01890d5c-0000-4000-8000-000000000001")
	t.Setenv("BK_MODE", "")
	return dir
}

func TestBuildkiteProvider(t *testing.T) {
	s := newSigner(t)
	good := s.sign(t, map[string]any{"iss": "https://agent.buildkite.com", "sub": "organization:acme:pipeline:demo:ref:refs/heads/main:commit:abc:step:sign",
		"aud": "sigstore", "exp": time.Now().Add(5 * time.Minute).Unix()})
	dir := buildkiteJob(t, good)
	tok, err := Get(context.Background(), Options{Provider: "buildkite-agent"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Source != "buildkite-agent" || tok.Raw != good || tok.Issuer != "https://agent.buildkite.com" || !strings.HasPrefix(tok.Subject, "organization:acme:") {
		t.Errorf("%v", tok)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if string(args) != "oidc\nrequest-token\n--audience\nsigstore\n" {
		t.Errorf("arguments %q", args)
	}

	// A client ID is the audience asked for, as with GitHub Actions.
	if err := os.WriteFile(filepath.Join(dir, "token.fulcio 'x'"), []byte(s.sign(t, map[string]any{"iss": "https://agent.buildkite.com", "sub": "x",
		"aud": "fulcio 'x'", "exp": time.Now().Add(5 * time.Minute).Unix()})), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Get(context.Background(), Options{Provider: "buildkite-agent", ClientID: "fulcio 'x'"}); err != nil {
		t.Fatal(err)
	}
	if args, _ := os.ReadFile(filepath.Join(dir, "args")); string(args) != "oidc\nrequest-token\n--audience\nfulcio 'x'\n" {
		t.Errorf("arguments %q", args)
	}
}

func TestBuildkiteFailures(t *testing.T) {
	s := newSigner(t)
	future := time.Now().Add(5 * time.Minute).Unix()
	good := s.sign(t, map[string]any{"iss": "https://agent.buildkite.com", "sub": "x", "aud": "sigstore", "exp": future})
	const run = `buildkite-agent oidc request-token --audience "sigstore"`
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, dir string)
		timeout time.Duration
		want    string
	}{
		{"not in a job", func(t *testing.T, _ string) { t.Setenv("BUILDKITE_AGENT_ACCESS_TOKEN", "") },
			0, "oauth: buildkite-agent: no identity token: not in a Buildkite job: BUILDKITE_AGENT_ACCESS_TOKEN is not set (the Buildkite agent sets it in each job)"},
		{"no command", func(t *testing.T, _ string) { t.Setenv("PATH", t.TempDir()) },
			0, "oauth: buildkite-agent: the buildkite-agent command is not found on PATH: it asks the Buildkite agent for the job's token"},
		{"no job", func(t *testing.T, _ string) { t.Setenv("BUILDKITE_JOB_ID", "") },
			0, "oauth: buildkite-agent: " + run + " exited with status 1: fatal: Missing job. See: 'buildkite-agent oidc request-token --help'"},
		{"API error after retries", func(t *testing.T, _ string) { t.Setenv("BK_MODE", "api-error") },
			0, "exited with status 1: fatal: POST https://agent.buildkite.com/v3/jobs/01890d5c-0000-4000-8000-000000000001/oidc/tokens: 500 Internal Server Error"},
		{"escapes", func(t *testing.T, _ string) { t.Setenv("BK_MODE", "escape") },
			0, `exited with status 1: fatal: \x1b[31mred\x1b[0m`},
		{"hangs", func(t *testing.T, _ string) { t.Setenv("BK_MODE", "hang") },
			100 * time.Millisecond, run + " did not finish within 200ms"},
		{"prints nothing", func(t *testing.T, _ string) { t.Setenv("BK_MODE", "empty") },
			0, "no identity token: " + run + " printed nothing"},
		{"prints too much", func(t *testing.T, _ string) { t.Setenv("BK_MODE", "big") },
			0, run + " printed more than 65536 bytes, which is no token"},
		{"not a JWT", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "token.sigstore"), "not a token\n") },
			0, "the Buildkite token: identity token is not a JWT: want 3 dot-separated parts, got 1"},
		{"expired", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "token.sigstore"), s.sign(t, map[string]any{"iss": "https://agent.buildkite.com", "sub": "x", "aud": "sigstore", "exp": time.Now().Add(-time.Minute).Unix()}))
		}, 0, "the Buildkite token: identity token from https://agent.buildkite.com expired at"},
		{"other audience", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "token.sigstore"), s.sign(t, map[string]any{"iss": "https://agent.buildkite.com", "sub": "x", "aud": "sts.amazonaws.com", "exp": future}))
		}, 0, `the Buildkite token is for audience sts.amazonaws.com, not the "sigstore" that was asked for`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := buildkiteJob(t, good)
			tc.setup(t, dir)
			start := time.Now()
			tok, err := Get(context.Background(), Options{Provider: "buildkite-agent", Timeout: tc.timeout})
			if err == nil {
				t.Fatalf("got %v", tok)
			}
			var se *SourceError
			if !errors.As(err, &se) || se.Provider != "buildkite-agent" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "\x1b") {
				t.Errorf("error is not one plain line: %q", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
