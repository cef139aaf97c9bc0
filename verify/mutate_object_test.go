package verify

// Line-level mutations of a whole signed object, as git stores it: what
// VerifyObject, and so `gitsign verify`, must refuse (see
// mutate_test.go).

import (
	"bytes"
	"fmt"
)

// objectLines are lines the sweep inserts into an object at every
// position: the other signature headers git leaves out of what it
// verifies, and an ordinary header and message line.
var objectLines = []string{
	"gpgsig-sha256 -----BEGIN SIGNED MESSAGE-----",
	"gpgsig-sha256 x",
	"gpgsigx anything",
	"gpgsig",
	"gpgsig x",
	" continuation",
	"encoding UTF-8",
	"",
}

// objectMutations returns raw with each line dropped, repeated, and with
// each of objectLines inserted before it (and at the end), and with each
// header moved.
func objectMutations(raw []byte) []objectMutation {
	lines := bytes.SplitAfter(raw, []byte("\n"))
	var out []objectMutation
	with := func(name string, f func(i int) [][]byte, i int) {
		out = append(out, objectMutation{name: "object: " + name, raw: bytes.Join(f(i), nil)})
	}
	for i := range lines {
		with(fmt.Sprintf("line %d dropped", i+1), func(i int) [][]byte { return splice(lines, i, 1) }, i)
		with(fmt.Sprintf("line %d repeated", i+1), func(i int) [][]byte { return splice(lines, i, 0, lines[i]) }, i)
	}
	for i := range len(lines) + 1 {
		for _, l := range objectLines {
			with(fmt.Sprintf("%q inserted at line %d", l, i+1), func(i int) [][]byte { return splice(lines, i, 0, []byte(l+"\n")) }, i)
		}
	}
	// Each header, with its continuation lines, moved to every other
	// place in the header block.
	blocks, rest := headerBlocks(lines)
	for b := range blocks {
		for to := range blocks {
			if to == b {
				continue
			}
			moved := append([][][]byte(nil), blocks...)
			block := moved[b]
			moved = append(moved[:b:b], moved[b+1:]...)
			moved = append(moved[:to:to], append([][][]byte{block}, moved[to:]...)...)
			var joined [][]byte
			for _, m := range moved {
				joined = append(joined, m...)
			}
			out = append(out, objectMutation{
				name: fmt.Sprintf("object: header %d moved to place %d", b+1, to+1),
				raw:  bytes.Join(append(joined, rest...), nil),
			})
		}
	}
	return out
}

// headerBlocks splits an object's lines into its headers, each with its
// continuation lines, and the rest (from the empty line on).
func headerBlocks(lines [][]byte) (blocks [][][]byte, rest [][]byte) {
	for i, l := range lines {
		switch {
		case len(l) == 0 || l[0] == '\n':
			return blocks, lines[i:]
		case l[0] == ' ' && len(blocks) > 0:
			blocks[len(blocks)-1] = append(blocks[len(blocks)-1], l)
		default:
			blocks = append(blocks, [][]byte{l})
		}
	}
	return blocks, nil
}

// objectMutation is one changed object.
type objectMutation struct {
	name string
	raw  []byte
}

// splice returns a copy of lines with n lines at i replaced by insert.
func splice(lines [][]byte, i, n int, insert ...[]byte) [][]byte {
	out := append([][]byte(nil), lines[:i]...)
	out = append(out, insert...)
	return append(out, lines[min(i+n, len(lines)):]...)
}
