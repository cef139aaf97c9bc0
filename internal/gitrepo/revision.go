package gitrepo

// This file turns revisions and ranges into object ids, each name once
// and by git's own rules, refusing any name that means more than one
// thing. git itself takes the first of refs/NAME, refs/tags/NAME,
// refs/heads/NAME, refs/remotes/NAME... and only warns: anyone who may
// push a tag named "origin/main" would otherwise choose what
// "origin/main..HEAD" or "origin/main:.gitsigners" means to a CI check.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
)

// AmbiguousError is a revision whose name git finds in more than one
// place.
type AmbiguousError struct {
	Rev        string   // the revision as given
	Name       string   // the name in it that is ambiguous
	Candidates []string // what the name could mean (full ref names, or objects)
}

func (e *AmbiguousError) Error() string {
	msg := fmt.Sprintf("%s is ambiguous", e.Name)
	if e.Rev != e.Name {
		msg = fmt.Sprintf("%s is ambiguous in %s", e.Name, e.Rev)
	}
	if len(e.Candidates) > 0 {
		msg += ": it could be " + strings.Join(e.Candidates, " or ")
	}
	return msg
}

// NotFoundError is a revision git does not resolve to an object of the
// kind asked for.
type NotFoundError struct {
	Rev  string
	Kind string // "commit", or "" for any object
	// Unborn, when Rev is HEAD, is the branch HEAD names, which has no
	// commit yet (a new repository).
	Unborn string
}

func (e *NotFoundError) Error() string {
	if e.Unborn != "" {
		return fmt.Sprintf("there is no commit yet: HEAD names %s, which has none", e.Unborn)
	}
	if e.Kind == "" {
		return fmt.Sprintf("%s names nothing in this repository", e.Rev)
	}
	return fmt.Sprintf("%s is not a %s in this repository", e.Rev, e.Kind)
}

// What git says of ambiguous names, compiled when first needed: gitsign
// starts once per signature and per pushed commit's hook, and compiling
// them at start-up would cost each run a millisecond.
var (
	ambiguousRef   = lazyRegexp(`(?m)^warning: refname '(.*)' is ambiguous\.$`)
	ambiguousShort = lazyRegexp(`(?m)^error: short object ID (\S+) is ambiguous$`)
	candidateLine  = lazyRegexp(`(?m)^hint:\s+([0-9a-f]{4,64} \S+)`)
)

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// isPseudoRef reports whether name has the form of a root ref (HEAD,
// FETCH_HEAD): capital letters and underscores.
func isPseudoRef(name string) bool {
	return name != "" && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == ""
}

// Resolve returns the id of the object rev names, peeled to kind when kind
// is not empty ("commit", "tree"): what `git rev-parse --verify` gives,
// unless a name in rev is ambiguous (*AmbiguousError) or rev names
// nothing of that kind (*NotFoundError).
func Resolve(ctx context.Context, rev, kind string) (string, error) {
	arg := rev
	if kind != "" {
		arg += "^{" + kind + "}"
	}
	// Not --quiet: it silences the warning that tells of an ambiguous name.
	out, stderr, err := runC(ctx, "-c", "core.warnAmbiguousRefs=true", "rev-parse", "--verify", "--end-of-options", arg)
	if m := ambiguousRef().FindSubmatch(stderr); m != nil && !firstRuleWins(ctx, string(m[1])) {
		name := string(m[1])
		return "", &AmbiguousError{Rev: rev, Name: name, Candidates: refCandidates(ctx, name)}
	}
	if m := ambiguousShort().FindSubmatch(stderr); m != nil {
		e := &AmbiguousError{Rev: rev, Name: string(m[1])}
		for _, c := range candidateLine().FindAllSubmatch(stderr, 8) {
			e.Candidates = append(e.Candidates, string(c[1]))
		}
		return "", e
	}
	id := strings.TrimSpace(string(out))
	if err != nil || !IsObjectID(id) {
		nf := &NotFoundError{Rev: rev, Kind: kind}
		if rev == "HEAD" {
			if ref, err := Git(ctx, nil, "symbolic-ref", "-q", "HEAD"); err == nil {
				nf.Unborn = strings.TrimSpace(string(ref))
			}
		}
		return "", nf
	}
	return id, nil
}

// firstRuleWins reports whether git resolves name by its first rule, which
// no other ref can outrank, so that the ambiguity git warns of cannot
// redirect it: a full object id (git takes the object, whatever ref is
// named like it), or a name that is itself an existing full ref
// ("refs/remotes/origin/main", never refs/tags/refs/remotes/origin/main)
// or root ref (HEAD, never refs/tags/HEAD).
func firstRuleWins(ctx context.Context, name string) bool {
	if IsObjectID(name) {
		return true
	}
	if !strings.HasPrefix(name, "refs/") && !isPseudoRef(name) {
		return false
	}
	_, err := Git(ctx, nil, "show-ref", "--verify", "--quiet", "--", name)
	if err == nil {
		return true
	}
	if isPseudoRef(name) {
		out, err := Git(ctx, nil, "rev-parse", "--git-path", name)
		if err == nil {
			if _, err := os.Stat(strings.TrimSpace(string(out))); err == nil {
				return true
			}
		}
	}
	return false
}

