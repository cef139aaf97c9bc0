package attest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/gitsign-dev/gitsign/internal/gitrepo"
)

// The refs attestations live on, by the kind of object attested.
const (
	CommitsRef = "refs/attestations/commits"
	TreesRef   = "refs/attestations/trees"
)

// RefFor returns the attestations ref and the statement digest name for
// an object type, "commit" or "tree".
func RefFor(objectType string) (ref, digestName string, err error) {
	switch objectType {
	case "commit":
		return CommitsRef, DigestCommit, nil
	case "tree":
		return TreesRef, DigestTree, nil
	}
	return "", "", fmt.Errorf("object type %q: want commit or tree", objectType)
}

// maxAttempts bounds how often Add rebuilds its commit on a ref that
// another writer moved meanwhile.
const maxAttempts = 20

// Add stores file under name and sig under name+".sig" in the folder id on
// ref, as a new commit ("Gitsign attest NAME") whose parent is the ref's
// tip; every other entry is kept, and a file of the same name in that
// folder is replaced, as the reference does. The ref is moved only from
// the tip the commit was built on; if another writer moved it first, Add
// builds again on the new tip (up to maxAttempts times), so concurrent
// attestations are all kept. The commit is never signed: it is a
// container, and each .sig in it is signed. It returns the commit's id.
func Add(ctx context.Context, ref, id, name string, file, sig []byte) (string, error) {
	if !gitrepo.IsObjectID(id) {
		return "", fmt.Errorf("attest: %q is not an object id", id)
	}
	if err := CheckName(name); err != nil {
		return "", err
	}
	fileID, err := writeBlob(ctx, file)
	if err != nil {
		return "", err
	}
	sigID, err := writeBlob(ctx, sig)
	if err != nil {
		return "", err
	}
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			pause := time.Duration(5+rand.IntN(20*attempt)) * time.Millisecond
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(pause):
			}
		}
		tip, err := Tip(ctx, ref)
		if err != nil {
			return "", err
		}
		commit, err := build(ctx, tip, id, name, fileID, sigID)
		if err != nil {
			return "", err
		}
		old := tip
		if old == "" {
			old = strings.Repeat("0", len(commit))
		}
		if _, err := gitrepo.Git(ctx, nil, "update-ref", "-m", "gitsign attest "+name, "--end-of-options", ref, commit, old); err != nil {
			lastErr = err // moved by another writer, or locked by one: build again
			continue
		}
		return commit, nil
	}
	return "", fmt.Errorf("attest: %s kept moving; gave up after %d attempts: %w", ref, maxAttempts, lastErr)
}

// CheckName refuses a file name git cannot hold in a tree, or that would
// not be one attestation in the object's folder (a name ending in .sig).
func CheckName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || strings.HasSuffix(name, ".sig") || name == ".git" {
		return fmt.Errorf("attest: %q cannot name an attestation file", name)
	}
	return nil
}

