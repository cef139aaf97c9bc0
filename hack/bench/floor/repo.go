package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// readSignatures returns the signature of every commit that
// `git rev-list REVS...` names in repo, read with one `git cat-file
// --batch`. A commit without a signature is an error.
func readSignatures(repo string, revs []string) ([][]byte, error) {
	args := append([]string{"-C", repo, "rev-list"}, revs...)
	list, err := exec.Command("git", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("git rev-list: %w", err)
	}
	ids := strings.Fields(string(list))
	if len(ids) == 0 {
		return nil, fmt.Errorf("git rev-list %s names no commits", strings.Join(revs, " "))
	}
	cmd := exec.Command("git", "-C", repo, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	return splitBatch(out, len(ids))
}

// splitBatch reads want commits from `git cat-file --batch` output and
// returns their signatures.
func splitBatch(out []byte, want int) ([][]byte, error) {
	r := bufio.NewReader(bytes.NewReader(out))
	var sigs [][]byte
	for range want {
		header, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		f := strings.Fields(header)
		if len(f) != 3 || f[1] != "commit" {
			return nil, fmt.Errorf("git cat-file: unexpected %q", strings.TrimSpace(header))
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		raw := make([]byte, size+1) // the object and its newline
		if _, err := io.ReadFull(r, raw); err != nil {
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		_, sig, err := gitobj.Split("commit", raw[:size])
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", f[0], err)
		}
		if len(sig) == 0 {
			return nil, fmt.Errorf("commit %s is not signed", f[0])
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}
