package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNoSuchFile: a revision has no file at the path asked for.
var ErrNoSuchFile = errors.New("git knows no such file (REV:PATH is a file in a git revision, PATH from the top of the repository)")

// ReadRevPath reads REV:PATH, the file PATH in revision REV (split at the
// first colon), no larger than max bytes. REV is resolved once, by
// Resolve (an ambiguous name is an *AmbiguousError), and git is then
// given only object ids. revID is the object REV names.
func ReadRevPath(ctx context.Context, revPath string, max int64) (data []byte, revID string, err error) {
	rev, path, ok := strings.Cut(revPath, ":")
	if !ok || rev == "" || strings.ContainsAny(path, "\n\x00") {
		return nil, "", fmt.Errorf("%s is not REV:PATH", revPath)
	}
	revID, err = Resolve(ctx, rev, "")
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return nil, "", ErrNoSuchFile
	}
	if err != nil {
		return nil, "", err
	}
	out, err := Git(ctx, strings.NewReader(revID+":"+path+"\n"), "cat-file", "--batch-check")
	if err != nil {
		return nil, "", err
	}
	f := strings.Fields(string(out))
	switch {
	case len(f) == 2 && f[1] == "missing":
		return nil, "", ErrNoSuchFile
	case len(f) != 3 || !IsObjectID(f[0]):
		return nil, "", fmt.Errorf("git cat-file --batch-check: unexpected answer %q", strings.TrimSpace(string(out)))
	case f[1] != "blob":
		return nil, "", fmt.Errorf("a %s, not a file", f[1])
	}
	if size, err := strconv.ParseInt(f[2], 10, 64); err != nil || size > max {
		return nil, "", fmt.Errorf("larger than %d bytes", max)
	}
	data, err = Git(ctx, nil, "cat-file", "blob", f[0])
	return data, revID, err
}
