//go:build e2e

package e2e

// Differential tests: objects signed for real on the local stack, then
// altered the ways an attacker could, judged by git (verify-commit,
// verify-tag, %G?) and by gitsign verify / verify-tag. The rule: gitsign
// never accepts an object git does not, and agrees with git on the good
// ones.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// writeLiterally stores content as an object of type typ, unchecked, and
// returns its id.
func (r *repo) writeLiterally(typ, content string) string {
	r.t.Helper()
	file := filepath.Join(r.t.TempDir(), "object")
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return strings.TrimSpace(r.git("hash-object", "-t", typ, "-w", "--literally", file))
}

// verdicts is what git and gitsign make of one object.
type verdicts struct {
	git, gitsign bool   // the object verified
	mark         string // %G?, for commits
	gitOut, out  string // what each said
}

// judge verifies the object id of type typ with git and with gitsign;
// a tag is given to gitsign verify-tag through a ref named name.
func (r *repo) judge(typ, id, name string) verdicts {
	r.t.Helper()
	var v verdicts
	_, gitErr, err := r.run("git", "verify-"+typ, "--raw", id)
	v.git, v.gitOut = err == nil, gitErr
	policy := []string{"--certificate-identity", "alice@example.test", "--certificate-oidc-issuer", stackEnv(r.t, "GITSIGN_OIDC_ISSUER")}
	args := append([]string{"verify"}, append(policy, id)...)
	if typ == "tag" {
		r.git("update-ref", "refs/tags/"+name, id)
		args = append([]string{"verify-tag"}, append(policy, name)...)
	} else {
		v.mark = strings.TrimSpace(r.git("log", "-1", "--format=%G?", id))
	}
	out, errOut, err := r.run(gitsignBin, args...)
	v.gitsign, v.out = err == nil, out+errOut
	return v
}

// signPayload signs payload with gitsign as git would ask it to and
// returns the armored signature.
func (r *repo) signPayload(payload string) []byte {
	r.t.Helper()
	cmd := exec.Command(gitsignBin, "--status-fd=2", "-bsau", "Alice <alice@example.test>")
	cmd.Dir, cmd.Env, cmd.Stdin = r.dir, r.env, strings.NewReader(payload)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	sig, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("signing: %v\n%s\n%s", err, stderr.String(), r.readLog())
	}
	return sig
}

