//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitsign pre-receive end to end: a bare repository's hooks/pre-receive
// runs `gitsign pre-receive`, and signed commits made with gitsign on the
// local stack are pushed to it through git daemon and smart HTTP
// (gitserver_test.go). The server repository's configuration holds the
// trusted root and Rekor URL of the stack; the policy is the default,
// HEAD:.gitsigners, as it is on the server before the push.

// prZero is git's id for "no object" in a pre-receive line.
const prZero = "0000000000000000000000000000000000000000"

// prServer is a git server and a seed: alice's work tree whose main is
// one signed commit adding .gitsigners that lists alice.
type prServer struct {
	*gitServer
	issuer string
	seed   *repo
	seedID string
}

func newPRServer(t *testing.T) *prServer {
	t.Helper()
	p := &prServer{gitServer: startGitServer(t), issuer: stackEnv(t, "GITSIGN_OIDC_ISSUER")}
	p.seed = signersRepo(t)
	p.seedID = p.seed.commitFile(".gitsigners", "alice@example.test "+p.issuer+"\n", "signers: alice")
	return p
}

// repo creates the bare repository NAME.git, holding the seed on main
// when seeded, with the hook of the contract installed and the stack's
// trusted root and Rekor URL in its configuration, then each config pair
// (key, value, key, value...; added, so keys may repeat). It returns the
// repository's directory.
func (p *prServer) repo(name string, seeded bool, config ...string) string {
	p.t.Helper()
	dir := p.bare(name, "")
	if seeded {
		p.seed.git("push", "-q", dir, "main")
	}
	hook := "#!/bin/sh\nexec " + gitsignBin + " pre-receive\n"
	if err := os.WriteFile(filepath.Join(dir, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		p.t.Fatal(err)
	}
	p.git(dir, "config", "gitsign.trustedRoot", stackEnv(p.t, "GITSIGN_TRUSTED_ROOT"))
	p.git(dir, "config", "gitsign.rekorURL", stackEnv(p.t, "GITSIGN_REKOR_URL"))
	for i := 0; i+1 < len(config); i += 2 {
		p.git(dir, "config", "--add", config[i], config[i+1])
	}
	return dir
}

// client is a work tree signing as alice (a login of its own) whose main
// is the main of the server repository dir.
func (p *prServer) client(t *testing.T, dir string) *repo {
	t.Helper()
	c := signersRepo(t)
	c.git("fetch", "-q", dir, "main")
	c.git("reset", "-q", "--hard", "FETCH_HEAD")
	return c
}

// ref is what ref names in the server repository dir, "" when nothing.
func (p *prServer) ref(dir, ref string) string {
	cmd := exec.Command("git", "rev-parse", "-q", "--verify", ref)
	cmd.Dir, cmd.Env = dir, p.env
	out, _ := cmd.Output()
	return strings.TrimSpace(string(out))
}

// head is the id of the client's HEAD.
func (r *repo) head() string {
	r.t.Helper()
	return strings.TrimSpace(r.git("rev-parse", "HEAD"))
}

// unsigned makes an unsigned commit changing file.txt with subject msg
// and returns its id.
func (r *repo) unsigned(msg string) string {
	r.t.Helper()
	r.writeFile("file.txt", msg+"\n")
	r.git("add", "file.txt")
	r.git("-c", "commit.gpgsign=false", "commit", "-q", "-m", msg)
	return r.head()
}

// pushVerdict pushes args from c and checks git's verdict (accepted:
// every ref updated), gitsign's summary line, and that the output has
// every text. It returns the output.
func pushVerdict(t *testing.T, c *repo, accepted bool, args []string, texts ...string) string {
	t.Helper()
	out, ok := c.push(args...)
	t.Logf("git push %s:\n%s", strings.Join(args, " "), out)
	summary := "remote: gitsign: push refused:"
	if accepted {
		summary = "remote: gitsign: push accepted:"
	}
	if ok != accepted {
		t.Errorf("git push %s: success %v, want %v:\n%s", strings.Join(args, " "), ok, accepted, out)
		return out
	}
	for _, text := range append([]string{summary}, texts...) {
		if !strings.Contains(out, text) {
			t.Errorf("git push %s lacks %q:\n%s", strings.Join(args, " "), text, out)
		}
	}
	return out
}

// prLine returns the line of out that contains prefix, "" when none.
func prLine(out, prefix string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, prefix) {
			return line
		}
	}
	return ""
}

