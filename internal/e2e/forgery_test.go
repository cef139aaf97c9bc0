//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// TestDuplicateHeadersRefused signs a commit with two tree headers (git
// reads the first, other readers the last) and checks that neither git's
// path nor gitsign verify accepts it (GHSA-7rmh-48mx-2vwc). gitsign's own
// check after signing refuses such a signature too, so the one verified
// here is made without it (no trusted root for the signer).
func TestDuplicateHeadersRefused(t *testing.T) {
	r := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t))
	r.setPolicy("alice@example.test", stackEnv(t, "GITSIGN_OIDC_ISSUER"))
	empty := strings.TrimSpace(r.git("hash-object", "-t", "tree", "-w", "/dev/null"))
	payload := []byte("tree " + empty + "\ntree " + empty + "\nauthor A <a@example.test> 1 +0000\ncommitter A <a@example.test> 1 +0000\n\ntwo trees\n")
	sign := func(env []string) ([]byte, error) {
		cmd := exec.Command(gitsignBin, "--status-fd=2", "-bsau", "A")
		cmd.Dir, cmd.Env, cmd.Stdin = r.dir, env, bytes.NewReader(payload)
		return cmd.Output()
	}
	if sig, err := sign(r.env); err == nil || len(sig) != 0 || !strings.Contains(r.readLog(), "more than one tree header") {
		t.Errorf("signing a commit with two tree headers: %v, %d bytes of signature\n%s", err, len(sig), r.readLog())
	}
	var unchecked []string
	for _, kv := range r.env {
		if !strings.HasPrefix(kv, "GITSIGN_TRUSTED_ROOT=") {
			unchecked = append(unchecked, kv)
		}
	}
	sig, err := sign(unchecked)
	if err != nil {
		t.Fatalf("signing without the check: %v\n%s", err, r.readLog())
	}
	obj, _, err := gitobj.WithSignature(payload, sig)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "obj")
	os.WriteFile(file, obj, 0o644)
	id := strings.TrimSpace(r.git("hash-object", "-t", "commit", "-w", "--literally", file))

	_, status, err := r.run("git", "verify-commit", "--raw", id)
	if err == nil || strings.Contains(status, "GOODSIG") {
		t.Errorf("git verify-commit accepted a commit with two tree headers:\n%s", status)
	}
	if out, _, err := r.run(gitsignBin, "verify", id); err == nil || !strings.Contains(out, "more than one tree header") {
		t.Errorf("gitsign verify: %v\n%s", err, out)
	}
}

// TestLightweightTagRefused: a lightweight tag has no signature of its own.
func TestLightweightTagRefused(t *testing.T) {
	r := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t))
	r.setPolicy("alice@example.test", stackEnv(t, "GITSIGN_OIDC_ISSUER"))
	r.commit("c")
	r.git("tag", "light")
	if _, stderr, err := r.run(gitsignBin, "verify-tag", "light"); err == nil || !strings.Contains(stderr, "lightweight") {
		t.Errorf("verify-tag of a lightweight tag: %v\n%s", err, stderr)
	}
}
