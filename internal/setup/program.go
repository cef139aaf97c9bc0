package setup

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// AgentName is the credential cache agent's program name.
const AgentName = "gitsign-credential-cache"

// ProgramPath is the absolute path git should run gitsign by: the path
// this process was started by (argv[0], looked up in PATH when it has no
// slash) when that is the running binary, else os.Executable. The name
// the person ran is kept through symbolic links on purpose: a package
// manager's link (Homebrew's /opt/homebrew/bin/gitsign, a Nix profile)
// keeps naming gitsign after an upgrade, where the versioned file it
// points at goes away.
func ProgramPath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return "", err
	}
	if len(os.Args) > 0 {
		if ran := invokedPath(os.Args[0]); ran != "" && sameFile(ran, exe) {
			return ran, nil
		}
	}
	return exe, nil
}

// invokedPath is the absolute path arg0 names, or "".
func invokedPath(arg0 string) string {
	p := arg0
	if !strings.ContainsRune(arg0, '/') && !(runtime.GOOS == "windows" && strings.ContainsRune(arg0, '\\')) {
		var err error
		if p, err = exec.LookPath(arg0); err != nil {
			return ""
		}
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	return abs
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// FindAgent returns the absolute path of gitsign-credential-cache: next
// to program (as the release archives and packages install it), else
// the first in PATH; "" when there is none.
func FindAgent(program string) string {
	name := AgentName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	next := filepath.Join(filepath.Dir(program), name)
	if fi, err := os.Stat(next); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		return next
	}
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return ""
}
