package gitobj

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSplitJoinRealObjects splits real signed objects and rebuilds them:
// the rebuilt bytes must hash to the object's id, which is its file name.
func TestSplitJoinRealObjects(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/testdata/realworld/commits/*.commit")
	if len(files) == 0 {
		t.Fatal("no real-world vectors found")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(filepath.Base(f), ".commit")
		if got := ID("commit", raw); got != want {
			t.Fatalf("%s: raw object hashes to %s", want, got)
		}
		payload, sig, err := Split("commit", raw)
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		if !bytes.HasPrefix(sig, []byte("-----BEGIN SIGNED MESSAGE-----\n")) || bytes.Contains(payload, []byte("gpgsig")) {
			t.Fatalf("%s: bad split", want)
		}
		obj, typ, err := WithSignature(payload, sig)
		if err != nil || typ != "commit" {
			t.Fatalf("%s: %v", want, err)
		}
		if got := ID(typ, obj); got != want {
			t.Errorf("%s: rebuilt object hashes to %s", want, got)
		}
	}
	raw, err := os.ReadFile("../../../shared/testdata/realworld/tags/v0.17.0.tag")
	if err != nil {
		t.Fatal(err)
	}
	oid, _ := os.ReadFile("../../../shared/testdata/realworld/tags/v0.17.0.oid")
	payload, sig, err := Split("tag", raw)
	if err != nil {
		t.Fatal(err)
	}
	obj, typ, err := WithSignature(payload, sig)
	if err != nil || typ != "tag" || ID(typ, obj) != strings.TrimSpace(string(oid)) {
		t.Errorf("tag rebuilt to %s (%v), want %s", ID(typ, obj), err, oid)
	}
}

func TestSplitRejects(t *testing.T) {
	two := "tree x\ngpgsig a\n b\ngpgsig c\n\nmsg\n"
	if _, _, err := Split("commit", []byte(two)); err == nil {
		t.Error("accepted two signature headers")
	}
	if _, _, err := Split("commit", []byte("tree x\n\nmsg\n")); err == nil {
		t.Error("accepted an unsigned commit")
	}
	if _, _, err := Split("tag", []byte("object x\n\nmsg\n")); err == nil {
		t.Error("accepted an unsigned tag")
	}
	// A gpgsig line in the message is not a header.
	p, s, err := Split("commit", []byte("tree x\ngpgsig A\n B\n\ngpgsig in message\n"))
	if err != nil || string(s) != "A\nB\n" || string(p) != "tree x\n\ngpgsig in message\n" {
		t.Errorf("got %q %q %v", p, s, err)
	}
}

func TestSplitRejectsDuplicateHeaders(t *testing.T) {
	for typ, raw := range map[string]string{
		"commit": "tree a\ntree b\nauthor x\ncommitter y\ngpgsig S\n\nmsg\n",
		"tag":    "object a\ntype commit\ntag v1\ntag v2\ntagger x\n\nmsg\n-----BEGIN SIGNED MESSAGE-----\n",
	} {
		if _, _, err := Split(typ, []byte(raw)); err == nil || !strings.Contains(err.Error(), "more than one") {
			t.Errorf("%s with a repeated header: %v", typ, err)
		}
	}
	// Repetition in the message is not a header.
	if _, _, err := Split("commit", []byte("tree a\ngpgsig S\n\ntree b\ntree c\n")); err != nil {
		t.Errorf("tree lines in the message: %v", err)
	}
}

func FuzzSplitTag(f *testing.F) {
	f.Add([]byte("object a\ntype commit\ntag v1\ntagger x\n\nmsg\n-----BEGIN SIGNED MESSAGE-----\nAA==\n-----END SIGNED MESSAGE-----\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		payload, sig, err := Split("tag", raw)
		if err != nil {
			return
		}
		// Property: a tag splits into payload + signature with nothing lost,
		// and the signature starts at a line beginning "-----BEGIN ".
		if !bytes.Equal(append(append([]byte{}, payload...), sig...), raw) || !bytes.HasPrefix(sig, []byte("-----BEGIN ")) {
			t.Fatal("tag split is not payload + signature")
		}
	})
}

func FuzzSplitCommit(f *testing.F) {
	f.Add([]byte("tree x\ngpgsig A\n B\n\nmsg\n"))
	f.Add([]byte("tree x\nparent y\ngpgsig-sha256 A\n\nmsg"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		payload, sig, err := Split("commit", raw)
		if err != nil {
			return
		}
		// Property: splitting loses nothing but the header's framing.
		if len(payload)+len(sig) > len(raw) {
			t.Fatalf("split grew the object: %d+%d > %d", len(payload), len(sig), len(raw))
		}
	})
}
