package gitrepo

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/testgit"
)

func hermeticRepo(t testing.TB, format string) string { t.Helper(); return testgit.Repo(t, format) }

func runGit(t testing.TB, args ...string) string { t.Helper(); return testgit.Run(t, args...) }

func TestReadObjects(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "tag", "-a", "-m", "msg", "v1")
	ids := []string{runGit(t, "rev-parse", "HEAD"), runGit(t, "rev-parse", "v1")}
	objects, err := ReadObjects(context.Background(), ids)
	if err != nil || len(objects) != 2 {
		t.Fatalf("readObjects: %v, %v", objects, err)
	}
	for i, o := range objects {
		raw := runGit(t, "cat-file", o.Type, ids[i])
		if o.ID != ids[i] || o.Format != gitobj.SHA1 || strings.TrimSpace(string(o.Raw)) != raw {
			t.Errorf("object %d: %s %s %s %q", i, o.ID, o.Type, o.Format, o.Raw)
		}
	}
	if objects[0].Type != "commit" || objects[1].Type != "tag" {
		t.Errorf("types %s, %s", objects[0].Type, objects[1].Type)
	}
	if _, err := ReadObjects(context.Background(), []string{strings.Repeat("0", 40)}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing object: %v", err)
	}
}

// TestReadObjectsSHA256 checks that objects of a SHA-256 repository are
// read with that format, commits included.
func TestReadObjectsSHA256(t *testing.T) {
	hermeticRepo(t, gitobj.SHA256)
	runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "tag", "-a", "-m", "msg", "v1")
	tag := runGit(t, "rev-parse", "v1")
	objects, err := ReadObjects(context.Background(), []string{tag})
	if err != nil || len(objects) != 1 || objects[0].Format != gitobj.SHA256 || len(objects[0].ID) != 64 {
		t.Fatalf("readObjects: %+v, %v", objects, err)
	}
	if _, _, err := objects[0].Split(); err == nil || err.Error() != "tag is not signed" {
		t.Errorf("split of an unsigned tag: %v", err)
	}
	commits, err := ReadObjects(context.Background(), []string{runGit(t, "rev-parse", "HEAD")})
	if err != nil || len(commits) != 1 || commits[0].Type != "commit" || commits[0].Format != gitobj.SHA256 {
		t.Fatalf("a commit of a SHA-256 repository: %+v, %v", commits, err)
	}
	if _, _, err := commits[0].Split(); err == nil || err.Error() != "commit is not signed" {
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
		_, sig, err := Object{Type: "commit", Raw: raw, Format: format}.Split()
		if err != nil || string(sig) != want {
			t.Errorf("%s: %q, %v, want %q", format, sig, err, want)
		}
		both := []byte("tree x\ncommitter C <c@example.test> 1 +0000\ngpgsig A\ngpgsig-sha256 B\n\nmsg\n")
		if _, _, err := (Object{Type: "commit", Raw: both, Format: format}).Split(); err == nil || !strings.Contains(err.Error(), "besides its") {
			t.Errorf("%s: both headers: %v, want refused", format, err)
		}
	}
}

func TestGitMessage(t *testing.T) {
	got := Message([]byte("fatal: bad revision 'x'\nhint: try this\n\nerror: and this\n"))
	if got != "bad revision 'x'; and this" {
		t.Errorf("got %q", got)
	}
	if got := Message(nil); got != "" {
		t.Errorf("got %q from nothing", got)
	}
}

// TestStreamObjectsLazy: a stream that names no object starts no git
// cat-file and asks nothing of git; an error of the source is returned as
// is.
func TestStreamObjectsLazy(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	t.Setenv("PATH", t.TempDir()) // no git: any git process would fail
	calls := 0
	err := StreamObjects(context.Background(), IDList(nil), func(Object) error { calls++; return nil })
	if err != nil || calls != 0 {
		t.Errorf("empty stream: %v, %d objects", err, calls)
	}
	errSrc := errors.New("source")
	err = StreamObjects(context.Background(), func(context.Context, func(string) error) error { return errSrc }, func(Object) error { return nil })
	if err != errSrc {
		t.Errorf("got %v, want the source's error", err)
	}
	err = StreamObjects(context.Background(), IDList([]string{"x"}), func(Object) error { return nil })
	if err == nil || !strings.HasPrefix(err.Error(), "running git cat-file: ") {
		t.Errorf("without git: %v", err)
	}
}
