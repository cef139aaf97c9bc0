package gitrepo

import (
	"context"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// MaxObjectSize bounds a commit or tag object read from git: objects that
// large are not commits or tags anyone writes, and a pushed one is not
// read into memory whole.
const MaxObjectSize = 64 << 20

// Object is a git object, byte for byte as git stores it.
type Object struct {
	ID, Type string
	Raw      []byte
	// Format is the repository's object format, gitobj.SHA1 or
	// gitobj.SHA256: it decides which header holds a commit's signature.
	Format string
}

// Split separates o into the payload that was signed and the signature,
// as git does in o's repository.
func (o Object) Split() (payload, sig []byte, err error) {
	return gitobj.SplitFor(o.Type, o.Raw, o.Format)
}

// IDSource streams object ids to emit, in the order they are to be
// reported, and stops at the first error emit returns.
type IDSource func(ctx context.Context, emit func(id string) error) error

// IDList is the IDSource of ids already known.
func IDList(ids []string) IDSource {
	return func(_ context.Context, emit func(string) error) error {
		for _, id := range ids {
			if err := emit(id); err != nil {
				return err
			}
		}
		return nil
	}
}

// ReadObjects reads the raw objects, exactly as git stores them, through
// one `git cat-file --batch`. It collects what StreamObjects streams.
func ReadObjects(ctx context.Context, ids []string) ([]Object, error) {
	var objects []Object
	if err := StreamObjects(ctx, IDList(ids), func(o Object) error { objects = append(objects, o); return nil }); err != nil {
		return nil, err
	}
	return objects, nil
}
