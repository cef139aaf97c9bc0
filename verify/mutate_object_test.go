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
// each of objectLines inserted before it (and at the end).
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
	return out
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
