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
	files, _ := filepath.Glob("../../testdata/realworld/commits/*.commit")
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
	raw, err := os.ReadFile("../../testdata/realworld/tags/v0.17.0.tag")
	if err != nil {
		t.Fatal(err)
	}
	oid, _ := os.ReadFile("../../testdata/realworld/tags/v0.17.0.oid")
	payload, sig, err := Split("tag", raw)
	if err != nil {
		t.Fatal(err)
	}
	obj, typ, err := WithSignature(payload, sig)
	if err != nil || typ != "tag" || ID(typ, obj) != strings.TrimSpace(string(oid)) {
		t.Errorf("tag rebuilt to %s (%v), want %s", ID(typ, obj), err, oid)
	}
}

// cm is a committer header git can read.
const cm = "committer C <c@example.test> 1 +0000\n"

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
	p, s, err := Split("commit", []byte("tree x\n"+cm+"gpgsig A\n B\n\ngpgsig in message\n"))
	if err != nil || string(s) != "A\nB\n" || string(p) != "tree x\n"+cm+"\ngpgsig in message\n" {
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
	if _, _, err := Split("commit", []byte("tree a\n"+cm+"gpgsig S\n\ntree b\ntree c\n")); err != nil {
		t.Errorf("tree lines in the message: %v", err)
	}
}

func FuzzSplitTag(f *testing.F) {
	f.Add([]byte("object a\ntype commit\ntag v1\ntagger x\n\nmsg\n-----BEGIN SIGNED MESSAGE-----\nAA==\n-----END SIGNED MESSAGE-----\n"))
	f.Add([]byte("object a\n\n-----BEGIN FOO-----\n-----BEGIN PGP SIGNATURE-----x\nAA==\n-----BEGIN SSH SIGNATURE-----"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		payload, sig, err := Split("tag", raw)
		if err != nil {
			return
		}
		// Property: a tag splits into payload + signature with nothing lost,
		// the signature starts with an armor git knows, at the start of a
		// line, and no later line starts with one.
		if !bytes.Equal(append(append([]byte{}, payload...), sig...), raw) || !startsWithArmor(sig) {
			t.Fatal("tag split is not payload + signature")
		}
		if len(payload) > 0 && payload[len(payload)-1] != '\n' {
			t.Fatal("signature does not start a line")
		}
		for i, l := range bytes.SplitAfter(sig, []byte("\n")) {
			if i > 0 && startsWithArmor(l) {
				t.Fatal("signature is not the last armored block")
			}
		}
	})
}

func FuzzSplitCommit(f *testing.F) {
	f.Add([]byte("tree x\ngpgsig A\n B\n\nmsg\n"))
	f.Add([]byte("tree x\n" + cm + "gpgsig A\n B\n\nmsg\n"))
	f.Add([]byte("tree x\nparent y\ngpgsig-sha256 A\n\nmsg"))
	f.Add([]byte("tree x\ngpgsig-sha256 A\n B\ngpgsig C\n D\ngpgsigx E\n F\n\nmsg"))
	f.Add([]byte("\ngpgsig A\n\nmsg"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		payload, sig, err := Split("commit", raw)
		if err != nil {
			return
		}
		// Property: splitting loses nothing but the header's framing, and
		// a SHA-1 repository's signature never comes from another header.
		if len(payload)+len(sig) > len(raw) {
			t.Fatalf("split grew the object: %d+%d > %d", len(payload), len(sig), len(raw))
		}
		if !bytes.HasPrefix(raw, []byte("gpgsig ")) && !bytes.Contains(raw, []byte("\ngpgsig ")) {
			t.Fatal("found a signature without a gpgsig header")
		}
		if bytes.HasPrefix(payload, []byte("gpgsig")) || bytes.Contains(headers(payload), []byte("\ngpgsig")) {
			t.Fatal("a gpgsig header stayed in the payload")
		}
	})
}

func startsWithArmor(b []byte) bool {
	for _, a := range armors {
		if bytes.HasPrefix(b, a) {
			return true
		}
	}
	return false
}

// headers returns the header block of a commit: up to its first empty line.
func headers(obj []byte) []byte {
	if bytes.HasPrefix(obj, []byte("\n")) {
		return nil
	}
	if i := bytes.Index(obj, []byte("\n\n")); i >= 0 {
		return obj[:i+1]
	}
	return obj
}

