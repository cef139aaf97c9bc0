package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// hermeticRepo makes a repository of the given object format with one
// unsigned commit, changes into it, and keeps the developer's git and
// gitsign settings out of the test.
func hermeticRepo(t testing.TB, format string) string {
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
	runGit(t, "init", "-q", "-b", "main", "--object-format="+format)
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "x")
	return dir
}

func runGit(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// injections are revisions that git would take for its --output option.
func injections(file string) []string {
	return []string{
		"--output=" + file + "..HEAD",
		"--output=" + file,
		"--output=" + file + "...HEAD",
		"HEAD..--output=" + file,
		"^--output=" + file,
	}
}

func TestResolveNoOptionInjection(t *testing.T) {
	dir := hermeticRepo(t, gitobj.SHA1)
	file := filepath.Join(dir, "pwned")
	for _, arg := range append(injections(file), "-q", "--all") {
		ids, err := resolveCommits(context.Background(), []string{arg})
		if err == nil {
			t.Errorf("resolveCommits(%q) = %v, want an error", arg, ids)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("resolveCommits(%q): error on more than one line: %q", arg, err)
		}
		if ids, err := resolveTags(context.Background(), []string{arg}); err == nil {
			t.Errorf("resolveTags(%q) = %v, want an error", arg, ids)
		}
		if _, err := os.Stat(file); err == nil {
			t.Fatalf("%q made git write %s", arg, file)
		}
	}
	// A range starting with "-" is refused by git as a revision.
	_, err := resolveCommits(context.Background(), []string{"--output=" + file + "..HEAD"})
	if err == nil || !strings.Contains(err.Error(), "bad revision") {
		t.Errorf("got %v, want git's bad revision", err)
	}
	// Revisions and ranges still work.
	head := runGit(t, "rev-parse", "HEAD")
	for _, arg := range []string{"HEAD", "HEAD~0", "HEAD^{commit}", "main..HEAD", "^" + head} {
		if _, err := resolveCommits(context.Background(), []string{arg}); err != nil {
			t.Errorf("resolveCommits(%q): %v", arg, err)
		}
	}
	ids, err := resolveCommits(context.Background(), []string{"HEAD"})
	if err != nil || len(ids) != 1 || ids[0] != head {
		t.Errorf("resolveCommits(HEAD) = %v, %v, want [%s]", ids, err, head)
	}
	// Behind another argument, where git checks ranges before listing.
	for _, arg := range injections(file) {
		if _, err := commitSource(context.Background(), []string{"HEAD", arg}); err == nil {
			t.Errorf("commitSource(HEAD, %q): no error", arg)
		}
		if _, err := os.Stat(file); err == nil {
			t.Fatalf("%q after HEAD made git write %s", arg, file)
		}
	}
}

// TestCommitSourceMistakesFirst: a revision or range that git does not
// know is reported by commitSource itself, before anything streams,
// wherever it is on the command line; good arguments stream, argument by
// argument, in order, repeats included.
func TestCommitSourceMistakesFirst(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "y")
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "z")
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"HEAD~2..HEAD", "nope"}, "nope is not a commit in this repository"},
		{[]string{"HEAD~2..HEAD", "HEAD", "nope..HEAD"}, "git rev-list: bad revision 'nope..HEAD'"},
		{[]string{"nope..HEAD"}, ""}, // alone, git says so before listing anything
	} {
		src, err := commitSource(context.Background(), c.args)
		if c.err == "" {
			if err != nil {
				t.Errorf("%q: %v before streaming", c.args, err)
				continue
			}
			n := 0
			err = src(context.Background(), func(string) error { n++; return nil })
			if err == nil || n != 0 || !strings.Contains(err.Error(), "bad revision") {
				t.Errorf("%q: streamed %d, then %v", c.args, n, err)
			}
			continue
		}
		if err == nil || err.Error() != c.err {
			t.Errorf("%q: %v, want %q", c.args, err, c.err)
		}
	}
	rng := strings.Fields(runGit(t, "rev-list", "HEAD~2..HEAD"))
	want := slices.Concat(rng, []string{runGit(t, "rev-parse", "HEAD~2")}, rng)
	got, err := resolveCommits(context.Background(), []string{"HEAD~2..HEAD", "HEAD~2", "HEAD~2..HEAD"})
	if err != nil || !slices.Equal(got, want) || len(got) != 5 {
		t.Errorf("got %v, %v, want %v", got, err, want)
	}
}

