package cli

// This file holds every question gitsign verify and verify-tag ask git:
// which commits and tags the command line names, the repository's object
// format, and the objects themselves, byte for byte as git stores them.
// Input from the command line reaches git only after --end-of-options, or
// behind a prefix ("refs/tags/") no option starts with, so that no
// revision can turn into an option: `gitsign verify -- --output=F..HEAD`
// must not make git write F.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// errNotRepository: gitsign verify and verify-tag run outside a git
// repository.
var errNotRepository = errors.New("not a git repository")

// checkRepository reports a usage error when there is no git repository
// here (errNotRepository), or git's own reason when git cannot use the
// one there is, before anything else is asked of git.
func checkRepository(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--git-dir")
	// Untranslated, so that "not a git repository" can be recognised.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := gitMessage(stderr.Bytes())
		if strings.Contains(msg, "not a git repository") {
			return &exitError{code: 2, err: errNotRepository}
		}
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("git rev-parse: %s", msg)
	}
	return nil
}

// resolveCommits turns revisions and ranges into commit ids, with git.
func resolveCommits(ctx context.Context, args []string) ([]string, error) {
	var ids []string
	for _, a := range args {
		var out []byte
		var err error
		if strings.Contains(a, "..") || strings.HasPrefix(a, "^") {
			out, err = git(ctx, nil, "rev-list", "--end-of-options", a, "--")
		} else {
			out, err = git(ctx, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", a+"^{commit}")
			if err != nil {
				return nil, fmt.Errorf("%s is not a commit in this repository", a)
			}
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, strings.Fields(string(out))...)
	}
	return ids, nil
}

// resolveTags turns tag names into tag object ids, with git.
func resolveTags(ctx context.Context, names []string) ([]string, error) {
	var ids []string
	for _, n := range names {
		out, err := git(ctx, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", "refs/tags/"+n)
		if err != nil {
			return nil, fmt.Errorf("no tag %s", n)
		}
		id := strings.TrimSpace(string(out))
		if typ, err := git(ctx, nil, "cat-file", "-t", id); err != nil || strings.TrimSpace(string(typ)) != "tag" {
			e := &exitError{code: 1, err: fmt.Errorf("tag %s is a lightweight tag: it has no signature of its own", n)}
			if q, ok := printable.ShellQuote(n); ok {
				if strings.HasPrefix(n, "-") {
					q = "-- " + q // a revision, not an option
				}
				e.hint("verify the commit it names: gitsign verify %s", q)
			}
			return nil, e
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// gitObject is a git object, byte for byte as git stores it.
type gitObject struct {
	id, typ string
	raw     []byte
	// format is the repository's object format, gitobj.SHA1 or
	// gitobj.SHA256: it decides which header holds a commit's signature.
	format string
}

// split separates o into the payload that was signed and the signature,
// as git does in o's repository.
func (o gitObject) split() (payload, sig []byte, err error) {
	return gitobj.SplitFor(o.typ, o.raw, o.format)
}

// objectFormat asks git for the repository's object format.
func objectFormat(ctx context.Context) (string, error) {
	out, err := git(ctx, nil, "rev-parse", "--show-object-format")
	if err != nil {
		return "", err
	}
	switch f := strings.TrimSpace(string(out)); f {
	case gitobj.SHA1, gitobj.SHA256:
		return f, nil
	default:
		return "", fmt.Errorf("git rev-parse: unknown object format %q", f)
	}
}

// readObjects reads the raw objects, exactly as git stores them, through
// one `git cat-file --batch`, after asking git once for the repository's
// object format.
func readObjects(ctx context.Context, ids []string) ([]gitObject, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	format, err := objectFormat(ctx)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "git", "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running git cat-file: %w", err)
	}
	// fail stops git (closing the pipe it may be blocked on) and returns
	// what went wrong, with what git said.
	fail := func(what string) ([]gitObject, error) {
		stdout.Close()
		cmd.Wait()
		if msg := gitMessage(stderr.Bytes()); msg != "" {
			what += ": " + msg
		}
		return nil, fmt.Errorf("git cat-file: %s", what)
	}
	br := bufio.NewReader(stdout)
	objects := make([]gitObject, 0, len(ids))
	for _, want := range ids {
		header, err := br.ReadString('\n')
		if err != nil {
			return fail(fmt.Sprintf("reading object %s: %v", want, err))
		}
		f := strings.Fields(header)
		if len(f) != 3 || f[0] != want {
			return fail(fmt.Sprintf("asked for %s, got %q", want, strings.TrimSpace(header)))
		}
		size, err := strconv.Atoi(f[2])
		if err != nil || size < 0 || size > maxPayload {
			return fail(fmt.Sprintf("bad size in %q", strings.TrimSpace(header)))
		}
		raw := make([]byte, size+1)
		if _, err := io.ReadFull(br, raw); err != nil {
			return fail(fmt.Sprintf("reading object %s: %v", want, err))
		}
		if raw[size] != '\n' {
			return fail(fmt.Sprintf("object %s is not followed by a newline", want))
		}
		objects = append(objects, gitObject{id: f[0], typ: f[1], raw: raw[:size], format: format})
	}
	if err := cmd.Wait(); err != nil {
		msg := gitMessage(stderr.Bytes())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git cat-file: %s", msg)
	}
	return objects, nil
}

// git runs git and returns its standard output. Arguments that come from
// the command line must follow --end-of-options.
func git(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := gitMessage(stderr.Bytes())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", args[0], msg)
	}
	return out, nil
}

// gitMessage returns what git said on standard error on one line, without
// hints and "fatal: " or "error: " prefixes.
func gitMessage(stderr []byte) string {
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
