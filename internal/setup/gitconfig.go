package setup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/gitrepo"
)

// Scope is the git config file setup changes: the global one (git config
// --global) or the current repository's (--local).
type Scope struct {
	// Flag is git config's option for the file.
	Flag string
	// Key names the scope in the state file: "global", or "local:" and
	// the repository's git directory.
	Key string
	// Name is how people are told which file: "the global git config".
	Name string
}

// GlobalScope is the user's global git config.
func GlobalScope() Scope {
	return Scope{Flag: "--global", Key: "global", Name: "the global git config"}
}

// LocalScope is the git config of the repository here, or
// gitrepo.ErrNotRepository when there is none.
func LocalScope(ctx context.Context) (Scope, error) {
	if err := gitrepo.Check(ctx); err != nil {
		return Scope{}, err
	}
	out, err := gitrepo.Git(ctx, nil, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return Scope{}, err
	}
	dir := filepath.Clean(strings.TrimSuffix(string(out), "\n"))
	return Scope{Flag: "--local", Key: "local:" + dir, Name: "the git config of " + dir}, nil
}

// setting is one git config key setup sets; a boolean is compared by
// what git reads it as (yes, on and 1 are true).
type setting struct {
	key, value string
	boolean    bool
}

// settings are what makes git sign with gitsign at program.
func settings(program string) []setting {
	return []setting{
		{key: "gpg.format", value: "x509"},
		{key: "gpg.x509.program", value: program},
		{key: "commit.gpgsign", value: "true", boolean: true},
		{key: "tag.gpgsign", value: "true", boolean: true},
	}
}

// gitConfig reads and writes one git config file with git config, the
// key always after --.
type gitConfig struct {
	scope Scope
}

// gitRun runs git with args and returns its standard output and exit
// code; err is set only when git could not run or exited with a code not
// in ok.
func gitRun(ctx context.Context, ok []int, args ...string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if slices.Contains(ok, code) {
			err = nil
		}
	}
	if err != nil {
		msg := gitrepo.Message(stderr.Bytes())
		if msg == "" {
			msg = err.Error()
		}
		return "", code, fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return stdout.String(), code, nil
}

// values returns the key's values in the file (nil: unset there), as
// written; asBool, as git reads them as booleans ("true" or "false").
func (g gitConfig) values(ctx context.Context, key string, asBool bool) ([]string, error) {
	args := []string{"config", g.scope.Flag, "-z"}
	if asBool {
		args = append(args, "--type=bool")
	}
	out, code, err := gitRun(ctx, []int{1}, append(args, "--get-all", "--", key)...)
	if err != nil || code == 1 {
		return nil, err
	}
	vals := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	return vals, nil
}

// previous returns the key's values in the file as they are to be
// restored: as written, except that a key written without a value (true
// to git, but read back as "") is "true".
func (g gitConfig) previous(ctx context.Context, s setting) ([]string, error) {
	raw, err := g.values(ctx, s.key, false)
	if err != nil || !s.boolean || !slices.Contains(raw, "") {
		return raw, err
	}
	typed, err := g.values(ctx, s.key, true)
	if err != nil {
		return nil, err
	}
	for i := range raw {
		if raw[i] == "" && i < len(typed) && typed[i] == "true" {
			raw[i] = "true"
		}
	}
	return raw, nil
}

// isSet reports whether the file holds exactly s. A value git cannot
// read as a boolean is not s (setting s mends it).
func (g gitConfig) isSet(ctx context.Context, s setting) (bool, error) {
	vals, err := g.values(ctx, s.key, s.boolean)
	if err != nil && s.boolean {
		return false, nil
	}
	return len(vals) == 1 && vals[0] == s.value, err
}

// set makes value the key's only value in the file.
func (g gitConfig) set(ctx context.Context, key, value string) error {
	_, _, err := gitRun(ctx, nil, "config", g.scope.Flag, "--replace-all", "--", key, value)
	return err
}

// restore gives the key exactly vals in the file (none: unset); one
// value is put back where the key is, not at the end of its section.
func (g gitConfig) restore(ctx context.Context, key string, vals []string) error {
	if len(vals) == 1 {
		return g.set(ctx, key, vals[0])
	}
	if _, _, err := gitRun(ctx, []int{5}, "config", g.scope.Flag, "--unset-all", "--", key); err != nil {
		return err
	}
	for _, v := range vals {
		if _, _, err := gitRun(ctx, nil, "config", g.scope.Flag, "--add", "--", key, v); err != nil {
			return err
		}
	}
	return nil
}

// effective returns the value git uses for s here, from whichever file
// sets it last, and that file's name as git shows it ("file:PATH");
// ok is false when no file sets it.
func effective(ctx context.Context, s setting) (value, origin string, ok bool, err error) {
	args := []string{"config", "-z", "--show-origin"}
	if s.boolean {
		args = append(args, "--type=bool")
	}
	out, code, err := gitRun(ctx, []int{1}, append(args, "--get", "--", s.key)...)
	if err != nil || code == 1 {
		return "", "", false, err
	}
	origin, value, _ = strings.Cut(strings.TrimSuffix(out, "\x00"), "\x00")
	return value, origin, true, nil
}

// describe words a key's values for people: "unset", or the values.
func describe(vals []string) string {
	if len(vals) == 0 {
		return "unset"
	}
	return strings.Join(vals, ", ")
}
