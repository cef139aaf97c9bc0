// Package gitrepo asks git about the repository gitsign runs in: which
// objects revisions and ranges name (resolved once, by git's rules, and
// refused when a name means more than one thing), the repository's object
// format, files in revisions (REV:PATH), and the objects themselves, byte
// for byte as git stores them, streamed from one `git cat-file --batch`.
//
// Input from the command line or from a pushed ref reaches git only after
// --end-of-options, or behind a prefix no option starts with, so that no
// revision can turn into an option: `gitsign verify -- --output=F..HEAD`
// must not make git write F. Everything here runs git in the current
// directory, with the environment git gave gitsign (a hook's GIT_DIR and
// quarantine directories included).
package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// ErrNotRepository: there is no git repository here.
var ErrNotRepository = errors.New("not a git repository")

// Check returns ErrNotRepository when there is no git repository here, or
// git's own reason when git cannot use the one there is, before anything
// else is asked of git.
func Check(ctx context.Context) error {
	_, stderr, err := runC(ctx, "rev-parse", "--git-dir")
	return revParseError(stderr, err)
}

// revParseError is ErrNotRepository when git rev-parse found no
// repository, else git's reason for failing, else nil.
func revParseError(stderr []byte, err error) error {
	if err == nil {
		return nil
	}
	msg := Message(stderr)
	if strings.Contains(msg, "not a git repository") {
		return ErrNotRepository
	}
	if msg == "" {
		msg = err.Error()
	}
	return fmt.Errorf("git rev-parse: %s", msg)
}

// Git runs git and returns its standard output. Arguments that come from
// outside must follow --end-of-options. A failure is "git <command>: "
// and what git said, on one line.
func Git(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := Message(stderr.Bytes())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", args[0], msg)
	}
	return out, nil
}

// runC runs git untranslated (LC_ALL=C), so that what it says on standard
// error can be recognised, and returns both outputs.
func runC(ctx context.Context, args ...string) (stdout, stderr []byte, err error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANGUAGE=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

// Message returns what git said on standard error on one line, without
// hints and "fatal: ", "error: " or "warning: " prefixes.
func Message(stderr []byte) string {
	var lines []string
	for _, l := range strings.Split(string(stderr), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "hint:") {
			continue
		}
		l = strings.TrimPrefix(strings.TrimPrefix(l, "fatal: "), "error: ")
		lines = append(lines, l)
	}
	return strings.Join(lines, "; ")
}

// ObjectFormat asks git for the repository's object format, gitobj.SHA1
// or gitobj.SHA256, once per repository and process.
func ObjectFormat(ctx context.Context) (string, error) {
	key := repoKey()
	if f, ok := formats.Load(key); ok {
		return f.(string), nil
	}
	out, err := Git(ctx, nil, "rev-parse", "--show-object-format")
	if err != nil {
		return "", err
	}
	return rememberFormat(key, strings.TrimSpace(string(out)))
}

// formats holds the object format of each repository asked about, by
// repoKey: it cannot change while gitsign runs, and each git process
// costs milliseconds.
var formats sync.Map

// repoKey names the repository git finds from here: the directory and
// GIT_DIR.
func repoKey() string {
	wd, _ := os.Getwd()
	return wd + "\x00" + os.Getenv("GIT_DIR")
}

func rememberFormat(key, f string) (string, error) {
	switch f {
	case gitobj.SHA1, gitobj.SHA256:
		formats.Store(key, f)
		return f, nil
	default:
		return "", fmt.Errorf("git rev-parse: unknown object format %q", f)
	}
}

// Facts are what one git process tells of the repository here.
type Facts struct {
	Format string // gitobj.SHA1 or gitobj.SHA256
	// Head is the ref HEAD names (refs/heads/main), even when that branch
	// does not exist yet; "" when HEAD is detached.
	Head string
}

// Describe returns the repository's Facts, or ErrNotRepository, asking
// git once (twice in a repository with no commit on HEAD's branch).
func Describe(ctx context.Context) (Facts, error) {
	out, stderr, err := runC(ctx, "rev-parse", "--git-dir", "--show-object-format", "--symbolic-full-name", "HEAD")
	if err != nil && !bytes.Contains(stderr, []byte("not a git repository")) {
		// HEAD names no commit in a work tree: git takes it for a path.
		out, stderr, err = runC(ctx, "rev-parse", "--git-dir", "--show-object-format")
		out = append(out, "HEAD\n"...)
	}
	if err := revParseError(stderr, err); err != nil {
		return Facts{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 {
		return Facts{}, fmt.Errorf("git rev-parse: unexpected answer %q", out)
	}
	var facts Facts
	if facts.Format, err = rememberFormat(repoKey(), lines[1]); err != nil {
		return Facts{}, err
	}
	facts.Head = lines[2]
	if !strings.HasPrefix(facts.Head, "refs/") {
		// Unborn (git echoes "HEAD") or detached: symbolic-ref tells.
		ref, err := Git(ctx, nil, "symbolic-ref", "-q", "HEAD")
		facts.Head = ""
		if err == nil {
			facts.Head = strings.TrimSpace(string(ref))
		}
	}
	return facts, nil
}

// TopLevel is the top of the work tree.
func TopLevel(ctx context.Context) (string, error) {
	out, err := Git(ctx, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(out), "\n"), nil
}

// IsObjectID reports whether s is a full object id in lowercase hex, of
// either object format.
func IsObjectID(s string) bool {
	return (len(s) == 40 || len(s) == 64) && strings.Trim(s, "0123456789abcdef") == ""
}
