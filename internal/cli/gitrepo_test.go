package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/testgit"
)

// hermeticRepo is testgit.Repo: a repository with one commit, changed
// into, with no developer settings.
func hermeticRepo(t testing.TB, format string) string { t.Helper(); return testgit.Repo(t, format) }

func runGit(t testing.TB, args ...string) string { t.Helper(); return testgit.Run(t, args...) }

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
	// A range end starting with "-" is a revision git does not know.
	_, err := resolveCommits(context.Background(), []string{"--output=" + file + "..HEAD"})
	if err == nil || err.Error() != "--output="+file+" is not a commit in this repository" {
		t.Errorf("got %v, want not a commit", err)
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

// TestCommitSourceMistakesFirst: a revision or range end that git does
// not know is reported by commitSource itself, before anything streams,
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
		{[]string{"HEAD~2..HEAD", "HEAD", "nope..HEAD"}, "nope is not a commit in this repository"},
		{[]string{"nope..HEAD"}, "nope is not a commit in this repository"},
		{[]string{"HEAD...nope"}, "nope is not a commit in this repository"},
		{[]string{"^nope"}, "nope is not a commit in this repository"},
	} {
		_, err := commitSource(context.Background(), c.args)
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

// TestAmbiguousRevisions: a name git finds in more than one place (a tag
// named like a remote-tracking branch, as anyone who may push a tag can
// make) is a usage error naming both, in a range end, a revision and the
// REV of REV:PATH, however git is configured; a full ref name or an
// object id still works.
func TestAmbiguousRevisions(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	runGit(t, "config", "core.warnAmbiguousRefs", "false")
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "y")
	runGit(t, "update-ref", "refs/remotes/origin/main", "HEAD~1")
	runGit(t, "tag", "origin/main", "HEAD")
	for _, args := range [][]string{{"origin/main..HEAD"}, {"HEAD...origin/main"}, {"^origin/main"}, {"origin/main"}, {"HEAD", "origin/main~0"}} {
		_, err := commitSource(context.Background(), args)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "origin/main is ambiguous") ||
			!strings.Contains(err.Error(), "refs/tags/origin/main") || !strings.Contains(err.Error(), "refs/remotes/origin/main") {
			t.Errorf("%q: %v, want a usage error naming both refs", args, err)
		}
	}
	_, err := readAllowedSigners(context.Background(), "origin/main:.gitsigners")
	if err == nil || !strings.Contains(err.Error(), "origin/main is ambiguous") {
		t.Errorf("REV:PATH with an ambiguous REV: %v", err)
	}
	ids, err := resolveCommits(context.Background(), []string{"refs/remotes/origin/main..HEAD"})
	if err != nil || len(ids) != 1 || ids[0] != runGit(t, "rev-parse", "HEAD") {
		t.Errorf("full ref name: %v, %v", ids, err)
	}
	ids, err = resolveCommits(context.Background(), []string{runGit(t, "rev-parse", "HEAD~1") + "..HEAD"})
	if err != nil || len(ids) != 1 {
		t.Errorf("object ids: %v, %v", ids, err)
	}
}
