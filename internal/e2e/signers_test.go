//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/schemacheck"
)

// Allowed-signers files end to end: a file of identity–issuer pairs is
// the policy for git verify-commit/log (gitsign.allowedSignersFile) and
// gitsign verify (--allowed-signers), read from the work tree or from a
// git revision (REV:PATH).

// signersRoot writes a trusted root that trusts both the local stack and
// the public-good instance, so that one repository can hold the real
// billy@chainguard.dev commit (Google) and local alice@example.test
// commits, and only the policy tells them apart.
func signersRoot(t *testing.T) string {
	t.Helper()
	var merged map[string]any
	for i, path := range []string{stackEnv(t, "GITSIGN_TRUSTED_ROOT"), filepath.Join(repoRoot, "verify", "trusted_root.public-good.json")} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if i == 0 {
			merged = m
			continue
		}
		for _, k := range []string{"tlogs", "certificateAuthorities", "ctlogs", "timestampAuthorities"} {
			a, _ := merged[k].([]any)
			b, _ := m[k].([]any)
			merged[k] = append(a, b...)
		}
	}
	b, err := json.Marshal(merged)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// signersRepo is a repository on the local stack that signs as user
// (alice@example.test unless given), without a credential cache so that
// each signer logs in as themselves.
func signersRepo(t *testing.T, env ...string) *repo {
	t.Helper()
	return newRepo(t, append([]string{"SIGSTORE_ID_TOKEN=" + token(t), "GITSIGN_CACHE=off", "XDG_CACHE_HOME=" + t.TempDir()}, env...)...)
}