// refusedObject checks that out has gitsign's line refusing the object
// id of type typ with subject, its reason containing why.
func refusedObject(t *testing.T, out, typ, id, subject, why string) {
	t.Helper()
	prefix := "remote: gitsign: refused: " + typ + " " + id[:12] + ` "` + subject + `": `
	if line := prLine(out, prefix); line == "" || !strings.Contains(line, why) {
		t.Errorf("no line %q...%q in:\n%s", prefix, why, out)
	}
}

// refusedRef checks that out has gitsign's line refusing ref, its reason
// containing why.
func refusedRef(t *testing.T, out, ref, why string) {
	t.Helper()
	prefix := "remote: gitsign: refused: " + ref + ": "
	if line := prLine(out, prefix); line == "" || !strings.Contains(line, why) {
		t.Errorf("no line %q...%q in:\n%s", prefix, why, out)
	}
}

// wantRef checks the server's ref.
func (p *prServer) wantRef(t *testing.T, dir, ref, want string) {
	t.Helper()
	if got := p.ref(dir, ref); got != want {
		t.Errorf("the server's %s is %q, want %q", ref, got, want)
	}
}

// TestPreReceiveListed: over each transport, a commit signed by a signer
// .gitsigners lists is accepted; an unsigned one is refused, and the
// pusher sees which commit and why.
func TestPreReceiveListed(t *testing.T) {
	p := newPRServer(t)
	for _, tr := range gitTransports {
		t.Run(tr, func(t *testing.T) {
			dir := p.repo("listed-"+tr, true)
			url := p.url(tr, "listed-"+tr)
			c := p.client(t, dir)

			signed := c.commitFile("a.txt", "a\n", "alice: a")
			pushVerdict(t, c, true, []string{url, "main"})
			p.wantRef(t, dir, "refs/heads/main", signed)

			unsigned := c.unsigned("nobody signed this")
			out := pushVerdict(t, c, false, []string{url, "main"})
			refusedObject(t, out, "commit", unsigned, "nobody signed this", "unsigned")
			p.wantRef(t, dir, "refs/heads/main", signed)
		})
	}
}

// TestPreReceiveUnlisted: over each transport, a signer .gitsigners does
// not list is refused, with the line that would accept them; also when
// their own push adds them to .gitsigners (the push is judged by the
// policy on the server before it). Once a listed signer adds them, their
// next push is accepted.
func TestPreReceiveUnlisted(t *testing.T) {
	p := newPRServer(t)
	for _, tr := range gitTransports {
		t.Run(tr, func(t *testing.T) {
			dir := p.repo("unlisted-"+tr, true)
			url := p.url(tr, "unlisted-"+tr)
			c := p.client(t, dir)
			mallory := c.withEnv("SIGSTORE_ID_TOKEN=" + token(t, "mallory"))
			line := "mallory@example.test " + p.issuer

			check := func(id, subject string) {
				t.Helper()
				out := pushVerdict(t, c, false, []string{url, "main"})
				refusedObject(t, out, "commit", id, subject, "not listed in HEAD:.gitsigners")
				hint := "to accept this signer, add to HEAD:.gitsigners:"
				if i := strings.Index(out, hint); i < 0 || !strings.Contains(out[i:], line) {
					t.Errorf("no %q followed by %q in:\n%s", hint, line, out)
				}
				p.wantRef(t, dir, "refs/heads/main", p.seedID)
				c.git("reset", "-q", "--hard", p.seedID)
			}
			id := mallory.commitFile("m.txt", "m\n", "mallory: m")
			check(id, "mallory: m")
			id = mallory.commitFile(".gitsigners", "alice@example.test "+p.issuer+"\n"+line+"\n", "signers: let me in")
			check(id, "signers: let me in")

			added := c.commitFile(".gitsigners", "alice@example.test "+p.issuer+"\n"+line+"\n", "signers: add mallory")
			pushVerdict(t, c, true, []string{url, "main"})
			p.wantRef(t, dir, "refs/heads/main", added)
			id = mallory.commitFile("m.txt", "m\n", "mallory: now listed")
			pushVerdict(t, c, true, []string{url, "main"})
			p.wantRef(t, dir, "refs/heads/main", id)
		})
	}
}