// refCandidates lists the refs an ambiguous name could mean, in the order
// git tries them.
func refCandidates(ctx context.Context, name string) []string {
	var found []string
	if isPseudoRef(name) {
		found = append(found, name)
	}
	want := []string{"refs/" + name, "refs/tags/" + name, "refs/heads/" + name, "refs/remotes/" + name, "refs/remotes/" + name + "/HEAD"}
	out, err := Git(ctx, nil, append([]string{"for-each-ref", "--format=%(refname)", "--end-of-options"}, want...)...)
	if err != nil {
		return found
	}
	have := strings.Fields(string(out))
	for _, w := range want {
		for _, h := range have {
			if h == w {
				found = append(found, w)
			}
		}
	}
	return found
}

// IsRange tells a range (A..B, A...B, ^A) from a single revision.
func IsRange(arg string) bool {
	return strings.Contains(arg, "..") || strings.HasPrefix(arg, "^")
}

// resolveRange rewrites a range with each end resolved to a commit id
// (Resolve): "A..B", "A...B" (an empty end is HEAD, as in git) and "^A".
func resolveRange(ctx context.Context, rng string) (string, error) {
	if rest, ok := strings.CutPrefix(rng, "^"); ok && !strings.Contains(rest, "..") {
		id, err := Resolve(ctx, rest, "commit")
		return "^" + id, err
	}
	sep := ".."
	if strings.Contains(rng, "...") {
		sep = "..."
	}
	a, b, _ := strings.Cut(rng, sep)
	ends := []string{a, b}
	for i, e := range ends {
		if e == "" {
			e = "HEAD"
		}
		id, err := Resolve(ctx, e, "commit")
		if err != nil {
			return "", err
		}
		ends[i] = id
	}
	return ends[0] + sep + ends[1], nil
}

// Commits turns revisions and ranges into a stream of commit ids,
// argument by argument: a revision is one commit, a range is what git
// rev-list lists for it alone. Every name is resolved now, once, to an
// object id (Resolve), so that mistakes and ambiguous names are reported
// before any id streams and git lists each range by ids alone. The ranges
// are listed only as the stream is read, each by one git rev-list whose
// output is never collected.
func Commits(ctx context.Context, args []string) (IDSource, error) {
	resolved := make([]string, len(args))
	for i, a := range args {
		var err error
		if IsRange(a) {
			resolved[i], err = resolveRange(ctx, a)
		} else {
			resolved[i], err = Resolve(ctx, a, "commit")
		}
		if err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, emit func(string) error) error {
		for i, a := range args {
			if !IsRange(a) {
				if err := emit(resolved[i]); err != nil {
					return err
				}
				continue
			}
			if err := RevList(ctx, []string{resolved[i]}, emit); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// RevList streams what `git rev-list ARGS...` lists to emit, as git lists
// it; args are revisions (never options). When emit fails, git is stopped
// and emit's error returned; when git fails, what it said.
func RevList(ctx context.Context, args []string, emit func(string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r, err := startRevList(ctx, append(append([]string{"rev-list", "--end-of-options"}, args...), "--"), nil)
	if err != nil {
		return err
	}
	return r.read(cancel, emit)
}

// StartRevListStdin starts `git rev-list --stdin` with revs on its
// standard input (any number of them, "^ID" to exclude) now, so that git
// works while the caller does other things, and returns the IDSource that
// reads what it lists, as RevList does; it must be read once, or ctx
// ended.
func StartRevListStdin(ctx context.Context, revs []string) (IDSource, error) {
	ctx, cancel := context.WithCancel(ctx)
	r, err := startRevList(ctx, []string{"rev-list", "--stdin"}, strings.NewReader(strings.Join(revs, "\n")+"\n"))
	if err != nil {
		cancel()
		return nil, err
	}
	return func(_ context.Context, emit func(string) error) error {
		defer cancel()
		return r.read(cancel, emit)
	}, nil
}

// runningRevList is a started git rev-list.
type runningRevList struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr *bytes.Buffer
}

func startRevList(ctx context.Context, args []string, stdin io.Reader) (*runningRevList, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Stdin = stdin
	r := &runningRevList{cmd: cmd, stderr: new(bytes.Buffer)}
	cmd.Stderr = r.stderr
	var err error
	if r.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git rev-list: %s", err)
	}
	return r, nil
}

// read hands each id git lists to emit; cancel stops git.
func (r *runningRevList) read(cancel func(), emit func(string) error) error {
	cmd, stderr := r.cmd, r.stderr
	sc := bufio.NewScanner(r.stdout)
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
		msg := Message(stderr.Bytes())
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
