// Command lintfiles checks the files git tracks (part of `make lint`): none
// is a compiled binary (an ELF, Mach-O or PE executable or object, Go test
// binaries included, a WebAssembly module, or an ar archive such as a Go
// package archive), and none outside a testdata/ directory is over 1 MiB.
// Build outputs belong in bin/, build/ or dist/ (git-ignored), test data in
// testdata/.
//
//	go run ./hack/lintfiles
//
// It reads the working tree's copy of each file in the index of the
// repository it runs in; symbolic links, submodules and files deleted but
// not yet committed are skipped. Every offender is listed on stderr and
// the exit status is 1; 0 when there is none, 2 when git fails.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// MaxBytes is the largest a tracked file outside testdata/ may be.
const MaxBytes = 1 << 20

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "ls-files", "-z", "--stage", "--").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lintfiles: git ls-files: %v\n", err)
		os.Exit(2)
	}
	problems := 0
	for _, e := range parseStage(out) {
		for _, p := range check(e) {
			fmt.Fprintf(os.Stderr, "lintfiles: %s\n", p)
			problems++
		}
	}
	if problems > 0 {
		fmt.Fprintln(os.Stderr, "lintfiles: remove these from git (git rm --cached -- FILE), or move test data under testdata/")
		os.Exit(1)
	}
}

// entry is one line of `git ls-files --stage`.
type entry struct {
	mode string // "100644", "100755", "120000" (symlink), "160000" (submodule)
	path string
}

// parseStage splits the NUL-terminated output of `git ls-files -z --stage`
// ("MODE OBJECT STAGE\tPATH").
func parseStage(out []byte) []entry {
	var es []entry
	for _, rec := range bytes.Split(out, []byte{0}) {
		meta, path, ok := bytes.Cut(rec, []byte{'\t'})
		if !ok {
			continue
		}
		mode, _, _ := bytes.Cut(meta, []byte{' '})
		es = append(es, entry{mode: string(mode), path: string(path)})
	}
	return es
}

// check returns what is wrong with the working tree's copy of e.
func check(e entry) []string {
	if e.mode != "100644" && e.mode != "100755" {
		return nil
	}
	f, err := os.Open(e.path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return []string{err.Error()}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	if k := binaryKind(f); k != "" {
		problems = append(problems, fmt.Sprintf("%s is %s; build outputs are not committed", e.path, k))
	}
	if fi.Size() > MaxBytes && !inTestdata(e.path) {
		problems = append(problems, fmt.Sprintf("%s is %d bytes, over 1 MiB; large test data goes under a testdata/ directory", e.path, fi.Size()))
	}
	return problems
}

// inTestdata reports whether path (slash-separated, relative) is inside a
// directory named testdata.
func inTestdata(path string) bool {
	return strings.HasPrefix(path, "testdata/") || strings.Contains(path, "/testdata/")
}

// binaryKind names the kind of compiled binary r holds, by its first
// bytes, or returns "" if it is none of them.
func binaryKind(r io.ReaderAt) string {
	head := make([]byte, 8)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	has := func(magic ...byte) bool { return bytes.HasPrefix(head, magic) }
	switch {
	case has(0x7f, 'E', 'L', 'F'):
		return "an ELF binary"
	case has(0xfe, 0xed, 0xfa, 0xce), has(0xfe, 0xed, 0xfa, 0xcf), has(0xce, 0xfa, 0xed, 0xfe), has(0xcf, 0xfa, 0xed, 0xfe):
		return "a Mach-O binary"
	case has(0xca, 0xfe, 0xba, 0xbe):
		return "a Mach-O universal binary (or a Java class file)"
	case has(0, 'a', 's', 'm'):
		return "a WebAssembly module"
	case has([]byte("!<arch>\n")...):
		return "an ar archive (a Go package archive or a static library)"
	case has('M', 'Z') && isPE(r):
		return "a PE (Windows) binary"
	}
	return ""
}

// isPE reports whether r, which starts with "MZ", has the PE signature
// where the DOS header's offset at 0x3c points.
func isPE(r io.ReaderAt) bool {
	var off [4]byte
	if _, err := r.ReadAt(off[:], 0x3c); err != nil {
		return false
	}
	var sig [4]byte
	if _, err := r.ReadAt(sig[:], int64(binary.LittleEndian.Uint32(off[:]))); err != nil {
		return false
	}
	return sig == [4]byte{'P', 'E', 0, 0}
}
