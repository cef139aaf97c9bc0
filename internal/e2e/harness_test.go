//go:build e2e

// Package e2e runs gitsign through real git against the real local Sigstore
// stack (hack/sigstore-local): real Fulcio, Rekor v1 and v2, timestamp
// authority and OIDC issuer. Run it with `make test`, which starts the stack
// and runs these tests inside its network namespace.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var (
	repoRoot   string
	gitsignBin string
)

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	dir, err := os.MkdirTemp("", "gitsign-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gitsignBin = filepath.Join(dir, "gitsign")
	build := exec.Command("go", "build", "-o", gitsignBin, "./cmd/gitsign")
	build.Dir = repoRoot
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gitsign:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// stackEnv returns a required variable printed by `hack/sigstore-local env`.
func stackEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run these tests with `make test` (it starts hack/sigstore-local and exports its env)", name)
	}
	return v
}

// token returns a fresh ID token from the local issuer, logged in through
// its real login pages.
func token(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "sigstore-local"), append([]string{"token"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/sigstore-local token %v: %v\n%s", args, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// repo is a scratch git repository set up to sign with gitsign.
type repo struct {
	t   *testing.T
	dir string
	env []string
	log string
}

// baseEnv is the environment every gitsign run gets: the local stack and
// nothing from the developer's own git configuration.
func baseEnv(t *testing.T, home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GIT_") || strings.HasPrefix(name, "SIGSTORE_") ||
			(strings.HasPrefix(name, "GITSIGN_") && !strings.HasPrefix(name, "GITSIGN_LOCAL_")) || name == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GITSIGN_FULCIO_URL="+stackEnv(t, "GITSIGN_FULCIO_URL"),
		"GITSIGN_REKOR_URL="+stackEnv(t, "GITSIGN_REKOR_URL"),
		"GITSIGN_OIDC_ISSUER="+stackEnv(t, "GITSIGN_OIDC_ISSUER"),
		"GITSIGN_OIDC_CLIENT_ID="+stackEnv(t, "GITSIGN_OIDC_CLIENT_ID"),
		"GITSIGN_TRUSTED_ROOT="+stackEnv(t, "GITSIGN_TRUSTED_ROOT"),
		"GITSIGN_TIMEOUT=5s",
	)
}

func newRepo(t *testing.T, env ...string) *repo {
	t.Helper()
	dir := t.TempDir()
	home := t.TempDir()
	r := &repo{t: t, dir: dir, log: filepath.Join(home, "gitsign.log")}
	r.env = append(baseEnv(t, home), "GITSIGN_LOG="+r.log)
	r.env = append(r.env, env...)
	r.git("init", "-q", "-b", "main")
	r.git("config", "user.name", "Alice")
	r.git("config", "user.email", "alice@example.test")
	r.git("config", "gpg.format", "x509")
	r.git("config", "gpg.x509.program", gitsignBin)
	return r
}

// run runs a command in the repository and returns stdout, stderr and error.
func (r *repo) run(name string, args ...string) (string, string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = r.dir
	cmd.Env = r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// git runs git and fails the test on error.
func (r *repo) git(args ...string) string {
	r.t.Helper()
	out, errOut, err := r.run("git", args...)
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s%s\ngitsign log:\n%s", strings.Join(args, " "), err, out, errOut, r.readLog())
	}
	return out
}

func (r *repo) readLog() string {
	b, _ := os.ReadFile(r.log)
	return string(b)
}

// commit writes a file and makes a signed commit.
func (r *repo) commit(msg string) string {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, "file.txt"), []byte(msg+time.Now().String()), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("add", "file.txt")
	r.git("commit", "-S", "-q", "-m", msg)
	return strings.TrimSpace(r.git("rev-parse", "HEAD"))
}

func (r *repo) commitCount() int {
	out, _, err := r.run("git", "rev-list", "--count", "HEAD")
	if err != nil {
		return 0 // no commits yet
	}
	var n int
	fmt.Sscan(out, &n)
	return n
}