// TestSplitForCommitHeaders checks that a commit's signature is read only
// from the header of the repository's object format, and that every other
// header starting "gpgsig" is left out of the payload with its
// continuation lines, as git's parse_buffer_signed_by_header does.
func TestSplitForCommitHeaders(t *testing.T) {
	tests := []struct {
		name, format, raw string
		payload, sig      string // payload "" = not signed (an error)
	}{
		{"sha1 header in sha1", SHA1,
			"tree x\n" + cm + "gpgsig A\n B\n\nmsg\n",
			"tree x\n" + cm + "\nmsg\n", "A\nB\n"},
		{"sha256 header in sha1", SHA1,
			"tree x\n" + cm + "gpgsig-sha256 A\n B\n\nmsg\n", "", ""},
		{"sha1 header in sha256", SHA256,
			"tree x\n" + cm + "gpgsig A\n B\n\nmsg\n", "", ""},
		{"sha256 header in sha256", SHA256,
			"tree x\n" + cm + "author y\ngpgsig-sha256 A\n B\n\nmsg\n",
			"tree x\n" + cm + "author y\n\nmsg\n", "A\nB\n"},
		// git verifies the same payload wherever the signature sits, so
		// it must sit where git writes it: after the other headers.
		{"signature before another header", SHA1,
			"tree x\n" + cm + "gpgsig A\n B\nauthor y\n\nmsg\n",
			"refuse", "gpgsig signature is not its last header"},
		// git leaves any other header starting "gpgsig" out of the
		// payload, so nothing covers it: such commits are refused.
		{"both headers in sha1", SHA1,
			"tree x\n" + cm + "gpgsig-sha256 C\n D\ngpgsig A\n B\nauthor y\n\nmsg\n",
			"refuse", "gpgsig-sha256 header besides its gpgsig signature"},
		{"both headers in sha256", SHA256,
			"tree x\n" + cm + "gpgsig-sha256 C\n D\ngpgsig A\n B\nauthor y\n\nmsg\n",
			"refuse", "gpgsig header besides its gpgsig-sha256 signature"},
		{"gpgsigx beside the signature", SHA1,
			"tree x\n" + cm + "gpgsigx junk\n more\ngpgsig A\nauthor y\n\nmsg\n",
			"refuse", "gpgsigx header besides"},
		{"bare gpgsig beside the signature", SHA1,
			"tree x\n" + cm + "gpgsig A\ngpgsig\n\nmsg\n",
			"refuse", "gpgsig header besides"},
		{"gpgsigx alone is no signature", SHA1,
			"tree x\n" + cm + "gpgsigx A\n B\n\nmsg\n", "", ""},
		{"gpgsig without a space is no signature", SHA1,
			"tree x\n" + cm + "gpgsig\n B\n\nmsg\n", "", ""},
		{"continuation of an ordinary header stays", SHA1,
			"tree x\n" + cm + "mergetag a\n b\ngpgsig A\n\nmsg\n",
			"tree x\n" + cm + "mergetag a\n b\n\nmsg\n", "A\n"},
		{"headers end at the first empty line", SHA1,
			"\ngpgsig A\n\nmsg\n", "", ""},
		{"no message", SHA1,
			"tree x\n" + cm + "gpgsig A",
			"tree x\n" + cm, "A"},
		{"gpgsig in the message", SHA1,
			"tree x\n" + cm + "\ngpgsig A\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, s, err := SplitFor("commit", []byte(tt.raw), tt.format)
			if tt.payload == "" {
				if err == nil || err.Error() != "commit is not signed" {
					t.Fatalf("got %q %q %v, want not signed", p, s, err)
				}
				return
			}
			if tt.payload == "refuse" {
				if err == nil || !strings.Contains(err.Error(), tt.sig) {
					t.Fatalf("got %q %q %v, want an error containing %q", p, s, err, tt.sig)
				}
				return
			}
			if err != nil || string(p) != tt.payload || string(s) != tt.sig {
				t.Fatalf("got %q %q %v, want %q %q", p, s, err, tt.payload, tt.sig)
			}
		})
	}
}

func TestSplitForRejects(t *testing.T) {
	if _, _, err := SplitFor("commit", []byte("tree x\ngpgsig A\n\n"), "sha512"); err == nil || !strings.Contains(err.Error(), "unknown object format") {
		t.Errorf("unknown format: %v", err)
	}
	// Two headers of the repository's format are refused, whatever the format.
	for _, f := range []string{SHA1, SHA256} {
		h := sigHeaders[f]
		raw := "tree x\n" + h + " A\n" + h + " B\n\nmsg\n"
		if _, _, err := SplitFor("commit", []byte(raw), f); err == nil || !strings.Contains(err.Error(), "more than one signature") {
			t.Errorf("%s: two %s headers: %v", f, h, err)
		}
	}
	if _, _, err := SplitFor("blob", []byte("x"), SHA1); err == nil {
		t.Error("split a blob")
	}
}

