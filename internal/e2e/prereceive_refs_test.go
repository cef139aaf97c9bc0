//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// gitsign pre-receive and what a push does to refs, through git daemon:
// force pushes, new branches, annotated tags, deletions, exempt refs; and
// a hostile signature from the fuzz corpora.

// TestPreReceiveRefs: each case on a repository of its own holding the
// seed (main: one commit signed by alice, adding .gitsigners).
func TestPreReceiveRefs(t *testing.T) {
	p := newPRServer(t)
	setup := func(t *testing.T, name string, config ...string) (dir, url string, c *repo) {
		dir = p.repo(name, true, config...)
		return dir, p.url("git", name), p.client(t, dir)
	}

	// main is protected by default (HEAD names it): a force push that
	// rewrites it with unsigned commits is refused, for both reasons.
	// Other branches may be force-moved; their new commits are still
	// verified.
	t.Run("force push", func(t *testing.T) {
		dir, url, c := setup(t, "force")
		a := c.commitFile("a.txt", "a\n", "alice: a")
		pushVerdict(t, c, true, []string{url, "main", "main:refs/heads/topic"})

		c.git("reset", "-q", "--hard", p.seedID)
		u1, u2 := c.unsigned("rewrite 1"), c.unsigned("rewrite 2")
		out := pushVerdict(t, c, false, []string{"--force", url, "main"})
		refusedRef(t, out, "refs/heads/main", "force-moving a protected ref")
		refusedObject(t, out, "commit", u1, "rewrite 1", "unsigned")
		refusedObject(t, out, "commit", u2, "rewrite 2", "unsigned")
		p.wantRef(t, dir, "refs/heads/main", a)

		// Signed commits force-moving main: still a protected ref.
		c.git("reset", "-q", "--hard", p.seedID)
		b := c.commitFile("b.txt", "b\n", "alice: b")
		out = pushVerdict(t, c, false, []string{"--force", url, "main"})
		refusedRef(t, out, "refs/heads/main", "force-moving a protected ref")
		p.wantRef(t, dir, "refs/heads/main", a)

		// The same signed commit force-moving topic: accepted.
		pushVerdict(t, c, true, []string{"--force", url, "main:refs/heads/topic"})
		p.wantRef(t, dir, "refs/heads/topic", b)

		// An unsigned commit force-moving topic: refused for the commit
		// alone.
		c.git("reset", "-q", "--hard", p.seedID)
		u3 := c.unsigned("rewrite 3")
		out = pushVerdict(t, c, false, []string{"--force", url, "main:refs/heads/topic"})
		refusedObject(t, out, "commit", u3, "rewrite 3", "unsigned")
		if strings.Contains(out, "refused: refs/heads/topic") {
			t.Errorf("topic is not protected, yet:\n%s", out)
		}
		p.wantRef(t, dir, "refs/heads/topic", b)
	})

	// A new branch at a commit the server has: nothing new to verify.
	t.Run("new branch", func(t *testing.T) {
		dir, url, c := setup(t, "branch")
		pushVerdict(t, c, true, []string{url, "main:refs/heads/topic", "main:refs/heads/release/1"})
		p.wantRef(t, dir, "refs/heads/topic", p.seedID)
		p.wantRef(t, dir, "refs/heads/release/1", p.seedID)
	})

	// Annotated tags: the tag object is verified; tags are protected, so
	// one cannot be moved.
	t.Run("tags", func(t *testing.T) {
		dir, url, c := setup(t, "tags")
		c.git("tag", "-s", "-m", "release v1", "v1")
		v1 := strings.TrimSpace(c.git("rev-parse", "refs/tags/v1"))
		pushVerdict(t, c, true, []string{url, "refs/tags/v1"})
		p.wantRef(t, dir, "refs/tags/v1", v1)

		c.git("tag", "-a", "-m", "release v2", "v2")
		v2 := strings.TrimSpace(c.git("rev-parse", "refs/tags/v2"))
		out := pushVerdict(t, c, false, []string{url, "refs/tags/v2"})
		refusedObject(t, out, "tag", v2, "release v2", "unsigned")
		p.wantRef(t, dir, "refs/tags/v2", "")

		c.git("tag", "-f", "-s", "-m", "release v1, again", "v1")
		out = pushVerdict(t, c, false, []string{"--force", url, "refs/tags/v1"})
		refusedRef(t, out, "refs/tags/v1", "moving a protected ref")
		p.wantRef(t, dir, "refs/tags/v1", v1)
	})

	// Deleting: allowed for other branches, refused for the protected
	// ones (by default main; with gitsign.receive.protect, those). git's
	// own refusal to delete the current branch is turned off, so that
	// the refusal is gitsign's.
	t.Run("delete", func(t *testing.T) {
		dir, url, c := setup(t, "delete", "receive.denyDeleteCurrent", "ignore")
		pushVerdict(t, c, true, []string{url, "main:refs/heads/topic", "main:refs/heads/release/1"})
		pushVerdict(t, c, true, []string{url, ":refs/heads/topic"})
		p.wantRef(t, dir, "refs/heads/topic", "")
		out := pushVerdict(t, c, false, []string{url, ":refs/heads/main"})
		refusedRef(t, out, "refs/heads/main", "deleting a protected ref")
		p.wantRef(t, dir, "refs/heads/main", p.seedID)

		p.git(dir, "config", "gitsign.receive.protect", "refs/heads/release/*")
		out = pushVerdict(t, c, false, []string{url, ":refs/heads/release/1"})
		refusedRef(t, out, "refs/heads/release/1", "deleting a protected ref")
		p.wantRef(t, dir, "refs/heads/release/1", p.seedID)
	})

	// An exempt ref takes an unsigned commit; that commit is verified
	// when a push makes an enforced ref reach it.
	t.Run("exempt", func(t *testing.T) {
		dir, url, c := setup(t, "exempt", "gitsign.receive.exempt", "refs/heads/scratch/*")
		u := c.unsigned("work in progress")
		pushVerdict(t, c, true, []string{url, "main:refs/heads/scratch/alice/wip"})
		p.wantRef(t, dir, "refs/heads/scratch/alice/wip", u)

		out := pushVerdict(t, c, false, []string{url, "main"})
		refusedObject(t, out, "commit", u, "work in progress", "unsigned")
		p.wantRef(t, dir, "refs/heads/main", p.seedID)

		// The pattern's literal part is exact: refs/heads/scratchpad is
		// not exempt.
		out = pushVerdict(t, c, false, []string{url, "main:refs/heads/scratchpad"})
		refusedObject(t, out, "commit", u, "work in progress", "unsigned")
	})
}

