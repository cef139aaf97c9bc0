package cli

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// realPair is a real signature and the payload it signs.
type realPair struct{ sig, payload []byte }

// realPairs splits the objects in testdata/realworld: offline-mode commits
// and the tag (good, without network), and online-mode commits (their
// log entries are not embedded, so they cannot be checked here).
func realPairs(f testing.TB) (good, online []realPair) {
	for _, dir := range []struct {
		glob, typ string
		into      *[]realPair
	}{
		{"commits/*.commit", "commit", &good},
		{"tags/*.tag", "tag", &good},
		{"online/*.commit", "commit", &online},
	} {
		files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "realworld", dir.glob))
		if err != nil || len(files) == 0 {
			f.Fatalf("no vectors for %s: %v", dir.glob, err)
		}
		for _, name := range files {
			raw, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			payload, sig, err := gitobj.Split(dir.typ, raw)
			if err != nil {
				f.Fatalf("%s: %v", name, err)
			}
			*dir.into = append(*dir.into, realPair{sig: sig, payload: payload})
		}
	}
	return good, online
}

// hermetic makes the test independent of the developer's setup: no
// GITSIGN_, SIGSTORE_ or GIT_ variables, no global or system git config,
// HOME and GIT_DIR in a fresh repository whose only gitsign
// setting points Rekor at a local server that finds nothing (online-mode
// lookups fail at once instead of reaching the network, and without the
// retries a refused connection gets). It returns the repository's path.
func hermetic(f testing.TB) string {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GITSIGN_") || strings.HasPrefix(k, "SIGSTORE_") || strings.HasPrefix(k, "GIT_") {
			f.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	home := f.TempDir()
	f.Setenv("HOME", home)
	f.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	f.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	f.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	rekor := httptest.NewServer(http.NotFoundHandler())
	f.Cleanup(rekor.Close)
	repo := filepath.Join(home, "repo")
	for _, args := range [][]string{
		{"init", "-q", repo},
		{"-C", repo, "config", "gitsign.rekor", rekor.URL},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			f.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	// GIT_DIR, not a change of directory: fuzz workers start in the
	// coordinator's working directory and must still find testdata.
	f.Setenv("GIT_DIR", filepath.Join(repo, ".git"))
	return repo
}

// TestVerifyCLIRealPairs: the fuzz target's seeds do what it assumes. The
// real offline-mode signatures are good over their payloads (with and
// without the policy), and bad over another's; online-mode ones cannot be
// checked without their log entry.
func TestVerifyCLIRealPairs(t *testing.T) {
	good, online := realPairs(t)
	dir := hermetic(t)
	sigFile := filepath.Join(dir, "sig")
	verify := func(sig, payload []byte) (int, string) {
		t.Helper()
		if err := os.WriteFile(sigFile, sig, 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run([]string{"--status-fd=1", "--verify", sigFile, "-"}, streams{in: bytes.NewReader(payload), out: &stdout, err: &stderr})
		return code, stdout.String() + stderr.String()
	}
	for i, p := range good {
		if code, out := verify(p.sig, p.payload); code != 0 || !strings.Contains(out, "TRUST_UNDEFINED") {
			t.Errorf("real pair %d: exit %d\n%s", i, code, out)
		}
	}
	if code, out := verify(good[1].sig, good[0].payload); code != 1 || !strings.Contains(out, "[GNUPG:] BADSIG ") {
		t.Errorf("another's payload: exit %d\n%s", code, out)
	}
	if code, out := verify(online[0].sig, online[0].payload); code == 0 || !strings.Contains(out, "[GNUPG:] ERRSIG ") {
		t.Errorf("online mode without Rekor: exit %d\n%s", code, out)
	}
	t.Setenv("GIT_CONFIG_COUNT", "2")
	t.Setenv("GIT_CONFIG_KEY_0", "gitsign.certificateIdentity")
	t.Setenv("GIT_CONFIG_VALUE_0", "billy@chainguard.dev")
	t.Setenv("GIT_CONFIG_KEY_1", "gitsign.certificateOIDCIssuer")
	t.Setenv("GIT_CONFIG_VALUE_1", "https://accounts.google.com")
	if code, out := verify(good[0].sig, good[0].payload); code != 0 || !strings.Contains(out, "TRUST_FULLY") {
		t.Errorf("real pair under the policy: exit %d\n%s", code, out)
	}
}

// FuzzVerifyCLI feeds whole signatures and payloads through git's entry
// point, gitsign --status-fd=1 --verify SIGFILE - (payload on standard
// input), optionally with an identity policy in git config (the signer of
// the real vectors). With der set, sig is DER that the target armors
// first, so that mutations reach past the armor into the CMS and the log
// entry it carries. Property: it never panics; stdout is status lines
// only, each "[GNUPG:] ...", starting with NEWSIG and holding exactly one
// of GOODSIG, BADSIG and ERRSIG; the exit code is 0 exactly when stdout
// holds "\n[GNUPG:] GOODSIG " (what git looks for); GOODSIG is followed by
// VALIDSIG and then TRUST_FULLY under a policy or TRUST_UNDEFINED without
// one; every stderr line starts with "gitsign: "; and only the real
// signatures over their real payloads are good: any other bytes that
// verify would be a second encoding of a signature, which gitsign refuses.
func FuzzVerifyCLI(f *testing.F) {
	good, online := realPairs(f)
	known := map[[2][sha256.Size]byte]bool{}
	for _, p := range good {
		known[[2][sha256.Size]byte{sha256.Sum256(p.sig), sha256.Sum256(p.payload)}] = true
		f.Add(p.sig, p.payload, false, false)
		der, err := cms.Dearmor(p.sig)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der, p.payload, true, false)
	}
	f.Add(good[0].sig, good[0].payload, false, true)
	f.Add(good[1].sig, good[0].payload, false, false) // someone else's payload
	f.Add(online[0].sig, online[0].payload, false, false)
	der, _ := cms.Dearmor(good[0].sig)
	f.Add(der[:len(der)-1], good[0].payload, true, false)
	f.Add(append(bytes.Repeat([]byte{0x30, 0x80}, 512), make([]byte, 1024)...), good[0].payload, true, false)
	f.Add([]byte{}, []byte{}, false, false)

	dir := hermetic(f)
	sigFile := filepath.Join(dir, "sig")
	f.Fuzz(func(t *testing.T, sig, payload []byte, der, policy bool) {
		if der {
			sig = cms.Armor(sig)
		}
		if policy {
			t.Setenv("GIT_CONFIG_COUNT", "2")
			t.Setenv("GIT_CONFIG_KEY_0", "gitsign.certificateIdentity")
			t.Setenv("GIT_CONFIG_VALUE_0", "billy@chainguard.dev")
			t.Setenv("GIT_CONFIG_KEY_1", "gitsign.certificateOIDCIssuer")
			t.Setenv("GIT_CONFIG_VALUE_1", "https://accounts.google.com")
		}
		if err := os.WriteFile(sigFile, sig, 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run([]string{"--status-fd=1", "--verify", sigFile, "-"}, streams{in: bytes.NewReader(payload), out: &stdout, err: &stderr})
		out, errs := stdout.String(), stderr.String()
		report := func(format string, args ...any) {
			t.Helper()
			t.Fatalf(format+"\nexit %d\nstdout:\n%s\nstderr:\n%s", append(args, code, out, errs)...)
		}

		goodsig := strings.Contains(out, "\n[GNUPG:] GOODSIG ")
		if (code == 0) != goodsig {
			report("exit code and GOODSIG disagree")
		}
		if !strings.HasPrefix(out, "[GNUPG:] NEWSIG\n") {
			report("stdout does not start with NEWSIG")
		}
		lines := strings.SplitAfter(out, "\n")
		if lines[len(lines)-1] != "" {
			report("stdout does not end with a newline")
		}
		lines = lines[:len(lines)-1]
		exclusive := 0
		for i, l := range lines {
			l = strings.TrimSuffix(l, "\n")
			if !strings.HasPrefix(l, "[GNUPG:] ") {
				report("stdout line %d is not a status line: %q", i+1, l)
			}
			kw, _, _ := strings.Cut(strings.TrimPrefix(l, "[GNUPG:] "), " ")
			switch kw {
			case "GOODSIG":
				exclusive++
				trust := "TRUST_UNDEFINED"
				if policy {
					trust = "TRUST_FULLY"
				}
				if i+2 >= len(lines) || !strings.HasPrefix(lines[i+1], "[GNUPG:] VALIDSIG ") || !strings.HasPrefix(lines[i+2], "[GNUPG:] "+trust+" ") {
					report("GOODSIG not followed by VALIDSIG and %s", trust)
				}
			case "BADSIG", "ERRSIG":
				exclusive++
			}
		}
		if exclusive != 1 {
			report("%d of GOODSIG, BADSIG and ERRSIG, want exactly 1", exclusive)
		}
		for i, l := range strings.SplitAfter(errs, "\n") {
			if l != "" && !strings.HasPrefix(l, "gitsign: ") {
				report("stderr line %d does not start with \"gitsign: \": %q", i+1, l)
			}
		}
		if code == 0 && !known[[2][sha256.Size]byte{sha256.Sum256(sig), sha256.Sum256(payload)}] {
			report("a signature that is not one of the real ones verified (malleable encoding?)\nsig %q\npayload %q", sig, payload)
		}
	})
}
