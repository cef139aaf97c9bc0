//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSetup: in a fresh home, gitsign setup is all it takes for a plain
// git commit to be signed against the local stack and for git
// verify-commit to check it. With the agent started as setup says, it is
// found with no further config: two commits, one login. --undo leaves
// the global config as it was.
func TestSetup(t *testing.T) {
	home := cacheTempDir(t, 0o700) // short: the agent's socket goes under it
	dir := t.TempDir()
	var env []string
	for _, kv := range baseEnv(t, home) {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS":
			continue // the developer's own config, cache and user services
		}
		env = append(env, kv)
	}
	log := filepath.Join(home, "gitsign.log")
	env = append(env, "SIGSTORE_ID_TOKEN="+token(t), "GITSIGN_LOG="+log)
	r := &repo{t: t, dir: dir, env: env, log: log}
	r.git("config", "--global", "user.name", "Alice")
	r.git("config", "--global", "user.email", "alice@example.test")
	before := setupRead(t, filepath.Join(home, ".gitconfig"))
	r.git("init", "-q", "-b", "main")

	out, errOut, err := r.run(gitsignBin, "setup", "--no-agent")
	if err != nil || errOut != "" {
		t.Fatalf("gitsign setup --no-agent: %v\n%s%s", err, out, errOut)
	}
	if got := strings.TrimSpace(r.git("config", "--global", "--get", "--", "gpg.x509.program")); got != gitsignBin {
		t.Errorf("gpg.x509.program = %q, want %q", got, gitsignBin)
	}

	// A plain commit, no -S: commit.gpgsign signs it.
	plainCommit := func(msg string) *signed {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "file.txt"), []byte(msg+time.Now().String()), 0o644); err != nil {
			t.Fatal(err)
		}
		r.git("add", "file.txt")
		r.git("commit", "-q", "-m", msg)
		return readSigned(t, r, "commit", "HEAD")
	}
	plainCommit("one").opensslVerify(t)
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	setupWrite(t, filepath.Join(dir, ".gitsigners"), "alice@example.test "+issuer+"\n")
	r.git("config", "gitsign.allowedSignersFile", ".gitsigners")
	if _, errOut, err := r.run("git", "verify-commit", "HEAD"); err != nil || !strings.Contains(errOut, "alice@example.test") {
		t.Fatalf("git verify-commit HEAD: %v\n%s", err, errOut)
	}
	setupWrite(t, filepath.Join(dir, "bob"), "bob@example.test "+issuer+"\n")
	if _, errOut, err := r.run("git", "-c", "gitsign.allowedSignersFile=bob", "verify-commit", "HEAD"); err == nil {
		t.Fatalf("git verify-commit accepted alice's commit against a policy naming only bob:\n%s", errOut)
	}

	// Now with the agent: setup changes nothing more and says how to
	// start it (no user service manager here); started so, it serves.
	cacheAgentBin(t) // next to gitsign, where setup looks
	out, errOut, err = r.run(gitsignBin, "setup")
	if err != nil || errOut != "" {
		t.Fatalf("gitsign setup: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "nothing changed") {
		t.Errorf("the second setup changed something:\n%s", out)
	}
	m := regexp.MustCompile(`(?m)^it listens on (/\S+), where gitsign looks for it`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("gitsign setup did not say where the agent listens:\n%s", out)
	}
	startCacheAgent(t, m[1])
	first, second := plainCommit("two"), plainCommit("three")
	if serial(first) != serial(second) {
		t.Errorf("two commits with the agent running got two certificates (%s, %s): the agent was not used", serial(first), serial(second))
	}

	out, errOut, err = r.run(gitsignBin, "setup", "--undo")
	if err != nil || errOut != "" {
		t.Fatalf("gitsign setup --undo: %v\n%s%s", err, out, errOut)
	}
	if after := setupRead(t, filepath.Join(home, ".gitconfig")); after != before {
		t.Errorf("after --undo the global config is\n%s\nwant, as before setup,\n%s", after, before)
	}
}

func setupRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func setupWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