// TestPreReceiveNoPolicy: a server repository without a policy (empty,
// so HEAD:.gitsigners does not exist) refuses the first push, even of a
// signed commit that brings a .gitsigners listing its signer.
func TestPreReceiveNoPolicy(t *testing.T) {
	p := newPRServer(t)
	for _, tr := range gitTransports {
		t.Run(tr, func(t *testing.T) {
			dir := p.repo("empty-"+tr, false)
			// Only "no policy" is promised here, not the summary line.
			out, ok := p.seed.push(p.url(tr, "empty-"+tr), "main")
			t.Logf("git push:\n%s", out)
			if ok || !strings.Contains(out, "remote: gitsign: ") || !strings.Contains(out, "no policy") {
				t.Errorf("first push: success %v, want refused with \"no policy\":\n%s", ok, out)
			}
			p.wantRef(t, dir, "refs/heads/main", "")
		})
	}
}

// TestPreReceivePolicyFile: gitsign.allowedSignersFile naming a file on
// the server, relative to the repository's directory, is the policy of a
// repository that has no branch yet: it decides the first push.
func TestPreReceivePolicyFile(t *testing.T) {
	p := newPRServer(t)
	dir := p.repo("file", false, "gitsign.allowedSignersFile", "allowed_signers")
	url := p.url("git", "file")
	policy := filepath.Join(dir, "allowed_signers")
	if err := os.WriteFile(policy, []byte("bob@example.test "+p.issuer+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := pushVerdict(t, p.seed, false, []string{url, "main"})
	refusedObject(t, out, "commit", p.seedID, "signers: alice", "not listed in")
	if err := os.WriteFile(policy, []byte("alice@example.test "+p.issuer+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pushVerdict(t, p.seed, true, []string{url, "main"})
	p.wantRef(t, dir, "refs/heads/main", p.seedID)
}

// prAudit is one line of the audit log.
type prAudit struct {
	Time     string `json:"time"`
	Decision string `json:"decision"`
	User     string `json:"user"`
	Refs     []struct {
		Ref string `json:"ref"`
		Old string `json:"old"`
		New string `json:"new"`
	} `json:"refs"`
	Refused []struct {
		Object string `json:"object"`
		Reason string `json:"reason"`
	} `json:"refused"`
}

// TestPreReceiveAuditLog: gitsign.receive.log gets one JSON line per
// push with the decision, the refs, what was refused and why, and over
// HTTP the authenticated user (REMOTE_USER).
func TestPreReceiveAuditLog(t *testing.T) {
	p := newPRServer(t)
	for _, tr := range gitTransports {
		t.Run(tr, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "audit.log")
			dir := p.repo("audit-"+tr, true, "gitsign.receive.log", log)
			url := p.url(tr, "audit-"+tr)
			c := p.client(t, dir)

			pushVerdict(t, c, true, []string{url, "main:refs/heads/topic"})
			unsigned := c.unsigned("unsigned, for the log")
			pushVerdict(t, c, false, []string{url, "main"})

			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("audit log:\n%s", data)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d lines in the audit log, want 2:\n%s", len(lines), data)
			}
			user := ""
			if tr == "http" {
				user = gitServerUser
			}
			for i, want := range []struct {
				decision, ref, old, new string
			}{
				{"accepted", "refs/heads/topic", prZero, p.seedID},
				{"refused", "refs/heads/main", p.seedID, unsigned},
			} {
				var a prAudit
				if err := json.Unmarshal([]byte(lines[i]), &a); err != nil {
					t.Errorf("line %d: %v\n%s", i+1, err, lines[i])
					continue
				}
				if a.Time == "" || a.Decision != want.decision || a.User != user ||
					len(a.Refs) != 1 || a.Refs[0].Ref != want.ref || a.Refs[0].Old != want.old || a.Refs[0].New != want.new {
					t.Errorf("line %d: %+v, want %s by %q of %s %s..%s", i+1, a, want.decision, user, want.ref, want.old, want.new)
				}
				refused := len(a.Refused) == 1 && strings.Contains(a.Refused[0].Reason, "unsigned") &&
					(strings.Contains(a.Refused[0].Object, unsigned[:12]) || len(a.Refused[0].Object) >= 12 && strings.HasPrefix(unsigned, a.Refused[0].Object))
				if (want.decision == "refused") != refused || want.decision == "accepted" && len(a.Refused) != 0 {
					t.Errorf("line %d: refused %+v, want the unsigned commit %.12s when refused, nothing when accepted", i+1, a.Refused, unsigned)
				}
			}
		})
	}
}
