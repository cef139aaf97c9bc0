package doctor

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/config"
)

// checkGit checks that git signs with gitsign: gpg.format is x509,
// gpg.x509.program is this gitsign, and commit.gpgsign and tag.gpgsign
// make git sign without -S.
func checkGit(o Options) []Check {
	return []Check{checkFormat(o), checkProgram(o), checkAutosign(o)}
}

func checkFormat(o Options) Check {
	v, _, found := config.GitValue(o.GitConfig, "gpg.format")
	switch {
	case !found:
		return check("git-format", Fail, "gpg.format is not set: git signs with OpenPGP (gpg), not gitsign",
			"gitsign setup, or git config --global gpg.format x509")
	case strings.EqualFold(v, "x509"):
		return check("git-format", OK, "gpg.format is x509: git signs with gpg.x509.program")
	}
	return check("git-format", Fail, "gpg.format is "+v+", not x509: git does not sign with gitsign",
		"gitsign setup, or git config --global gpg.format x509 (git config --show-origin gpg.format shows where it is set)")
}

func checkProgram(o Options) Check {
	const name = "git-program"
	prog, _, found := config.GitValue(o.GitConfig, "gpg.x509.program")
	if !found || prog == "" {
		return check(name, Fail, "gpg.x509.program is not set: git runs gpgsm for x509 signatures",
			"gitsign setup, or git config --global gpg.x509.program gitsign")
	}
	path, err := o.LookPath(prog)
	if err != nil {
		return check(name, Fail, "gpg.x509.program is "+prog+", which git cannot find: "+err.Error(),
			"put gitsign on PATH, or set gpg.x509.program to its full path")
	}
	if same(path, o.Executable) {
		return check(name, OK, "gpg.x509.program is "+prog+": this gitsign ("+o.Executable+")")
	}
	return check(name, Warn, "gpg.x509.program is "+prog+", which is "+path+", not this gitsign ("+o.Executable+")",
		"run that one's doctor (gitsign version of each says which build it is), or git config --global gpg.x509.program "+o.Executable)
}

// same reports whether paths a and b are the same file (links resolved).
func same(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}

func checkAutosign(o Options) Check {
	const name = "git-autosign"
	var off []string
	for _, key := range []string{"commit.gpgsign", "tag.gpgsign"} {
		v, bare, found := config.GitValue(o.GitConfig, key)
		if b, ok := config.GitBool(v, bare); !found || !ok || !b {
			off = append(off, key)
		}
	}
	switch len(off) {
	case 0:
		return check(name, OK, "commit.gpgsign and tag.gpgsign are true: git signs every commit and annotated tag")
	case 1:
		what := map[string]string{"commit.gpgsign": "commits", "tag.gpgsign": "annotated tags"}[off[0]]
		return check(name, Warn, off[0]+" is not true: git signs "+what+" only when asked (-S, -s)",
			"gitsign setup, or git config --global "+off[0]+" true")
	}
	return check(name, Warn, "commit.gpgsign and tag.gpgsign are not true: git signs only when asked (git commit -S, git tag -s)",
		"gitsign setup, or git config --global commit.gpgsign true and git config --global tag.gpgsign true")
}