// writeFile writes a file in the repository.
func (r *repo) writeFile(name, content string) {
	r.t.Helper()
	path := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commitFile writes a file and makes a signed commit of it.
func (r *repo) commitFile(name, content, msg string) string {
	r.t.Helper()
	r.writeFile(name, content)
	r.git("add", name)
	r.git("commit", "-S", "-q", "-m", msg)
	return strings.TrimSpace(r.git("rev-parse", "HEAD"))
}

// gitVerdict checks git's verdict on commit id: %G? is mark, and git
// verify-commit succeeds for G only, its --raw status lines carrying
// status; it returns what verify-commit said.
func gitVerdict(t *testing.T, r *repo, id, mark, status string) string {
	t.Helper()
	if g := hostileG(t, r, id); g != mark {
		t.Errorf("%%G? for %.12s is %q, want %q", id, g, mark)
	}
	_, human, err := r.run("git", "verify-commit", id)
	if (err == nil) != (mark == "G") {
		t.Errorf("git verify-commit %.12s: %v, want success %v\n%s", id, err, mark == "G", human)
	}
	_, raw, _ := r.run("git", "verify-commit", "--raw", id)
	if !strings.Contains(raw, "[GNUPG:] "+status+" ") {
		t.Errorf("git verify-commit --raw %.12s lacks %s:\n%s", id, status, raw)
	}
	return human
}

// cliVerdict runs gitsign verify with args and checks its exit code and
// that its output has every text.
func cliVerdict(t *testing.T, r *repo, code int, args []string, texts ...string) string {
	t.Helper()
	out, errOut, err := r.run(gitsignBin, append([]string{"verify"}, args...)...)
	if hostileExit(err) != code {
		t.Errorf("gitsign verify %s: exit %d (%v), want %d\n%s%s", strings.Join(args, " "), hostileExit(err), err, code, out, errOut)
	}
	for _, text := range texts {
		if !strings.Contains(out+errOut, text) {
			t.Errorf("gitsign verify %s lacks %q:\n%s%s", strings.Join(args, " "), text, out, errOut)
		}
	}
	return out
}

// TestSignersPairs: a file of two pairs accepts each person only from
// their own line's issuer. With the issuers swapped, the real
// billy@chainguard.dev commit (Google) and a local alice@example.test
// commit are both refused; with the right pairs both are accepted.
func TestSignersPairs(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	r := signersRepo(t, "GITSIGN_TRUSTED_ROOT="+signersRoot(t))
	alice := r.commit("alice")
	billy := r.load("commit", filepath.Join(realworldDir(), "commits", hostileVector+".commit"))
	r.git("config", "gitsign.allowedSignersFile", ".gitsigners")

	r.writeFile(".gitsigners", "# crossed\nalice@example.test https://accounts.google.com\nbilly@chainguard.dev "+issuer+"\n")
	for _, id := range []string{alice, billy} {
		human := gitVerdict(t, r, id, "B", "BADSIG")
		if !strings.Contains(human, "not accepted by") {
			t.Errorf("git verify-commit %.12s under crossed pairs:\n%s", id, human)
		}
		cliVerdict(t, r, 1, []string{id}, id+" commit: FAILED: signed by", "not accepted by")
		cliVerdict(t, r, 1, []string{"--allowed-signers", ".gitsigners", id}, "FAILED")
	}

	r.writeFile(".gitsigners", "# pairs\nalice@example.test "+issuer+"\nbilly@chainguard.dev https://accounts.google.com\n")
	for id, rule := range map[string]string{alice: ".gitsigners:2", billy: ".gitsigners:3"} {
		gitVerdict(t, r, id, "G", "TRUST_FULLY")
		cliVerdict(t, r, 0, []string{id}, "good signature", "accepted by "+rule)
	}
	out := cliVerdict(t, r, 0, []string{"--json", alice, billy})
	var doc struct {
		Results []struct {
			Object, Rule string
			Verified     bool
			Signer       struct{ Identity string }
		}
	}
	err := json.Unmarshal([]byte(out), &doc)
	reports := doc.Results
	if err != nil || len(reports) != 2 ||
		reports[0].Rule != ".gitsigners:2" || reports[0].Signer.Identity != "alice@example.test" ||
		reports[1].Rule != ".gitsigners:3" || reports[1].Signer.Identity != "billy@chainguard.dev" || !reports[0].Verified || !reports[1].Verified {
		t.Errorf("gitsign verify --json: %v\n%s", err, out)
	}
	schemacheck.Check(t, "verify", []byte(out)) // a signature made on the stack, verified
}

// TestSignersConfigCrossed: the git-config policy with two identities and
// two issuers would accept every combination, so it is refused before any
// signature is read: ERRSIG (%G? E) and exit 2 through git's helper,
// exit 2 from gitsign verify, each with a hint naming the file.
func TestSignersConfigCrossed(t *testing.T) {
	r, _ := hostileRepo(t)
	id := hostileVector
	for _, kv := range [][2]string{
		{"gitsign.certificateIdentity", "alice@example.test"}, {"gitsign.certificateIdentity", "billy@chainguard.dev"},
		{"gitsign.certificateOIDCIssuer", "https://accounts.google.com"}, {"gitsign.certificateOIDCIssuer", "https://issuer.example.test"},
	} {
		r.git("config", "--add", kv[0], kv[1])
	}
	crossed := "several identity rules and several issuer rules, which would accept every combination of them"
	hostileGit(t, r, id, 'E', "cannot check the signature: the identity policy has "+crossed, "hint: pair each identity with its issuer in an allowed-signers file")
	hostileHelper(t, r, id, 2, 'E', crossed)
	cliVerdict(t, r, 2, []string{id}, "gitsign: hint: pair each identity with its issuer in an allowed-signers file", "--allowed-signers FILE")
}

// TestSignersRevPath: a CI gate reads the policy from the base branch
// (REV:PATH), so a branch that adds its own signer to .gitsigners is
// still judged by the base branch's file; the working tree's file, which
// the branch controls, would accept it.
func TestSignersRevPath(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	r := signersRepo(t)
	base := r.commitFile(".gitsigners", "alice@example.test "+issuer+"\n", "signers")
	r.git("update-ref", "refs/remotes/origin/main", "main")

	r.git("checkout", "-q", "-b", "topic")
	mallory := r.withEnv("SIGSTORE_ID_TOKEN=" + token(t, "mallory"))
	topic := mallory.commitFile(".gitsigners", "alice@example.test "+issuer+"\nmallory@example.test "+issuer+"\n", "let me in")
	if who := strings.TrimSpace(r.git("log", "-1", "--format=%GS", topic)); who != "mallory@example.test" {
		t.Fatalf("the topic commit is signed by %q", who)
	}

	for _, rev := range []string{"origin/main:.gitsigners", "main:.gitsigners"} {
		cliVerdict(t, r, 0, []string{"--allowed-signers", rev, base}, base+" commit: good signature from alice@example.test", "accepted by "+rev+":1")
		out := cliVerdict(t, r, 1, []string{"--allowed-signers", rev, "main..topic"}, topic+" commit: FAILED: signed by", "not accepted by")
		if strings.Contains(out, "good signature") {
			t.Errorf("the topic commit is accepted under %s:\n%s", rev, out)
		}
	}
	// What the branch would like: its own file accepts its own signer.
	cliVerdict(t, r, 0, []string{"--allowed-signers", ".gitsigners", "main..topic"}, topic+" commit: good signature from mallory@example.test", "accepted by .gitsigners:2")

	// The same through git, with the policy in git config.
	r.git("config", "gitsign.allowedSignersFile", "origin/main:.gitsigners")
	gitVerdict(t, r, topic, "B", "BADSIG")
	gitVerdict(t, r, base, "G", "TRUST_FULLY")
	r.git("config", "gitsign.allowedSignersFile", ".gitsigners")
	gitVerdict(t, r, topic, "G", "TRUST_FULLY")
}

// TestSignersSubdirectory: a committed .gitsigners named by a relative
// gitsign.allowedSignersFile is found from a subdirectory, through git
// log --show-signature.
func TestSignersSubdirectory(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	r := signersRepo(t)
	r.commitFile(".gitsigners", "# who may sign\nalice@example.test "+issuer+"\n", "signers")
	head := r.commitFile("sub/dir/file.txt", "x\n", "in a subdirectory")
	r.git("config", "gitsign.allowedSignersFile", ".gitsigners")

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = filepath.Join(r.dir, "sub", "dir"), r.env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("git %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String() + stderr.String()
	}
	out := run("log", "--show-signature", "-2")
	if n := strings.Count(out, "gitsign: good signature from alice@example.test"); n != 2 || strings.Contains(out, "hint:") || strings.Contains(out, "error") {
		t.Errorf("git log --show-signature from a subdirectory (%d good):\n%s", n, out)
	}
	if marks := strings.Fields(run("log", "--format=%G?")); strings.Join(marks, "") != "GG" {
		t.Errorf("%%G? from a subdirectory: %v", marks)
	}
	if _, raw, err := r.run("git", "-C", "sub/dir", "verify-commit", "--raw", head); err != nil || !strings.Contains(raw, "TRUST_FULLY") {
		t.Errorf("git verify-commit from a subdirectory: %v\n%s", err, raw)
	}

	// A line that no longer names the signer: the same log says BAD.
	r.writeFile(".gitsigners", "bob@example.test "+issuer+"\n")
	if marks := strings.Fields(run("log", "--format=%G?")); strings.Join(marks, "") != "BB" {
		t.Errorf("%%G? with bob's file: %v", marks)
	}
}

// TestSignersWindows: valid-after and valid-before are judged at the time
// the transparency log proves, here for signatures just made on the
// local stack: a window that ended an hour ago refuses (B), one that
// began an hour ago accepts (G).
func TestSignersWindows(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	r := signersRepo(t)
	id := r.commit("windowed")
	r.git("config", "gitsign.allowedSignersFile", ".gitsigners")
	hourAgo := time.Now().UTC().Add(-time.Hour).Format("20060102150405")
	inAnHour := time.Now().UTC().Add(time.Hour).Format("20060102150405")
	line := "alice@example.test " + issuer + " "

	for _, tc := range []struct {
		opts, mark, status string
	}{
		{"valid-before=" + hourAgo, "B", "BADSIG"},
		{"valid-after=" + inAnHour, "B", "BADSIG"},
		{"valid-after=" + hourAgo, "G", "TRUST_FULLY"},
		{"valid-after=" + hourAgo + ",valid-before=" + inAnHour, "G", "TRUST_FULLY"},
	} {
		r.writeFile(".gitsigners", line+tc.opts+"\n")
		human := gitVerdict(t, r, id, tc.mark, tc.status)
		if tc.mark == "B" {
			if !strings.Contains(human, "outside the validity window of the rules that name it (.gitsigners:1)") {
				t.Errorf("%s: git verify-commit:\n%s", tc.opts, human)
			}
			cliVerdict(t, r, 1, []string{id}, "FAILED", "outside the validity window")
		} else {
			cliVerdict(t, r, 0, []string{id}, "good signature from alice@example.test", "accepted by .gitsigners:1")
		}
	}
}
