//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyRoundTrip signs commits and tags in every mode on the local
// stack and verifies them through git and gitsign verify.
func TestVerifyRoundTrip(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newRepo(t, append(m.env(t), "SIGSTORE_ID_TOKEN="+token(t))...)
			r.commit("one")
			head := r.commit("two")
			r.git("tag", "-s", "v1", "-m", "v1")
			r.setPolicy("alice@example.test", issuer)
			for _, args := range [][]string{{"verify-commit", "--raw", "HEAD"}, {"verify-commit", "--raw", "HEAD~1"}, {"verify-tag", "--raw", "v1"}} {
				if _, stderr, err := r.run("git", args...); err != nil || !strings.Contains(stderr, "[GNUPG:] GOODSIG ") || !strings.Contains(stderr, "TRUST_FULLY") {
					t.Errorf("git %v: %v\n%s\n%s", args, err, stderr, r.readLog())
				}
			}
			if out, stderr, err := r.run(gitsignBin, "verify", "HEAD~1", "HEAD~1..HEAD"); err != nil || strings.Count(out, "good signature from alice@example.test") != 2 {
				t.Errorf("gitsign verify: %v\n%s%s", err, out, stderr)
			}
			if out, stderr, err := r.run(gitsignBin, "verify-tag", "v1"); err != nil || !strings.Contains(out, "good signature") {
				t.Errorf("gitsign verify-tag: %v\n%s%s", err, out, stderr)
			}
			if got := strings.TrimSpace(r.git("log", "-1", "--format=%G? %GS", head)); got != "G alice@example.test" {
				t.Errorf("%%G? %%GS = %q", got)
			}
		})
	}
}

// TestShowSignatureBranch: git log --show-signature over 50 signed commits.
func TestShowSignatureBranch(t *testing.T) {
	r := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t))
	for i := 0; i < 50; i++ {
		r.commit(fmt.Sprintf("commit %d", i))
	}
	r.setPolicy("alice@example.test", stackEnv(t, "GITSIGN_OIDC_ISSUER"))
	marks := strings.Fields(r.git("log", "--format=%G?"))
	if len(marks) != 50 || strings.Trim(strings.Join(marks, ""), "G") != "" {
		t.Errorf("%%G? over the branch: %v", marks)
	}
	out := r.git("log", "--show-signature")
	if n := strings.Count(out, "gitsign: good signature from alice@example.test"); n != 50 {
		t.Errorf("--show-signature shows %d good signatures, want 50", n)
	}
}

// TestVerifyStatusAgainstGit checks each verification outcome's status
// lines by what git makes of them: %G? and verify-commit's exit status.
func TestVerifyStatusAgainstGit(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	r := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t))
	good := r.commit("good")

	// A forged commit: the good commit's signature over changed content.
	raw := r.git("cat-file", "commit", good)
	forgedFile := filepath.Join(t.TempDir(), "forged")
	os.WriteFile(forgedFile, []byte(strings.Replace(raw, "\ngood\n", "\nevil\n", 1)), 0o644)
	forged := strings.TrimSpace(r.git("hash-object", "-t", "commit", "-w", forgedFile))

	// A commit whose signature cannot be read.
	garbled := strings.Replace(raw, "gpgsig -----BEGIN SIGNED MESSAGE-----\n M", "gpgsig -----BEGIN SIGNED MESSAGE-----\n %", 1)
	garbledFile := filepath.Join(t.TempDir(), "garbled")
	os.WriteFile(garbledFile, []byte(garbled), 0o644)
	unreadable := strings.TrimSpace(r.git("hash-object", "-t", "commit", "-w", garbledFile))

	cases := []struct {
		name, commit string
		policy       []string // identity, issuer; nil = none
		mark         string
		ok           bool
		status       []string
	}{
		{"good, policy matches", good, []string{"alice@example.test", issuer}, "G", true, []string{"NEWSIG", "GOODSIG", "VALIDSIG", "TRUST_FULLY"}},
		{"good, no policy", good, nil, "U", true, []string{"NEWSIG", "GOODSIG", "VALIDSIG", "TRUST_UNDEFINED"}},
		{"good, policy mismatch", good, []string{"bob@example.test", issuer}, "B", false, []string{"NEWSIG", "BADSIG"}},
		{"bad signature", forged, []string{"alice@example.test", issuer}, "B", false, []string{"NEWSIG", "BADSIG"}},
		{"unverifiable", unreadable, []string{"alice@example.test", issuer}, "E", false, []string{"NEWSIG", "ERRSIG"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r.run("git", "config", "--unset-all", "gitsign.certificateIdentity")
			r.run("git", "config", "--unset-all", "gitsign.certificateOIDCIssuer")
			if c.policy != nil {
				r.setPolicy(c.policy[0], c.policy[1])
			}
			_, status, err := r.run("git", "verify-commit", "--raw", c.commit)
			if (err == nil) != c.ok {
				t.Errorf("verify-commit exit: %v, want success=%v\n%s", err, c.ok, status)
			}
			var keywords []string
			for _, l := range strings.Split(strings.TrimSpace(status), "\n") {
				if f := strings.Fields(l); len(f) > 1 && f[0] == "[GNUPG:]" {
					keywords = append(keywords, f[1])
				}
			}
			if strings.Join(keywords, " ") != strings.Join(c.status, " ") {
				t.Errorf("status lines %v, want %v", keywords, c.status)
			}
			if mark := strings.TrimSpace(r.git("show", "-s", "--format=%G?", c.commit)); mark != c.mark {
				t.Errorf("%%G? = %s, want %s", mark, c.mark)
			}
		})
	}
}
