//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realworldDir holds the real-world vectors (testdata/realworld).
func realworldDir() string { return filepath.Join(repoRoot, "testdata", "realworld") }

// bareRepo is a repository with no configuration beyond gitsign as the
// x509 program, an empty HOME and no network (the tests run inside the
// stack's namespace, and no stack URL is given).
func bareRepo(t *testing.T) *repo {
	t.Helper()
	dir, home := t.TempDir(), t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GIT_") || strings.HasPrefix(name, "GITSIGN_") || strings.HasPrefix(name, "SIGSTORE_") || strings.HasPrefix(name, "TUF_") || name == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	r := &repo{t: t, dir: dir, env: append(env, "HOME="+home, "GIT_CONFIG_NOSYSTEM=1")}
	r.git("init", "-q")
	r.git("config", "gpg.x509.program", gitsignBin)
	r.git("config", "gpg.format", "x509")
	return r
}

func (r *repo) load(typ, file string) string {
	r.t.Helper()
	return strings.TrimSpace(r.git("hash-object", "-t", typ, "-w", "--literally", file))
}

func (r *repo) setPolicy(identity, issuer string) {
	r.git("config", "--replace-all", "gitsign.certificateIdentity", identity)
	r.git("config", "--replace-all", "gitsign.certificateOIDCIssuer", issuer)
}

// TestRealWorldVectors verifies commits and a tag signed by the reference
// against the public Sigstore instance, offline and with zero
// configuration, through git and through gitsign verify.
func TestRealWorldVectors(t *testing.T) {
	r := bareRepo(t)
	files, _ := filepath.Glob(filepath.Join(realworldDir(), "commits", "*.commit"))
	if len(files) == 0 {
		t.Fatal("no vectors")
	}
	var ids []string
	for _, f := range files {
		id := r.load("commit", f)
		if id != strings.TrimSuffix(filepath.Base(f), ".commit") {
			t.Fatalf("%s loaded as %s", f, id)
		}
		ids = append(ids, id)
	}
	tagOID, _ := os.ReadFile(filepath.Join(realworldDir(), "tags", "v0.17.0.oid"))
	tag := r.load("tag", filepath.Join(realworldDir(), "tags", "v0.17.0.tag"))
	if tag != strings.TrimSpace(string(tagOID)) {
		t.Fatalf("tag loaded as %s", tag)
	}
	r.git("update-ref", "refs/tags/v0.17.0", tag)

	// No policy: good signature of unknown validity, and a hint.
	_, stderr, err := r.run("git", "verify-commit", ids[0])
	if err != nil || !strings.Contains(stderr, "good signature from billy@chainguard.dev") || !strings.Contains(stderr, "hint: no identity policy") {
		t.Errorf("verify-commit without policy: %v\n%s", err, stderr)
	}

	r.setPolicy("billy@chainguard.dev", "https://accounts.google.com")
	for _, id := range ids {
		if out, stderr, err := r.run("git", "verify-commit", "--raw", id); err != nil ||
			!strings.Contains(stderr, "[GNUPG:] GOODSIG ") || !strings.Contains(stderr, "TRUST_FULLY") {
			t.Errorf("git verify-commit %s: %v\n%s%s", id, err, out, stderr)
		}
	}
	if _, stderr, err := r.run("git", "verify-tag", "--raw", "v0.17.0"); err != nil || !strings.Contains(stderr, "TRUST_FULLY") {
		t.Errorf("git verify-tag: %v\n%s", err, stderr)
	}
	out, stderr, err := r.run(gitsignBin, append([]string{"verify"}, ids...)...)
	if err != nil || strings.Count(out, "good signature from billy@chainguard.dev") != len(ids) {
		t.Errorf("gitsign verify: %v\n%s%s", err, out, stderr)
	}
	if out, stderr, err := r.run(gitsignBin, "verify-tag", "v0.17.0"); err != nil || !strings.Contains(out, "good signature") {
		t.Errorf("gitsign verify-tag: %v\n%s%s", err, out, stderr)
	}

	// The wrong person: git verify-commit fails.
	r.setPolicy("mallory@example.com", "https://accounts.google.com")
	if _, stderr, err := r.run("git", "verify-commit", "--raw", ids[0]); err == nil || !strings.Contains(stderr, "[GNUPG:] BADSIG") || strings.Contains(stderr, "GOODSIG") {
		t.Errorf("verify-commit with the wrong identity: %v\n%s", err, stderr)
	}
	if out, _, err := r.run(gitsignBin, "verify", ids[0]); err == nil || !strings.Contains(out, "FAILED") {
		t.Errorf("gitsign verify with the wrong identity: %v\n%s", err, out)
	}
}

// TestRealWorldOnlineNeedsRekor: online-mode commits cannot be verified
// without Rekor: a clear error, no GOODSIG, no crash.
func TestRealWorldOnlineNeedsRekor(t *testing.T) {
	r := bareRepo(t)
	r.setPolicy("billy@chainguard.dev", "https://accounts.google.com")
	files, _ := filepath.Glob(filepath.Join(realworldDir(), "online", "*.commit"))
	if len(files) == 0 {
		t.Fatal("no vectors")
	}
	for _, f := range files {
		id := r.load("commit", f)
		_, raw, err := r.run("git", "verify-commit", "--raw", id)
		if err == nil || strings.Contains(raw, "GOODSIG") || !strings.Contains(raw, "[GNUPG:] ERRSIG ") {
			t.Errorf("%s: %v\n%s", id, err, raw)
		}
		_, human, _ := r.run("git", "verify-commit", id)
		if !strings.Contains(human, "online mode") || !strings.Contains(human, "needs Rekor") || strings.Contains(human, "panic") {
			t.Errorf("%s: unclear error:\n%s", id, human)
		}
		if out, _, err := r.run(gitsignBin, "verify", id); err == nil || !strings.Contains(out, "FAILED: this signature was made in online mode") {
			t.Errorf("gitsign verify %s: %v\n%s", id, err, out)
		}
	}
}
