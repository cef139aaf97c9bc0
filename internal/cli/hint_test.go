package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/verify"
)

// TestHintQuotesIdentity: the no-policy hint offers the allowed-signers
// line for the signer and a shell command that appends it to .gitsigners
// and configures that file, built from the signer's identity, which
// whoever got the certificate chose (a CI workflow's identity may hold
// shell syntax). Run through a real shell from a subdirectory, the
// command must write exactly that line at the top of the work tree, set
// the key, and run nothing else; the line must accept exactly that
// identity from that issuer.
func TestHintQuotesIdentity(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	sub := filepath.Join(dir, "sub", "dir")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	issuer := "https://token.actions.githubusercontent.com"
	for i, id := range []string{
		`https://github.com/acme/app/.github/workflows/x.yml@refs/heads/$(touch pwned)';touch pwned2;'`,
		"https://github.com/acme/app/.github/workflows/x.yml@refs/heads/`touch pwned3`*?\\\" \\n%s",
		"alice@example.com",
	} {
		var b bytes.Buffer
		hintPolicy(&b, &verify.Result{Identity: id, Issuer: issuer})
		hints := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(hints) != 2 {
			t.Fatalf("hint %q", b.String())
		}
		line := allowedsigners.Line(id, issuer)
		if want := "gitsign: hint: no identity policy is set, so this only shows that " + id + " signed; the allowed-signers line that accepts this signer is: " + line; hints[0] != want {
			t.Errorf("hint\n%s\nwant\n%s", hints[0], want)
		}
		_, command, ok := strings.Cut(hints[1], "gitsign: hint: to require it: ")
		if !ok {
			t.Fatalf("no command in %q", hints[1])
		}
		sh := exec.Command("sh", "-c", command)
		sh.Dir = sub
		sh.Env = []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "PATH=/usr/bin:/bin"}
		if out, err := sh.CombinedOutput(); err != nil {
			t.Fatalf("running the hint: %v %s", err, out)
		}
		for _, f := range []string{"pwned", "pwned2", "pwned3"} {
			for _, d := range []string{dir, sub} {
				if _, err := os.Stat(filepath.Join(d, f)); err == nil {
					t.Errorf("the hint ran a command: %s exists", f)
				}
			}
		}
		file, err := os.ReadFile(filepath.Join(dir, ".gitsigners"))
		lines := strings.Split(strings.TrimSuffix(string(file), "\n"), "\n")
		if err != nil || len(lines) != i+1 || lines[i] != line || !strings.HasSuffix(string(file), "\n") {
			t.Fatalf(".gitsigners after hint %d is %q (%v), want line %q appended", i, file, err, line)
		}
		f, err := allowedsigners.Parse([]byte(lines[i]), ".gitsigners")
		var rules []verify.Rule
		if f != nil {
			rules = f.Rules
		}
		if err != nil || len(rules) != 1 || rules[0].Identity != id || rules[0].Issuer != issuer || rules[0].IdentityRegexp != "" || rules[0].IssuerRegexp != "" {
			t.Errorf("the line accepts %+v (%v), want exactly %q from %q", rules, err, id, issuer)
		}
		got, err := exec.Command("git", "-C", dir, "config", "--get", "gitsign.allowedSignersFile").Output()
		if err != nil || string(got) != ".gitsigners\n" {
			t.Errorf("the hint set gitsign.allowedSignersFile to %q (%v)", got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(sub, ".gitsigners")); err == nil {
		t.Error("the hint wrote .gitsigners in the subdirectory")
	}
}

// TestHintWithoutSafeCommand: an identity a terminal would act on, or
// that no allowed-signers line can hold, is shown escaped (or not at all)
// and no line or command is offered for copying.
func TestHintWithoutSafeCommand(t *testing.T) {
	for _, id := range []string{"evil\x1b]0;pwned\x07@x", "two\nlines", "bidi\u202e@x", "not\xffutf8"} {
		var b bytes.Buffer
		hintPolicy(&b, &verify.Result{Identity: id, Issuer: "https://i"})
		want := "gitsign: hint: no identity policy is set, so this only shows that the certificate is valid, not who may sign; list who may sign in an allowed-signers file and set gitsign.allowedSignersFile to it\n"
		if b.String() != want {
			t.Errorf("hint for %q: %q", id, b.String())
		}
	}
	var b bytes.Buffer
	reportGood(&b, &verify.Result{Identity: "a\u202eb\x1b[2J", Issuer: "https://i\u009b"})
	if strings.ContainsAny(b.String(), "\x1b\u202e\u009b") || !strings.Contains(b.String(), `a\u202eb\x1b[2J`) {
		t.Errorf("report %q", b.String())
	}
}
