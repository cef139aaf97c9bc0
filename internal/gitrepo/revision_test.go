package gitrepo

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// TestResolve: a name resolves to the object id git gives, peeled as
// asked; a name in two places is an *AmbiguousError listing both, in
// git's order of preference, even where git is told not to warn; a name
// that is nothing is a *NotFoundError.
func TestResolve(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	runGit(t, "config", "core.warnAmbiguousRefs", "false")
	head := runGit(t, "rev-parse", "HEAD")
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "tag", "-a", "-m", "m", "v1")
	ctx := context.Background()
	if id, err := Resolve(ctx, "v1", "commit"); err != nil || id != head {
		t.Errorf("v1^{commit}: %s, %v", id, err)
	}
	if id, err := Resolve(ctx, "v1", ""); err != nil || id != runGit(t, "rev-parse", "v1") || id == head {
		t.Errorf("v1: %s, %v", id, err)
	}
	var nf *NotFoundError
	if _, err := Resolve(ctx, "nope", "commit"); !errors.As(err, &nf) || err.Error() != "nope is not a commit in this repository" {
		t.Errorf("nope: %v", err)
	}
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "y")
	runGit(t, "update-ref", "refs/remotes/main", head)
	runGit(t, "update-ref", "refs/remotes/origin/main", head)
	// Refs an attacker might push to outrank a name; only the first can.
	runGit(t, "update-ref", "refs/heads/HEAD", head)
	runGit(t, "update-ref", "refs/tags/refs/remotes/origin/main", "HEAD")
	runGit(t, "update-ref", "refs/heads/"+head, "HEAD")
	for rev, want := range map[string][]string{
		"main":   {"refs/heads/main", "refs/remotes/main"},
		"main~0": {"refs/heads/main", "refs/remotes/main"},
		// git's first rule wins: no pushed ref redirects these.
		"HEAD":                     nil,
		"refs/remotes/origin/main": nil,
		head:                       nil,
		"v1":                       nil,
	} {
		id, err := Resolve(ctx, rev, "commit")
		var amb *AmbiguousError
		if want == nil {
			if gitID := runGit(t, "rev-parse", rev+"^{commit}"); err != nil || id != gitID {
				t.Errorf("%s: %s, %v, want %s as git resolves it", rev, id, err, gitID)
			}
			continue
		}
		if !errors.As(err, &amb) || !slices.Equal(amb.Candidates, want) {
			t.Errorf("%s: %v, want candidates %v", rev, err, want)
		}
	}
}

// TestReadRevPath: REV:PATH reads the file at PATH in REV, resolved once;
// a missing file or revision is ErrNoSuchFile, a directory or a file too
// large is refused, an ambiguous REV is an *AmbiguousError.
func TestReadRevPath(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	ctx := context.Background()
	writeTree := func(content string) {
		t.Helper()
		if err := writeFile(".gitsigners", content); err != nil {
			t.Fatal(err)
		}
		runGit(t, "add", ".gitsigners")
		runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "policy")
	}
	writeTree("alice@example.test https://issuer.example.test\n")
	data, id, err := ReadRevPath(ctx, "HEAD:.gitsigners", 1024)
	if err != nil || string(data) != "alice@example.test https://issuer.example.test\n" || id != runGit(t, "rev-parse", "HEAD") {
		t.Errorf("HEAD:.gitsigners: %q, %s, %v", data, id, err)
	}
	for _, rp := range []string{"HEAD:nope", "nope:.gitsigners", "HEAD~1:.gitsigners"} {
		if _, _, err := ReadRevPath(ctx, rp, 1024); !errors.Is(err, ErrNoSuchFile) {
			t.Errorf("%s: %v, want ErrNoSuchFile", rp, err)
		}
	}
	if _, _, err := ReadRevPath(ctx, "HEAD:", 1024); err == nil || !strings.Contains(err.Error(), "tree, not a file") {
		t.Errorf("a directory: %v", err)
	}
	if _, _, err := ReadRevPath(ctx, "HEAD:.gitsigners", 10); err == nil || !strings.Contains(err.Error(), "larger than 10 bytes") {
		t.Errorf("too large: %v", err)
	}
	if _, _, err := ReadRevPath(ctx, "HEAD:a\nb", 1024); err == nil {
		t.Errorf("a path with a newline: no error")
	}
	runGit(t, "update-ref", "refs/remotes/x", "HEAD")
	runGit(t, "tag", "x", "HEAD~1")
	var amb *AmbiguousError
	if _, _, err := ReadRevPath(ctx, "x:.gitsigners", 1024); !errors.As(err, &amb) {
		t.Errorf("ambiguous REV: %v", err)
	}
}

