//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// quickStart returns the shell lines of README.md's quick start: the first
// ```sh block under the "## Quick start" heading, without its first line,
// which installs gitsign (the test puts the binaries it built on PATH
// instead).
func quickStart(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var block []string
	inSection, inBlock, done := false, false, false
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for sc.Scan() && !done {
		line := sc.Text()
		switch {
		case inBlock && line == "```":
			done = true
		case inBlock:
			block = append(block, line)
		case strings.HasPrefix(line, "## "):
			inSection = line == "## Quick start"
		case inSection && line == "```sh":
			inBlock = true
		}
	}
	if !done || len(block) < 2 {
		t.Fatal("README.md has no ```sh block under \"## Quick start\"")
	}
	if install := block[0]; !strings.Contains(install, "install") {
		t.Fatalf("the quick start's first line should install gitsign, it is: %s", install)
	}
	return strings.Join(block[1:], "\n") + "\n"
}

// TestQuickStart runs README.md's quick start as written, in a fresh HOME
// and a new repository, against the local stack: gitsign setup, a commit,
// gitsign show, .gitsigners from its line, gitsign verify. Afterwards it
// checks on its own that every commit is signed and verifies against the
// .gitsigners the quick start wrote, and that another file refuses them. Only the install
// line is replaced (the built binaries are on PATH); the stack's settings
// and alice's ID token come from the environment, as a CI job's would.
func TestQuickStart(t *testing.T) {
	script := quickStart(t)
	bin := filepath.Dir(gitsignBin)
	cacheAgentBin(t) // gitsign-credential-cache next to gitsign, where setup looks

	home := t.TempDir()
	dir := t.TempDir()
	var env []string
	for _, kv := range baseEnv(t, home) {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "PATH", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS":
			// PATH is set below; the rest would reach the developer's own
			// config, cache or user services instead of the fresh HOME's.
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SIGSTORE_ID_TOKEN="+token(t),
		"GITSIGN_LOG="+filepath.Join(home, "gitsign.log"),
	)
	r := &repo{t: t, dir: dir, env: env, log: filepath.Join(home, "gitsign.log")}
	// A person who follows the quick start has git set up and a repository.
	r.git("config", "--global", "user.name", "Alice")
	r.git("config", "--global", "user.email", "alice@example.test")
	r.git("init", "-q", "-b", "main")

	cmd := exec.Command("bash", "-e", "-o", "pipefail", "-x")
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the quick start failed: %v\n%s\n--- script:\n%s--- gitsign log:\n%s", err, out.String(), script, r.readLog())
	}
	t.Logf("quick start output:\n%s", out.String())

	// It did what it says, checked here without the script's help.
	for key, want := range map[string]string{
		"gpg.format":       "x509",
		"gpg.x509.program": gitsignBin,
		"commit.gpgsign":   "true",
	} {
		if got := strings.TrimSpace(r.git("config", "--global", "--get", "--", key)); got != want {
			t.Errorf("gitsign setup left %s = %q in the global config, want %q", key, got, want)
		}
	}
	if n := r.commitCount(); n < 1 {
		t.Fatal("the quick start made no commit")
	}
	revs := strings.Fields(r.git("rev-list", "HEAD"))
	for _, rev := range revs {
		readSigned(t, r, "commit", rev).opensslVerify(t)
	}
	wantLine := fmt.Sprintf("alice@example.test %s", stackEnv(t, "GITSIGN_OIDC_ISSUER"))
	signers, err := os.ReadFile(filepath.Join(dir, ".gitsigners"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(signers)); got != wantLine {
		t.Errorf(".gitsigners is %q, want %q", got, wantLine)
	}
	args := append([]string{"verify", "--allowed-signers", ".gitsigners"}, revs...)
	stdout, stderr, err := r.run(gitsignBin, args...)
	if err != nil {
		t.Fatalf("gitsign %s: %v\n%s%s", strings.Join(args, " "), err, stdout, stderr)
	}
	// And .gitsigners decides: a file naming someone else refuses the commit.
	if err := os.WriteFile(filepath.Join(dir, "other"), []byte("bob@example.test "+stackEnv(t, "GITSIGN_OIDC_ISSUER")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err = r.run(gitsignBin, "verify", "--allowed-signers", "other", "HEAD")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("gitsign verify against a file listing only bob: %v, want exit 1 (not accepted)\n%s%s", err, stdout, stderr)
	}
}