// TestSplitTagArmor checks that a tag's signature starts at the last line
// that begins with an armor git knows, and runs to the end.
func TestSplitTagArmor(t *testing.T) {
	const head = "object a\ntype commit\ntag v1\ntagger T <t@example.test> 1 +0000\n\nmsg\n"
	const cms = "-----BEGIN SIGNED MESSAGE-----\nAA==\n-----END SIGNED MESSAGE-----\n"
	tests := []struct {
		name, raw string
		at        int    // offset of the signature, if err is ""
		err       string // the error wanted
	}{
		{"cms", head + cms, len(head), ""},
		{"pgp signature", head + "-----BEGIN PGP SIGNATURE-----\nx\n", len(head), ""},
		{"pgp message", head + "-----BEGIN PGP MESSAGE-----\nx\n", len(head), ""},
		{"ssh", head + "-----BEGIN SSH SIGNATURE-----\nx\n", len(head), ""},
		{"armor as a prefix", head + "-----BEGIN SIGNED MESSAGE-----junk\nx\n", len(head), ""},
		{"unknown armor only", head + "-----BEGIN FOO-----\nx\n", 0, "tag is not signed"},
		{"unknown armor in the message", head + "-----BEGIN FOO-----\n" + cms, len(head) + len("-----BEGIN FOO-----\n"), ""},
		{"text after the signature stays in it", head + cms + "trailing text\n", len(head), ""},
		{"unknown armor after the signature", head + cms + "-----BEGIN FOO-----\n", len(head), ""},
		{"last of two signatures", head + cms + cms, len(head) + len(cms), ""},
		{"indented armor", head + " " + cms, 0, "tag is not signed"},
		{"armor inside a line", head + "see -----BEGIN SIGNED MESSAGE-----\n", 0, "tag is not signed"},
		{"no newline after the armor", head + "-----BEGIN SSH SIGNATURE-----", len(head), ""},
		{"armor at the very start", cms, 0, "tag has no tagger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, s, err := SplitFor("tag", []byte(tt.raw), SHA256)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("got %q %q %v, want %s", p, s, err, tt.err)
				}
				return
			}
			if err != nil || string(p) != tt.raw[:tt.at] || string(s) != tt.raw[tt.at:] {
				t.Fatalf("got %q %q %v, want the signature at %d", p, s, err, tt.at)
			}
		})
	}
}

// TestSplitRequiresSigner checks that objects git would not verify for
// want of a readable committer or tagger are refused.
func TestSplitRequiresSigner(t *testing.T) {
	const sig = "gpgsig A\n"
	const tagSig = "\n-----BEGIN SIGNED MESSAGE-----\n"
	tests := []struct {
		typ, raw string
		ok       bool
	}{
		{"commit", "tree x\n" + cm + sig + "\nmsg\n", true},
		{"commit", "tree x\ncommitter <>\n" + sig + "\nmsg\n", true},
		{"commit", "tree x\nauthor A <a@example.test> 1 +0000\n" + sig + "\nmsg\n", false},
		{"commit", "tree x\ncommitter \n" + sig + "\nmsg\n", false},
		{"commit", "tree x\ncommitter\n" + sig + "\nmsg\n", false},
		{"commit", "tree x\ncommitter C c@example.test 1 +0000\n" + sig + "\nmsg\n", false},
		{"commit", "tree x\ncommitter C > <c@example.test\n" + sig + "\nmsg\n", false},
		{"commit", "tree x\n" + sig + "\n" + cm, false},
		{"commit", "tree x\x00\n" + cm + sig + "\nmsg\n", false},
		{"commit", "tree x\ncommitter C <c\x00@example.test>\n" + sig + "\nmsg\n", false},
		{"tag", "object x\ntagger T <t@example.test> 1 +0000\n" + tagSig, true},
		{"tag", "object x\ncommitter T <t@example.test> 1 +0000\n" + tagSig, false},
		{"tag", "object x\n\ntagger T <t@example.test> 1 +0000\n" + tagSig, false},
	}
	for _, tt := range tests {
		_, _, err := Split(tt.typ, []byte(tt.raw))
		if tt.ok && err != nil {
			t.Errorf("%q: %v", tt.raw, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), "git would not verify it")) {
			t.Errorf("%q: %v, want refused for its signer", tt.raw, err)
		}
	}
}