func writeFile(name, content string) error { return os.WriteFile(name, []byte(content), 0o644) }

// TestReadHeadPath: the file in HEAD's commit, with that commit's id, in
// one git process; ErrNoSuchFile when the branch HEAD names has no commit
// yet or no such file.
func TestReadHeadPath(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	ctx := context.Background()
	if _, _, err := ReadHeadPath(ctx, ".gitsigners", 1024); !errors.Is(err, ErrNoSuchFile) {
		t.Errorf("no file: %v", err)
	}
	if err := writeFile(".gitsigners", "x\n"); err != nil {
		t.Fatal(err)
	}
	runGit(t, "add", ".gitsigners")
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "policy")
	data, id, err := ReadHeadPath(ctx, ".gitsigners", 1024)
	if err != nil || string(data) != "x\n" || id != runGit(t, "rev-parse", "HEAD") {
		t.Errorf("%q, %s, %v", data, id, err)
	}
	if _, _, err := ReadHeadPath(ctx, ".gitsigners", 1); err == nil || !strings.Contains(err.Error(), "larger than 1 bytes") {
		t.Errorf("too large: %v", err)
	}
	runGit(t, "symbolic-ref", "HEAD", "refs/heads/unborn")
	if _, _, err := ReadHeadPath(ctx, ".gitsigners", 1024); !errors.Is(err, ErrNoSuchFile) {
		t.Errorf("unborn HEAD: %v", err)
	}
}

// TestDescribe: format and HEAD's ref in one answer, unborn included.
func TestDescribe(t *testing.T) {
	hermeticRepo(t, gitobj.SHA256)
	f, err := Describe(context.Background())
	if err != nil || f.Format != gitobj.SHA256 || f.Head != "refs/heads/main" {
		t.Errorf("%+v, %v", f, err)
	}
	runGit(t, "symbolic-ref", "HEAD", "refs/heads/unborn")
	if f, err := Describe(context.Background()); err != nil || f.Head != "refs/heads/unborn" {
		t.Errorf("unborn: %+v, %v", f, err)
	}
	runGit(t, "checkout", "-q", "--detach", "main")
	if f, err := Describe(context.Background()); err != nil || f.Head != "" {
		t.Errorf("detached: %+v, %v", f, err)
	}
	t.Chdir(t.TempDir())
	if _, err := Describe(context.Background()); !errors.Is(err, ErrNotRepository) {
		t.Errorf("outside a repository: %v", err)
	}
}

// TestResolveUnbornHead: HEAD in a repository with no commit yet says so,
// naming the branch, instead of "HEAD is not a commit".
func TestResolveUnbornHead(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	runGit(t, "symbolic-ref", "HEAD", "refs/heads/fresh")
	_, err := Resolve(context.Background(), "HEAD", "commit")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Unborn != "refs/heads/fresh" || err.Error() != "there is no commit yet: HEAD names refs/heads/fresh, which has none" {
		t.Errorf("%v", err)
	}
	if _, err := Resolve(context.Background(), "nope", "commit"); !errors.As(err, &nf) || nf.Unborn != "" {
		t.Errorf("another name: %v", err)
	}
}
