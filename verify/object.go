package verify

import (
	"context"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// Object formats, as `git rev-parse --show-object-format` names them: the
// repository's format decides which commit header holds the signature.
const (
	SHA1   = gitobj.SHA1
	SHA256 = gitobj.SHA256
)

// Object is a signed git object exactly as git stores it (what `git
// cat-file commit|tag` prints), never a re-encoded one.
type Object struct {
	Type   string // "commit" or "tag"
	ID     string // the object id, used to look up online-mode signatures
	Raw    []byte
	Format string // SHA1 (also when empty) or SHA256
}

// VerifyObject splits obj into the signed payload and the signature as
// git does, and verifies them with Verify. Before any signature is read it
// refuses, as a bad signature, objects whose bytes are not all covered:
//
//   - a commit with a header starting "gpgsig" other than the signature
//     header of the repository's format (gpgsig, or gpgsig-sha256 in a
//     SHA-256 repository): git leaves such lines out of the payload it
//     verifies, so anyone could add, change or remove them and give the
//     commit a new id while its signature stays good;
//   - more than one signature header, a header git allows once (tree,
//     author, committer; object, type, tag, tagger) given twice, or no
//     committer (tagger) that git can read.
//
// git's own helper path (`git verify-commit`, which runs `gitsign
// --verify`) cannot make the first check: git removes every gpgsig line
// from the payload before it hands it over.
func (v *Verifier) VerifyObject(ctx context.Context, obj Object) (*Result, error) {
	format := obj.Format
	if format == "" {
		format = SHA1
	}
	// SplitFor checks the headers (CheckHeaders) that Verify would check.
	payload, sig, err := gitobj.SplitFor(obj.Type, obj.Raw, format)
	if err != nil {
		return nil, fail(Bad, nil, "%v", err)
	}
	return v.verify(ctx, obj.Type, payload, sig, func() (string, error) { return obj.ID, nil })
}