// TestDifferentialAgainstGit crafts objects around real signatures and
// checks gitsign's verdict against git's.
func TestDifferentialAgainstGit(t *testing.T) {
	r := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t))
	r.setPolicy("alice@example.test", stackEnv(t, "GITSIGN_OIDC_ISSUER"))
	head := r.commit("signed")
	r.git("tag", "-s", "v1", "-m", "v1")
	// A tag whose message has a BEGIN line git knows no signature by.
	r.git("tag", "-s", "v2", "-m", "release notes\n-----BEGIN FOO-----\nnot a signature\n-----END FOO-----")
	commit := r.git("cat-file", "commit", head)
	tag := r.git("cat-file", "tag", "v1")
	if !strings.Contains(commit, "\ngpgsig -----BEGIN SIGNED MESSAGE-----\n") || !strings.HasSuffix(tag, "-----END SIGNED MESSAGE-----\n") {
		t.Fatalf("unexpected objects:\n%s\n%s", commit, tag)
	}
	empty := strings.TrimSpace(r.git("hash-object", "-t", "tree", "-w", "/dev/null"))
	noCommitter := "tree " + empty + "\nauthor Alice <alice@example.test> 1 +0000\n\nno committer\n"
	noCommitterObj, _, err := gitobj.WithSignature([]byte(noCommitter), r.signPayload(noCommitter))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, typ, raw string
		good           bool   // git accepts it, and gitsign must too
		mark           string // git's %G?, for commits
		// gitsignRefuses: git's helper path accepts it (git hands the
		// helper a payload without the part that changed), but gitsign
		// verify, which reads the whole object, refuses it.
		gitsignRefuses bool
	}{
		{"unmodified commit", "commit", commit, true, "G", false},
		{"unmodified tag", "tag", tag, true, "", false},
		{"tag with a BEGIN FOO line in its message", "tag", r.git("cat-file", "tag", "v2"), true, "", false},
		{"gpgsig renamed gpgsigx", "commit", strings.Replace(commit, "\ngpgsig ", "\ngpgsigx ", 1), false, "N", false},
		{"gpgsig renamed gpgsig-sha256 in a SHA-1 repository", "commit", strings.Replace(commit, "\ngpgsig ", "\ngpgsig-sha256 ", 1), false, "N", false},
		{"tag with text after the signature", "tag", tag + "appended after the signature\n", false, "", false},
		{"tag with a BEGIN FOO block after the signature", "tag", tag + "-----BEGIN FOO-----\n", false, "", false},
		{"signed commit without a committer", "commit", string(noCommitterObj), false, "N", false},
		// git leaves every other header starting "gpgsig" out of what it
		// verifies, so such a header beside a good gpgsig could be added or
		// changed by anyone: git accepts it, gitsign verify refuses it.
		{"extra gpgsigx header", "commit", strings.Replace(commit, "\ngpgsig ", "\ngpgsigx unsigned\n extra\ngpgsig ", 1), true, "G", true},
		{"extra gpgsig-sha256 header", "commit", strings.Replace(commit, "\ngpgsig ", "\ngpgsig-sha256 unsigned\ngpgsig ", 1), true, "G", true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := r.writeLiterally(c.typ, c.raw)
			v := r.judge(c.typ, id, "crafted"+string(rune('a'+i)))
			if v.gitsign && !v.git {
				t.Errorf("gitsign accepts what git does not:\ngit: %s\ngitsign: %s", v.gitOut, v.out)
			}
			if v.git != c.good {
				t.Errorf("git verify-%s: success=%v, want %v\n%s", c.typ, v.git, c.good, v.gitOut)
			}
			if want := c.good && !c.gitsignRefuses; v.gitsign != want {
				t.Errorf("gitsign: success=%v, want %v\n%s", v.gitsign, want, v.out)
			}
			if c.typ == "commit" && v.mark != c.mark {
				t.Errorf("%%G? = %s, want %s", v.mark, c.mark)
			}
		})
	}
}

// TestOptionInjectionVerify: revisions that git would read as its
// --output option make gitsign fail, and git writes nothing.
func TestOptionInjectionVerify(t *testing.T) {
	r := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t))
	r.commit("signed")
	r.git("tag", "-s", "v1", "-m", "v1")
	file := filepath.Join(t.TempDir(), "pwned")
	policy := []string{"--certificate-identity", "alice@example.test", "--certificate-oidc-issuer", stackEnv(t, "GITSIGN_OIDC_ISSUER")}
	for _, cmd := range []string{"verify", "verify-tag"} {
		for _, arg := range []string{"--output=" + file + "..HEAD", "--output=" + file, "^--output=" + file} {
			out, errOut, err := r.run(gitsignBin, append(append([]string{cmd}, policy...), "--", arg)...)
			if err == nil {
				t.Errorf("gitsign %s -- %s succeeded:\n%s", cmd, arg, out)
			}
			if _, statErr := os.Stat(file); statErr == nil {
				t.Fatalf("gitsign %s -- %s made git write %s", cmd, arg, file)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("gitsign %s -- %s: want a one-line error, got:\n%s", cmd, arg, errOut)
			}
		}
	}
	// The same repository verifies normally.
	if out, errOut, err := r.run(gitsignBin, append(append([]string{"verify"}, policy...), "HEAD")...); err != nil {
		t.Errorf("gitsign verify HEAD: %v\n%s%s", err, out, errOut)
	}
}
