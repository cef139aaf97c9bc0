package cli

// This file holds every question gitsign verify and verify-tag ask git:
// which commits and tags the command line names (streamed, for ranges),
// the repository's object format, and the objects themselves, byte for
// byte as git stores them (objstream.go streams them from git cat-file).
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

// idSource streams object ids to emit, in the order they are to be
// reported, and stops at the first error emit returns.
type idSource func(ctx context.Context, emit func(id string) error) error

// idList is the idSource of ids already known.
func idList(ids []string) idSource {
	return func(_ context.Context, emit func(string) error) error {
		for _, id := range ids {
			if err := emit(id); err != nil {
				return err
			}
		}
		return nil
	}
}

// isRange tells a range (A..B, A...B, ^A) from a single revision.
func isRange(arg string) bool {
	return strings.Contains(arg, "..") || strings.HasPrefix(arg, "^")
}

// resolveCommits turns revisions and ranges into commit ids, with git,
// and collects them (commitSource streams them).
func resolveCommits(ctx context.Context, args []string) ([]string, error) {
	src, err := commitSource(ctx, args)
	if err != nil {
		return nil, err
	}
	var ids []string
	if err := src(ctx, func(id string) error { ids = append(ids, id); return nil }); err != nil {
		return nil, err
	}
	return ids, nil
}

// commitSource turns revisions and ranges into a stream of commit ids,
// argument by argument: a revision is one commit, a range is what git
// rev-list lists for it alone. Mistakes on the command line are reported
// here, before any id streams: each revision is resolved now, and, when
// there is more than one argument, git checks each range (listing none of
// it), so that a bad last argument is not found after the first range's
// results are out. The ranges are listed only as the stream is read, each
// by one git rev-list whose output is never collected.
func commitSource(ctx context.Context, args []string) (idSource, error) {
	singles := make([][]string, len(args))
	for i, a := range args {
		if isRange(a) {
			if len(args) > 1 {
				if _, err := git(ctx, nil, "rev-list", "--max-count=0", "--end-of-options", a, "--"); err != nil {
					return nil, err
				}
			}
			continue
		}
		out, err := git(ctx, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", a+"^{commit}")
		if err != nil {
			return nil, fmt.Errorf("%s is not a commit in this repository", a)
		}
		singles[i] = strings.Fields(string(out))
	}
	return func(ctx context.Context, emit func(string) error) error {
		for i, a := range args {
			if !isRange(a) {
				if err := idList(singles[i])(ctx, emit); err != nil {
					return err
				}
				continue
			}
			if err := listRange(ctx, a, emit); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// listRange streams what `git rev-list RANGE` lists to emit, as git lists
// it. When emit fails, git is stopped and emit's error returned; when git
// fails, what it said.
func listRange(ctx context.Context, rng string, emit func(string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "rev-list", "--end-of-options", rng, "--")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git rev-list: %s", err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		for _, id := range strings.Fields(sc.Text()) {
			if err := emit(id); err != nil {
				cancel()
				cmd.Wait()
				return err
			}
		}
	}
	readErr := sc.Err()
	if readErr != nil {
		cancel() // git may be blocked writing what was not read
	}
	if err := cmd.Wait(); err != nil {
		msg := gitMessage(stderr.Bytes())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("git rev-list: %s", msg)
	}
	if readErr != nil {
		return fmt.Errorf("git rev-list: %v", readErr)
	}
	return nil
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
// object format. It collects what streamObjects streams.
func readObjects(ctx context.Context, ids []string) ([]gitObject, error) {
	var objects []gitObject
	if err := streamObjects(ctx, idList(ids), func(o gitObject) error { objects = append(objects, o); return nil }); err != nil {
		return nil, err
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
