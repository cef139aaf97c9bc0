package inspect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// FuzzSignature feeds arbitrary signatures to Signature, armored or (with
// der set) as DER the target armors first, so that mutations reach the
// CMS, the certificate, the log entry and the timestamp token. Property:
// it never panics; it returns exactly one of a description and an error;
// errors are one line; a description names an identity of a known type, a
// mode that matches whether a log entry is there, and encodes as JSON; and
// the answer is the same twice.
func FuzzSignature(f *testing.F) {
	for _, set := range []struct{ glob, typ string }{
		{"commits/*.commit", "commit"},
		{"online/*.commit", "commit"},
		{"tags/*.tag", "tag"},
	} {
		for _, sig := range realSigs(f, set.glob, set.typ) {
			f.Add(sig, false)
			der, err := cms.Dearmor(sig)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(der, true)
		}
	}
	// Signatures of the local stack (internal/cli/testdata/show): a
	// workflow's certificate with every CI claim, Rekor v2, timestamps.
	for _, name := range []string{"workflow.commit", "rekor-v2.commit"} {
		raw, err := os.ReadFile(filepath.Join("..", "cli", "testdata", "show", name))
		if err != nil {
			f.Fatal(err)
		}
		_, sig, err := gitobj.Split("commit", raw)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		der, err := cms.Dearmor(sig)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sig, false)
		f.Add(der, true)
	}
	f.Add([]byte{}, false)
	f.Add([]byte("-----BEGIN SIGNED MESSAGE-----\n-----END SIGNED MESSAGE-----\n"), false)
	f.Add(append(bytes.Repeat([]byte{0x30, 0x80}, 512), make([]byte, 1024)...), true)
	f.Fuzz(func(t *testing.T, sig []byte, der bool) {
		if der {
			sig = cms.Armor(sig)
		}
		d, err := Signature(sig)
		again, err2 := Signature(sig)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("two answers: %v, then %v", err, err2)
		}
		if err != nil {
			if d != nil {
				t.Fatalf("a description and an error: %+v, %v", d, err)
			}
			if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error not one line: %q", msg)
			}
			return
		}
		if d == nil {
			t.Fatal("no description and no error")
		}
		switch d.IdentityType {
		case Email, URI, Other:
		default:
			t.Fatalf("identity type %q", d.IdentityType)
		}
		if d.Identity == "" {
			t.Fatal("empty identity")
		}
		if (d.Mode == Offline) != (d.Log != nil) || d.Mode != Offline && d.Mode != Online {
			t.Fatalf("mode %q with log %+v", d.Mode, d.Log)
		}
		a, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("JSON: %v", err)
		}
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Fatalf("two descriptions:\n%s\n%s", a, b)
		}
		if !json.Valid(a) {
			t.Fatalf("invalid JSON: %s", a)
		}
	})
}
