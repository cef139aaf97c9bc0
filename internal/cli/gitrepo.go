package cli

// This file maps what package gitrepo says about the repository and the
// revisions on the command line to gitsign's errors: exit codes and hints.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// checkRepository reports a usage error when there is no git repository
// here, or git's own reason when git cannot use the one there is, before
// anything else is asked of git.
func checkRepository(ctx context.Context) error {
	return checkRepositoryError(gitrepo.Check(ctx))
}

// checkRepositoryError makes gitrepo.ErrNotRepository a usage error.
func checkRepositoryError(err error) error {
	if errors.Is(err, gitrepo.ErrNotRepository) {
		return &exitError{code: 2, err: err}
	}
	return err
}

// revisionError turns an ambiguous revision into a usage error (exit 2);
// hints.go says how to name it so that it means one thing.
func revisionError(err error) error {
	var amb *gitrepo.AmbiguousError
	if !errors.As(err, &amb) {
		return err
	}
	return &exitError{code: 2, err: err}
}

// ambiguousHints say how to name what amb could mean so that it means one
// thing.
func ambiguousHints(amb *gitrepo.AmbiguousError) []string {
	if len(amb.Candidates) > 0 && strings.HasPrefix(amb.Candidates[len(amb.Candidates)-1], "refs/") {
		return []string{fmt.Sprintf("name it in full (e.g. %s) or by its object id: anyone who can push a ref can make a short name mean something else", amb.Candidates[len(amb.Candidates)-1])}
	}
	return []string{"give more of the object id"}
}

// commitSource turns revisions and ranges into a stream of commit ids
// (gitrepo.Commits), every name resolved once, before anything streams.
func commitSource(ctx context.Context, args []string) (gitrepo.IDSource, error) {
	src, err := gitrepo.Commits(ctx, args)
	return src, revisionError(err)
}

// resolveCommits collects what commitSource streams.
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

// resolveTags turns tag names into tag object ids, with git. A name is
// looked up under refs/tags/ only, so it is never ambiguous.
func resolveTags(ctx context.Context, names []string) ([]string, error) {
	var ids []string
	for _, n := range names {
		out, err := gitrepo.Git(ctx, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", "refs/tags/"+n)
		if err != nil {
			return nil, fmt.Errorf("no tag %s", n)
		}
		id := strings.TrimSpace(string(out))
		if typ, err := gitrepo.Git(ctx, nil, "cat-file", "-t", id); err != nil || strings.TrimSpace(string(typ)) != "tag" {
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
