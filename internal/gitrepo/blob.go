package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
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
	data, err = ReadAt(ctx, revID, path, max)
	return data, revID, err
}

// ReadAt reads the file at path in the revision whose object id is id, no
// larger than max bytes: ErrNoSuchFile when there is none.
func ReadAt(ctx context.Context, id, path string, max int64) ([]byte, error) {
	if !IsObjectID(id) || strings.ContainsAny(path, "\n\x00") {
		return nil, fmt.Errorf("%s:%s is not an object id and a path", id, path)
	}
	typ, data, err := readObject(ctx, id+":"+path, max)
	switch {
	case errors.Is(err, errMissing):
		return nil, ErrNoSuchFile
	case err != nil:
		return nil, err
	case typ != "blob":
		return nil, fmt.Errorf("a %s, not a file", typ)
	}
	return data, nil
}

// ReadBlobs reads the blobs whose object ids are ids through one
// `git cat-file --batch`, the i-th no larger than max[i] bytes.
func ReadBlobs(ctx context.Context, ids []string, max []int64) ([][]byte, error) {
	for _, id := range ids {
		if !IsObjectID(id) {
			return nil, fmt.Errorf("%q is not an object id", id)
		}
	}
	objs, err := readObjects(ctx, ids, max)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(objs))
	for i, o := range objs {
		if o.typ != "blob" {
			return nil, fmt.Errorf("%s is a %s, not a file", ids[i], o.typ)
		}
		out[i] = o.data
	}
	return out, nil
}

// ReadHeadPath reads the file at path in the commit HEAD names, and that
// commit's id, through one git cat-file (HEAD is git's first rule: no ref
// can make it ambiguous). ErrNoSuchFile when HEAD's branch has no commit
// or the commit no such file.
func ReadHeadPath(ctx context.Context, path string, max int64) (data []byte, headID string, err error) {
	if strings.ContainsAny(path, "\n\x00") {
		return nil, "", fmt.Errorf("HEAD:%s is not REV:PATH", path)
	}
	objs, err := readObjects(ctx, []string{"HEAD", "HEAD:" + path}, []int64{MaxObjectSize, max})
	switch {
	case errors.Is(err, errMissing):
		return nil, "", ErrNoSuchFile
	case err != nil:
		return nil, "", err
	case objs[0].typ != "commit":
		return nil, "", fmt.Errorf("HEAD is a %s, not a commit", objs[0].typ)
	case objs[1].typ != "blob":
		return nil, "", fmt.Errorf("a %s, not a file", objs[1].typ)
	}
	return objs[1].data, objs[0].id, nil
}

// errMissing: git cat-file has no object of that name.
var errMissing = errors.New("missing")

// readObject reads the object name names (git's object name syntax, e.g.
// ID:PATH) through one `git cat-file --batch`, at most max bytes of it.
func readObject(ctx context.Context, name string, max int64) (typ string, data []byte, err error) {
	objs, err := readObjects(ctx, []string{name}, []int64{max})
	if err != nil {
		return "", nil, err
	}
	return objs[0].typ, objs[0].data, nil
}

// readObjects reads the objects names name through one `git cat-file
// --batch`, at most max[i] bytes of the i-th: git is stopped, before it
// sends them, when there are more. errMissing when one is missing.
func readObjects(ctx context.Context, names []string, max []int64) ([]batchEntry, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(strings.Join(names, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running git cat-file: %w", err)
	}
	defer cmd.Wait()
	defer cancel() // before Wait: git may be blocked writing what is not read
	r := bufio.NewReader(stdout)
	var objs []batchEntry
	for i := range names {
		e, header, err := readBatchEntry(r, max[i])
		switch {
		case errors.Is(err, errBadHeader) && strings.HasSuffix(header, " missing"):
			return nil, errMissing
		case errors.Is(err, errBadHeader), errors.Is(err, errNoNewline):
			return nil, fmt.Errorf("git cat-file --batch: unexpected answer %q", header)
		case errors.Is(err, errTooLarge):
			return nil, fmt.Errorf("larger than %d bytes", max[i])
		case err != nil:
			return nil, fmt.Errorf("git cat-file: %s", orErr(Message(stderr.Bytes()), err))
		}
		objs = append(objs, e)
	}
	return objs, nil
}

func orErr(msg string, err error) string {
	if msg != "" {
		return msg
	}
	return err.Error()
}