// fuzzInput reads the one []byte value of a Go fuzz corpus file.
func fuzzInput(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header, body, _ := strings.Cut(string(b), "\n")
	body = strings.TrimSpace(body)
	if header != "go test fuzz v1" || !strings.HasPrefix(body, "[]byte(") || !strings.HasSuffix(body, ")") || strings.Contains(body, "\n") {
		t.Fatalf("%s: not one []byte value", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(body, "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

// TestPreReceiveHostile: a commit whose signature is a hostile input from
// the fuzz corpora (deeply nested indefinite-length BER; thousands of
// signed attributes) is refused as a bad signature, and the push ends in
// a generous bound: a hang fails the test, nothing here measures speed.
func TestPreReceiveHostile(t *testing.T) {
	p := newPRServer(t)
	dir := p.repo("hostile", true)
	url := p.url("git", "hostile")
	c := p.client(t, dir)
	tree := strings.TrimSpace(c.git("rev-parse", "HEAD^{tree}"))
	for _, name := range []string{"nested-indefinite-ber", "many-signed-attributes"} {
		der := fuzzInput(t, filepath.Join(repoRoot, "internal", "cms", "testdata", "fuzz", "FuzzCheckDER", name))
		subject := "hostile signature: " + name
		now := time.Now().Unix()
		payload := fmt.Sprintf("tree %s\nparent %s\nauthor Alice <alice@example.test> %d +0000\ncommitter Alice <alice@example.test> %d +0000\n\n%s\n",
			tree, p.seedID, now, now, subject)
		raw, _, err := gitobj.WithSignature([]byte(payload), cms.Armor(der))
		if err != nil {
			t.Fatal(err)
		}
		id := c.writeLiterally("commit", string(raw))

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "git", "push", url, id+":refs/heads/main")
		cmd.Dir, cmd.Env = c.dir, c.env
		start := time.Now()
		b, err := cmd.CombinedOutput()
		took := time.Since(start)
		cancel()
		out := string(b)
		t.Logf("%s: git push (%v):\n%s", name, took, out)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("%s: the push did not end in 2 minutes:\n%s", name, out)
		}
		if took > 10*time.Second {
			t.Fatalf("%s: the push took %v (more than 10 s: a hang?):\n%s", name, took, out)
		}
		if err == nil || !strings.Contains(out, "remote: gitsign: push refused:") {
			t.Errorf("%s: push (%v), want refused:\n%s", name, err, out)
		}
		refusedObject(t, out, "commit", id, subject, "bad signature")
		p.wantRef(t, dir, "refs/heads/main", p.seedID)
	}
}
