// Package testgit makes git repositories for tests: hermetic (no
// developer settings), of either object format, with as many commits as a
// test needs.
package testgit

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Repo makes a repository of the given object format with one unsigned
// commit on main, changes into it, keeps the developer's git, gitsign and
// Sigstore settings out of the test, and returns its directory.
func Repo(t testing.TB, format string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found:", err)
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GIT_") || strings.HasPrefix(name, "GITSIGN_") || strings.HasPrefix(name, "SIGSTORE_") {
			t.Setenv(name, "") // restored after the test
			os.Unsetenv(name)
		}
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	t.Chdir(dir)
	Run(t, "init", "-q", "-b", "main", "--object-format="+format)
	Run(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "x")
	return dir
}

// Run runs git in the current directory and returns its output, trimmed;
// it fails the test when git fails.
func Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Chain adds n unsigned commits on refs/heads/chain, a history of its own,
// to the current repository with one git fast-import, and returns their
// ids as git rev-list lists them (newest first). Each message is padded
// with pad bytes (a signature is about 4,000).
func Chain(tb testing.TB, n, pad int) []string {
	tb.Helper()
	var in strings.Builder
	for i := range n {
		msg := fmt.Sprintf("commit %d\n%s", i, strings.Repeat("x", pad))
		fmt.Fprintf(&in, "commit refs/heads/chain\ncommitter A <a@example.test> %d +0000\ndata %d\n%s\n", 1700000000+i, len(msg), msg)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("git fast-import: %v\n%s", err, out)
	}
	ids := strings.Fields(Run(tb, "rev-list", "chain"))
	if len(ids) != n {
		tb.Fatalf("%d commits on chain, want %d", len(ids), n)
	}
	return ids
}