// Tip returns the commit ref points at, or "" when it does not exist.
func Tip(ctx context.Context, ref string) (string, error) {
	out, err := gitrepo.Git(ctx, nil, "for-each-ref", "--format=%(objectname)", "--end-of-options", ref)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// build writes the tree and commit that add the two files to folder id
// on top of tip ("" for none), and returns the commit's id.
func build(ctx context.Context, tip, id, name, fileID, sigID string) (string, error) {
	var top, folder []treeEntry
	var err error
	if tip != "" {
		if top, err = lsTree(ctx, tip+"^{tree}"); err != nil {
			return "", err
		}
		for _, e := range top {
			if e.name == id && e.typ == "tree" {
				if folder, err = lsTree(ctx, e.id); err != nil {
					return "", err
				}
			}
		}
	}
	folder = replace(folder, treeEntry{"100644", "blob", fileID, name}, treeEntry{"100644", "blob", sigID, name + ".sig"})
	folderID, err := mkTree(ctx, folder)
	if err != nil {
		return "", err
	}
	treeID, err := mkTree(ctx, replace(top, treeEntry{"040000", "tree", folderID, id}))
	if err != nil {
		return "", err
	}
	args := []string{"commit-tree", "--no-gpg-sign", "-m", "Gitsign attest " + name}
	if tip != "" {
		args = append(args, "-p", tip)
	}
	out, err := gitrepo.Git(ctx, nil, append(args, "--end-of-options", treeID)...)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

type treeEntry struct{ mode, typ, id, name string }

// replace returns entries with each of add in place of the entry of the
// same name, or added.
func replace(entries []treeEntry, add ...treeEntry) []treeEntry {
	out := make([]treeEntry, 0, len(entries)+len(add))
	for _, e := range entries {
		keep := true
		for _, a := range add {
			keep = keep && e.name != a.name
		}
		if keep {
			out = append(out, e)
		}
	}
	return append(out, add...)
}

// lsTree lists the entries of a tree.
func lsTree(ctx context.Context, tree string) ([]treeEntry, error) {
	out, err := gitrepo.Git(ctx, nil, "ls-tree", "-z", "--full-tree", "--end-of-options", tree)
	if err != nil {
		return nil, err
	}
	var entries []treeEntry
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, name, ok := bytes.Cut(rec, []byte{'\t'})
		f := strings.Fields(string(meta))
		if !ok || len(f) != 3 {
			return nil, fmt.Errorf("git ls-tree: unexpected line %q", rec)
		}
		entries = append(entries, treeEntry{f[0], f[1], f[2], string(name)})
	}
	return entries, nil
}

// mkTree writes a tree of entries (git sorts them) and returns its id.
func mkTree(ctx context.Context, entries []treeEntry) (string, error) {
	var in bytes.Buffer
	for _, e := range entries {
		fmt.Fprintf(&in, "%s %s %s\t%s\x00", e.mode, e.typ, e.id, e.name)
	}
	out, err := gitrepo.Git(ctx, &in, "mktree", "-z")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func writeBlob(ctx context.Context, b []byte) (string, error) {
	out, err := gitrepo.Git(ctx, bytes.NewReader(b), "hash-object", "-w", "--stdin")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// File is one attestation in an object's folder: NAME and NAME.sig.
type File struct {
	Name string
	// Predicate is the file NAME, nil when the folder has only NAME.sig.
	Predicate []byte
	Sig       []byte
}

// ErrNone: the ref holds no attestation for the object.
var ErrNone = errors.New("no attestations")

// List returns the attestations in folder id on ref, by name. Files are
// read at most MaxSigSize (NAME.sig) or MaxPredicateSize (NAME) bytes; a
// folder of more than maxFiles entries is refused.
func List(ctx context.Context, ref, id string) ([]File, error) {
	if !gitrepo.IsObjectID(id) {
		return nil, fmt.Errorf("attest: %q is not an object id", id)
	}
	tip, err := Tip(ctx, ref)
	if err != nil {
		return nil, err
	}
	if tip == "" {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNone, ref)
	}
	top, err := lsTree(ctx, tip+"^{tree}")
	if err != nil {
		return nil, err
	}
	var folder []treeEntry
	for _, e := range top {
		if e.name == id && e.typ == "tree" {
			if folder, err = lsTree(ctx, e.id); err != nil {
				return nil, err
			}
		}
	}
	if len(folder) > maxFiles {
		return nil, fmt.Errorf("attest: %s holds %d files for %s, more than the %d gitsign reads", ref, len(folder), id, maxFiles)
	}
	byName := map[string]treeEntry{}
	for _, e := range folder {
		byName[e.name] = e
	}
	// One git cat-file reads every NAME.sig and NAME of the folder.
	var files []File
	var ids []string
	var max []int64
	for _, e := range folder {
		name, ok := strings.CutSuffix(e.name, ".sig")
		if !ok || e.typ != "blob" || name == "" {
			continue
		}
		files = append(files, File{Name: name})
		ids, max = append(ids, e.id), append(max, MaxSigSize)
		if p, ok := byName[name]; ok && p.typ == "blob" {
			ids, max = append(ids, p.id), append(max, MaxPredicateSize)
		}
	}
	if len(ids) > 0 {
		blobs, err := gitrepo.ReadBlobs(ctx, ids, max)
		if err != nil {
			return nil, fmt.Errorf("%s on %s: %w", id, ref, err)
		}
		for i := range files {
			files[i].Sig, blobs = blobs[0], blobs[1:]
			if p, ok := byName[files[i].Name]; ok && p.typ == "blob" {
				files[i].Predicate, blobs = blobs[0], blobs[1:]
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w for %s on %s", ErrNone, id, ref)
	}
	return files, nil
}

// maxFiles bounds the files of one object's folder that List reads.
const maxFiles = 64
