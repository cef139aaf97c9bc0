package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/verify"
)

// TestHintQuotesIdentity: the no-policy hint offers a shell command built
// from the signer's identity, which whoever got the certificate chose (a
// CI workflow's identity may hold shell syntax). Run through a real shell,
// the command must set exactly that identity and run nothing else.
func TestHintQuotesIdentity(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	id := `https://github.com/acme/app/.github/workflows/x.yml@refs/heads/$(touch pwned)';touch pwned2;'`
	var b bytes.Buffer
	hintPolicy(&b, &verify.Result{Identity: id, Issuer: "https://token.actions.githubusercontent.com"})
	line := b.String()
	_, command, ok := strings.Cut(line, "to require it: ")
	if !ok {
		t.Fatalf("no command in %q", line)
	}
	sh := exec.Command("sh", "-c", strings.TrimSpace(command))
	sh.Dir = dir
	sh.Env = []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "PATH=/usr/bin:/bin"}
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("running the hint: %v %s", err, out)
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("the hint ran a command: %s exists", f)
		}
	}
	got, err := exec.Command("git", "-C", dir, "config", "--get", "gitsign.certificateIdentity").Output()
	if err != nil || strings.TrimSuffix(string(got), "\n") != id {
		t.Errorf("the hint set %q, want %q (%v)", got, id, err)
	}
}

// TestHintWithoutSafeCommand: an identity a terminal would act on is shown
// escaped and no command is offered for copying.
func TestHintWithoutSafeCommand(t *testing.T) {
	var b bytes.Buffer
	hintPolicy(&b, &verify.Result{Identity: "evil\x1b]0;pwned\x07@x", Issuer: "https://i"})
	if strings.ContainsAny(b.String(), "\x1b\x07") || strings.Contains(b.String(), "git config --add") {
		t.Errorf("hint %q", b.String())
	}
	b.Reset()
	reportGood(&b, &verify.Result{Identity: "a\u202eb\x1b[2J", Issuer: "https://i\u009b"})
	if strings.ContainsAny(b.String(), "\x1b\u202e\u009b") || !strings.Contains(b.String(), `a\u202eb\x1b[2J`) {
		t.Errorf("report %q", b.String())
	}
}
