package gitobj

// The tests in this file use git itself as the oracle: git verify-commit
// and verify-tag hand the payload and signature they extracted to the
// verification program, here a script that saves both, so SplitFor can be
// compared with git byte for byte on crafted objects, in SHA-1 and
// SHA-256 repositories, without any signing service.

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const captureScript = `#!/bin/sh
# Saves what git asks to verify: the signature file and the payload on stdin.
while [ $# -gt 0 ]; do
	if [ "$1" = --verify ]; then cp "$2" "$SPLIT_OUT/sig"; fi
	shift
done
cat > "$SPLIT_OUT/payload"
exit 1
`

// oracle is a scratch repository whose verification programs capture.
type oracle struct {
	t      *testing.T
	dir    string
	env    []string
	format string
	tree   string // the empty tree's id
	found  int    // objects in which git found a signature
	none   int    // objects in which it found none
}

func newOracle(t *testing.T, format string) *oracle {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found:", err)
	}
	home := t.TempDir()
	script := filepath.Join(home, "capture")
	if err := os.WriteFile(script, []byte(captureScript), 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	o := &oracle{t: t, dir: t.TempDir(), format: format,
		env: append(env, "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)}
	o.git(nil, "init", "-q", "--object-format="+format)
	o.git(nil, "config", "gpg.x509.program", script)
	o.git(nil, "config", "gpg.program", script)
	o.tree = strings.TrimSpace(string(o.git(nil, "hash-object", "-t", "tree", "-w", "--stdin")))
	return o
}

func (o *oracle) git(stdin []byte, args ...string) []byte {
	o.t.Helper()
	out, err := o.run(nil, stdin, args...)
	if err != nil {
		o.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (o *oracle) run(env []string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env, cmd.Stdin = o.dir, append(o.env, env...), bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, errors.New(err.Error() + ": " + strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// split asks git to verify the object raw of type typ and returns what it
// passed to the verification program; found is false if it passed nothing.
func (o *oracle) split(typ string, raw []byte) (payload, sig []byte, found bool) {
	o.t.Helper()
	id := strings.TrimSpace(string(o.git(raw, "hash-object", "-t", typ, "-w", "--literally", "--stdin")))
	out := o.t.TempDir()
	o.run([]string{"SPLIT_OUT=" + out}, nil, "verify-"+typ, id) // fails: the script refuses
	payload, err := os.ReadFile(filepath.Join(out, "payload"))
	if err != nil {
		return nil, nil, false
	}
	sig, err = os.ReadFile(filepath.Join(out, "sig"))
	if err != nil {
		o.t.Fatalf("git passed a payload but no signature for %q", raw)
	}
	return payload, sig, true
}

// compare checks SplitFor against git on one object: where git finds no
// signature SplitFor must fail; where git finds one SplitFor must return
// the same bytes, or refuse an object git reads ambiguously.
func (o *oracle) compare(typ string, raw []byte) {
	o.t.Helper()
	gp, gs, found := o.split(typ, raw)
	if found {
		o.found++
	} else {
		o.none++
	}
	p, s, err := SplitFor(typ, raw, o.format)
	switch {
	case !found && err == nil:
		o.t.Errorf("%s: git finds no signature in %q, SplitFor finds %q", o.format, raw, s)
	case found && err != nil && !strings.Contains(err.Error(), "more than one") && !strings.Contains(err.Error(), "besides its") &&
		!strings.Contains(err.Error(), "not its last header"):
		// gitsign refuses objects git reads ambiguously, and commits with
		// a gpgsig... header git leaves unverified or a signature header
		// that is not the last; nothing else.
		o.t.Errorf("%s: git finds a signature in %q, SplitFor: %v", o.format, raw, err)
	case found && err == nil && (!bytes.Equal(p, gp) || !bytes.Equal(s, gs)):
		o.t.Errorf("%s: %q splits as\n%q %q\ngit splits it as\n%q %q", o.format, raw, p, s, gp, gs)
	}
}

const (
	cmsArmor = "-----BEGIN SIGNED MESSAGE-----"
	pgpArmor = "-----BEGIN PGP SIGNATURE-----"
)

// checkCoverage fails the test unless git found a signature in at least
// min objects and none in at least min others.
func (o *oracle) checkCoverage(min int) {
	o.t.Helper()
	if o.found < min || o.none < min {
		o.t.Errorf("git found a signature in %d objects and none in %d: want at least %d of each", o.found, o.none, min)
	}
}

// commitLines are header lines to build commits from; continuation lines
// start with a space.
var commitLines = []string{
	"gpgsig " + cmsArmor, "gpgsig-sha256 " + cmsArmor, "gpgsig " + pgpArmor,
	"gpgsig-sha256 " + pgpArmor, " MIIB", " -----END SIGNED MESSAGE-----", " ",
	"gpgsigx " + cmsArmor, "gpgsig", "gpgsig-sha2 " + cmsArmor, "gpgsig-sha256", "xgpgsig " + cmsArmor,
	"author A <a@example.test> 1 +0000", "committer A <a@example.test> 1 +0000",
	"encoding UTF-8", "mergetag object x", "tree 0",
	"committer C <c@example.test> 1 +0000", "committer C c@example.test", "committer ", "tagger T <t@example.test>",
}

// tagLines are message lines to build tags from.
var tagLines = []string{
	cmsArmor, pgpArmor, "-----BEGIN PGP MESSAGE-----", cmsArmor + "x", "-----BEGIN FOO-----",
	" " + cmsArmor, "-----BEGIN SIGNED MESSAGE", "MIIB", "-----END SIGNED MESSAGE-----", "", "text",
	"tagger T <t@example.test> 1 +0000",
}

func TestSplitMatchesGitCommits(t *testing.T) {
	for _, format := range []string{SHA1, SHA256} {
		t.Run(format, func(t *testing.T) {
			o := newOracle(t, format)
			tree := "tree " + o.tree + "\n"
			head := tree + cm
			fixed := []string{
				head + "gpgsig " + cmsArmor + "\n MIIB\n\nmsg\n",
				head + "gpgsig-sha256 " + cmsArmor + "\n MIIB\n\nmsg\n",
				head + "gpgsig-sha256 " + cmsArmor + "\n MIIB\ngpgsig " + pgpArmor + "\n x\nauthor A\n\nmsg\n",
				head + "gpgsigx junk\n more\ngpgsig " + cmsArmor + "\ngpgsig-sha256 " + cmsArmor + "\n\nmsg\n",
				head + "gpgsigx " + cmsArmor + "\n MIIB\n\nmsg\n",
				head + "gpgsig " + cmsArmor,
				head + "\ngpgsig " + cmsArmor + "\n",
				// Signers git cannot read.
				tree + "gpgsig " + cmsArmor + "\ngpgsig-sha256 " + cmsArmor + "\n\n" + cm,
				tree + "committer C <c@example.test\ngpgsig " + cmsArmor + "\ngpgsig-sha256 " + cmsArmor + "\n\nmsg\n",
				tree + "committer \ngpgsig " + cmsArmor + "\ngpgsig-sha256 " + cmsArmor + "\n\nmsg\n",
				tree + "encoding \x00\n" + cm + "gpgsig " + cmsArmor + "\ngpgsig-sha256 " + cmsArmor + "\n\nmsg\n",
				tree + "committer C <c\x00@example.test>\ngpgsig " + cmsArmor + "\ngpgsig-sha256 " + cmsArmor + "\n\nmsg\n",
			}
			for _, raw := range fixed {
				o.compare("commit", []byte(raw))
			}
			rng := rand.New(rand.NewPCG(1, uint64(len(format))))
			for range 80 {
				var b strings.Builder
				b.WriteString(tree)
				if rng.IntN(4) > 0 {
					b.WriteString(cm)
				}
				for range rng.IntN(7) {
					b.WriteString(commitLines[rng.IntN(len(commitLines))] + "\n")
				}
				b.WriteString("\nmsg\n")
				if rng.IntN(2) == 0 {
					b.WriteString("gpgsig " + cmsArmor + "\n")
				}
				o.compare("commit", []byte(b.String()))
			}
			o.checkCoverage(20)
		})
	}
}

func TestSplitMatchesGitTags(t *testing.T) {
	o := newOracle(t, SHA1)
	obj := "object " + o.tree + "\ntype tree\ntag v1\n"
	head := obj + "tagger A <a@example.test> 1 +0000\n\n"
	fixed := []string{
		head + "msg\n" + cmsArmor + "\nMIIB\n-----END SIGNED MESSAGE-----\n",
		head + "msg\n" + cmsArmor + "\nMIIB\n-----END SIGNED MESSAGE-----\ntrailing\n",
		head + "-----BEGIN FOO-----\n" + cmsArmor + "\nMIIB\n",
		head + "msg\n-----BEGIN FOO-----\nMIIB\n",
		head + "msg\n" + cmsArmor,
		obj + "\nmsg\n" + cmsArmor + "\n",
		obj + "tagger A a@example.test\n\nmsg\n" + cmsArmor + "\n",
		cmsArmor + "\n" + head,
	}
	for _, raw := range fixed {
		o.compare("tag", []byte(raw))
	}
	rng := rand.New(rand.NewPCG(2, 3))
	for range 80 {
		var b strings.Builder
		b.WriteString(obj)
		if rng.IntN(4) > 0 {
			b.WriteString("tagger A <a@example.test> 1 +0000\n")
		}
		b.WriteString("\n")
		for range rng.IntN(6) {
			b.WriteString(tagLines[rng.IntN(len(tagLines))] + "\n")
		}
		o.compare("tag", []byte(b.String()))
	}
	o.checkCoverage(20)
}