// TestVerifyCommandNoOptionInjection runs gitsign verify and verify-tag
// on revisions that are git options, through the command line entry point.
func TestVerifyCommandNoOptionInjection(t *testing.T) {
	dir := hermeticRepo(t, gitobj.SHA1)
	file := filepath.Join(dir, "pwned")
	policy := []string{"--certificate-identity", "alice@example.test", "--certificate-oidc-issuer", "https://issuer.example.test"}
	for _, cmd := range []string{"verify", "verify-tag"} {
		for _, arg := range injections(file) {
			var stdout, stderr bytes.Buffer
			code := run(append(append([]string{cmd}, policy...), "--", arg), streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
			if code == 0 {
				t.Errorf("gitsign %s -- %s: exit 0\n%s", cmd, arg, stdout.String())
			}
			if _, err := os.Stat(file); err == nil {
				t.Fatalf("gitsign %s -- %s made git write %s", cmd, arg, file)
			}
			if msg := strings.TrimSuffix(stderr.String(), "\n"); msg == "" || strings.Contains(msg, "\n") {
				t.Errorf("gitsign %s -- %s: want one line on stderr, got %q", cmd, arg, msg)
			}
		}
	}
}

func TestReadObjects(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "tag", "-a", "-m", "msg", "v1")
	ids := []string{runGit(t, "rev-parse", "HEAD"), runGit(t, "rev-parse", "v1")}
	objects, err := readObjects(context.Background(), ids)
	if err != nil || len(objects) != 2 {
		t.Fatalf("readObjects: %v, %v", objects, err)
	}
	for i, o := range objects {
		raw := runGit(t, "cat-file", o.typ, ids[i])
		if o.id != ids[i] || o.format != gitobj.SHA1 || strings.TrimSpace(string(o.raw)) != raw {
			t.Errorf("object %d: %s %s %s %q", i, o.id, o.typ, o.format, o.raw)
		}
	}
	if objects[0].typ != "commit" || objects[1].typ != "tag" {
		t.Errorf("types %s, %s", objects[0].typ, objects[1].typ)
	}
	if _, err := readObjects(context.Background(), []string{strings.Repeat("0", 40)}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing object: %v", err)
	}
}

// TestReadObjectsSHA256 checks that objects of a SHA-256 repository are
// read with that format, commits included.
func TestReadObjectsSHA256(t *testing.T) {
	hermeticRepo(t, gitobj.SHA256)
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "tag", "-a", "-m", "msg", "v1")
	tag := runGit(t, "rev-parse", "v1")
	objects, err := readObjects(context.Background(), []string{tag})
	if err != nil || len(objects) != 1 || objects[0].format != gitobj.SHA256 || len(objects[0].id) != 64 {
		t.Fatalf("readObjects: %+v, %v", objects, err)
	}
	if _, _, err := objects[0].split(); err == nil || err.Error() != "tag is not signed" {
		t.Errorf("split of an unsigned tag: %v", err)
	}
	commits, err := readObjects(context.Background(), []string{runGit(t, "rev-parse", "HEAD")})
	if err != nil || len(commits) != 1 || commits[0].typ != "commit" || commits[0].format != gitobj.SHA256 {
		t.Fatalf("a commit of a SHA-256 repository: %+v, %v", commits, err)
	}
	if _, _, err := commits[0].split(); err == nil || err.Error() != "commit is not signed" {
		t.Errorf("split of an unsigned SHA-256 commit: %v", err)
	}
}

// TestGitObjectSplit checks that a commit's signature header is chosen by
// the repository's format, and that the other format's header beside it
// is refused (git would leave it out of what it verifies).
func TestGitObjectSplit(t *testing.T) {
	for format, want := range map[string]string{gitobj.SHA1: "A\n", gitobj.SHA256: "B\n"} {
		header := map[string]string{gitobj.SHA1: "gpgsig A\n", gitobj.SHA256: "gpgsig-sha256 B\n"}[format]
		raw := []byte("tree x\ncommitter C <c@example.test> 1 +0000\n" + header + "\nmsg\n")
		_, sig, err := gitObject{typ: "commit", raw: raw, format: format}.split()
		if err != nil || string(sig) != want {
			t.Errorf("%s: %q, %v, want %q", format, sig, err, want)
		}
		both := []byte("tree x\ncommitter C <c@example.test> 1 +0000\ngpgsig A\ngpgsig-sha256 B\n\nmsg\n")
		if _, _, err := (gitObject{typ: "commit", raw: both, format: format}).split(); err == nil || !strings.Contains(err.Error(), "besides its") {
			t.Errorf("%s: both headers: %v, want refused", format, err)
		}
	}
}

func TestGitMessage(t *testing.T) {
	got := gitMessage([]byte("fatal: bad revision 'x'\nhint: try this\n\nerror: and this\n"))
	if got != "bad revision 'x'; and this" {
		t.Errorf("got %q", got)
	}
	if got := gitMessage(nil); got != "" {
		t.Errorf("got %q from nothing", got)
	}
}
