package cms

import (
	"bytes"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// realworldDER returns the DER of every signature in testdata/realworld
// whose object splits and dearmors (the commits and the tag).
func realworldDER(f *testing.F) [][]byte {
	var out [][]byte
	for _, dir := range []struct{ glob, typ string }{
		{"commits/*.commit", "commit"},
		{"online/*.commit", "commit"},
		{"tags/*.tag", "tag"},
	} {
		files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "realworld", dir.glob))
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			raw, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			_, sig, err := gitobj.Split(dir.typ, raw)
			if err != nil {
				f.Fatalf("%s: %v", name, err)
			}
			der, err := Dearmor(sig)
			if err != nil {
				f.Fatalf("%s: %v", name, err)
			}
			out = append(out, der)
		}
	}
	if len(out) == 0 {
		f.Fatal("no real-world signatures found")
	}
	return out
}

// FuzzCheckDER checks the strict DER walker checkDER. Property: it never
// panics, and whatever it accepts is exactly one element that both other
// strict readers in reach accept too, element by element down the whole
// tree: encoding/asn1 reads each element as a RawValue with no bytes left
// over, and golang.org/x/crypto/cryptobyte (which has no high tag numbers,
// so only where none is used) reads the same element with the same
// extent. Accepting is deterministic, and an accepted input with one byte
// removed from its end or added after it is refused (one element, nothing
// after it).
func FuzzCheckDER(f *testing.F) {
	for _, der := range realworldDER(f) {
		f.Add(der)
	}
	// A gitsign signature made here, with an unsigned attribute.
	key, cert := fixedIdentity(&testing.T{})
	if s, err := Sign(payload, cert, key, time.Unix(1767225600, 0), true, nil); err == nil {
		if err := s.AddUnsignedAttribute(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 3, 1}, []byte("entry")); err == nil {
			if der, err := s.DER(); err == nil {
				f.Add(der)
			}
		}
	}
	// Small hostile shapes (the large ones are in testdata/fuzz/FuzzCheckDER
	// and in hostileInputs, which TestParseBounded runs).
	for _, b := range [][]byte{
		{},
		{0x30, 0x80, 0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, // nested indefinite BER
		{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00},                         // huge length field
		{0x30, 0x83, 0x00, 0x00, 0x02, 0x05, 0x00},                               // non-minimal length
		{0x30, 0x81, 0x02, 0x05, 0x00},                                           // long form for a short length
		{0x31, 0x06, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01},                         // SET out of order
		{0x9f, 0x1f, 0x00},             // high tag number 31
		{0xbf, 0x81, 0x00, 0x00},       // non-minimal high tag number
		{0x02, 0x02, 0x00, 0x01},       // non-minimal INTEGER
		{0x01, 0x01, 0x01},             // BOOLEAN neither 00 nor FF
		{0x03, 0x02, 0x01, 0x01},       // BIT STRING padding not zero
		{0x06, 0x02, 0x80, 0x01},       // non-minimal OID
		{0x24, 0x03, 0x04, 0x01, 0x00}, // constructed OCTET STRING
		nestedDefinite(200),
		sequenceOf(bytes.Repeat([]byte{0x05, 0x00}, 100)),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := checkDER(b)
		if err != nil {
			if _, ok := err.(*DERError); !ok {
				t.Fatalf("error %T, want *DERError: %v", err, err)
			}
			return
		}
		if again := checkDER(b); again != nil {
			t.Fatalf("accepted, then refused: %v", again)
		}
		if err := checkDER(b[:len(b)-1]); err == nil {
			t.Fatal("accepted with its last byte removed")
		}
		if err := checkDER(append(b[:len(b):len(b)], 0)); err == nil {
			t.Fatal("accepted with a byte after it")
		}
		walkStrict(t, b, 0)
	})
}

// walkStrict reads the run of elements in b with encoding/asn1 and, for
// low tag numbers, cryptobyte, checks that both agree on each element's
// extent and descends into constructed ones.
func walkStrict(t *testing.T, b []byte, depth int) {
	if depth > maxDepth+1 {
		t.Fatalf("checkDER accepted nesting deeper than %d", maxDepth)
	}
	for len(b) > 0 {
		var rv asn1.RawValue
		rest, err := asn1.Unmarshal(b, &rv)
		if err != nil {
			t.Fatalf("checkDER accepted what encoding/asn1 refuses at depth %d: %v (% x)", depth, err, head(b))
		}
		if depth == 0 && len(rest) != 0 {
			t.Fatalf("encoding/asn1 leaves %d bytes after the element", len(rest))
		}
		elem := b[:len(b)-len(rest)]
		if !bytes.Equal(rv.FullBytes, elem) {
			t.Fatalf("encoding/asn1 FullBytes differ from the element it consumed")
		}
		if b[0]&0x1f != 0x1f {
			s := cryptobyte.String(b)
			var got cryptobyte.String
			if !s.ReadAnyASN1Element(&got, nil) {
				t.Fatalf("checkDER accepted what cryptobyte refuses at depth %d (% x)", depth, head(b))
			}
			if !bytes.Equal(got, elem) {
				t.Fatalf("cryptobyte reads a %d-byte element, encoding/asn1 %d bytes", len(got), len(elem))
			}
		}
		if rv.IsCompound {
			walkStrict(t, rv.Bytes, depth+1)
		}
		b = rest
	}
}

func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}
