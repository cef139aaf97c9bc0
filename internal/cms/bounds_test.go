package cms

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/github/smimesign/ietf-cms/protocol"
)

// derCap is the largest DER whose armor still fits MaxSignatureSize.
const derCap = (MaxSignatureSize - 128) / 4 * 3 * 64 / 65

// hostileInputs are signatures built to be expensive: each fits the size
// cap and must be refused cheaply.
func hostileInputs(t testing.TB) map[string][]byte {
	in := map[string][]byte{
		// ~48,000 nested indefinite-length SEQUENCEs, each closed by its
		// end-of-contents marker: ietf-cms's BER reader copies every level
		// into the next (quadratic), so before checkDER this input took
		// 4.4 s and allocated 5 GB here.
		"nested indefinite BER": append(bytes.Repeat([]byte{0x30, 0x80}, derCap/4-1), make([]byte, derCap/2)...),
		// Indefinite length with no end-of-contents marker in sight.
		"unterminated indefinite BER": append([]byte{0x30, 0x80}, bytes.Repeat([]byte{0x04, 0x01, 0x01}, derCap/3-1)...),
		// The same depth with definite lengths.
		"nested definite DER": nestedDefinite(derCap),
		// Length fields claiming far more than is there.
		"huge length":          append([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, make([]byte, derCap-6)...),
		"3-byte length":        append([]byte{0x30, 0x83, 0xff, 0xff, 0xff}, make([]byte, derCap-5)...),
		"length past the end":  append([]byte{0x30, 0x83, 0x02, 0x00, 0x00}, bytes.Repeat([]byte{0x04, 0x00}, 1000)...),
		"huge inner length":    append([]byte{0x30, 0x82, 0x10, 0x00, 0x04, 0x84, 0x7f, 0xff, 0xff, 0xff}, make([]byte, 4090)...),
		"many tiny elements":   sequenceOf(bytes.Repeat([]byte{0x05, 0x00}, (derCap-8)/2)),
		"long high tag number": append([]byte{0x1f}, bytes.Repeat([]byte{0xff}, derCap-1)...),
	}
	in["many unsigned attributes"] = manyAttributes(t, false)
	in["many signed attributes"] = manyAttributes(t, true)
	return in
}

// nestedDefinite returns SEQUENCEs nested as deep as fit in n bytes,
// around a NULL.
func nestedDefinite(n int) []byte {
	var headers [][]byte // innermost first
	size := 2
	for {
		h := lengthHeader(size)
		if size+len(h) > n {
			break
		}
		headers = append(headers, h)
		size += len(h)
	}
	out := make([]byte, 0, size)
	for i := len(headers) - 1; i >= 0; i-- {
		out = append(out, headers[i]...)
	}
	return append(out, 0x05, 0x00)
}

// lengthHeader is a SEQUENCE header for contents of n bytes.
func lengthHeader(n int) []byte {
	switch {
	case n < 0x80:
		return []byte{0x30, byte(n)}
	case n < 0x100:
		return []byte{0x30, 0x81, byte(n)}
	case n < 0x10000:
		return []byte{0x30, 0x82, byte(n >> 8), byte(n)}
	}
	return []byte{0x30, 0x83, byte(n >> 16), byte(n >> 8), byte(n)}
}

func sequenceOf(contents []byte) []byte {
	b, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: contents})
	return b
}

// manyAttributes returns a good signature with thousands of attributes,
// as close to the size cap as they fit.
func manyAttributes(t testing.TB, signed bool) []byte {
	sd := goodSignature(t.(*testing.T))
	si := &sd.SignerInfos[0]
	base, _ := sd.ContentInfoDER()
	for i := 0; ; i++ {
		a, _ := protocol.NewAttribute(asn1.ObjectIdentifier{1, 2, 3, i}, []byte{1})
		if signed {
			si.SignedAttrs = append(si.SignedAttrs, a)
		} else {
			si.UnsignedAttrs = append(si.UnsignedAttrs, a)
		}
		if len(base)+(i+1)*14 > derCap-64 {
			break
		}
	}
	der, err := sd.ContentInfoDER()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestParseBounded feeds each hostile input, armored, through Parse: each
// is refused, in far less than a second and with memory proportional to
// its size, never to its nesting or its claimed lengths.
func TestParseBounded(t *testing.T) {
	for name, der := range hostileInputs(t) {
		t.Run(name, func(t *testing.T) {
			armored := Armor(der)
			if len(armored) > MaxSignatureSize {
				t.Fatalf("input is %d bytes, over the cap: fix the test", len(armored))
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Parse(armored)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			// Generous bounds: the real cost is a few milliseconds and a
			// few times the input; the old parser took seconds and
			// hundreds of MB.
			if took > time.Second {
				t.Errorf("took %v", took)
			}
			if limit := uint64(16*len(armored) + 4<<20); allocated > limit {
				t.Errorf("allocated %d bytes for a %d-byte input (limit %d)", allocated, len(armored), limit)
			}
			t.Logf("%s: %v, %d bytes allocated: %v", name, took, allocated, err)
		})
	}
}

// TestParseRefusesOversize: one byte over the cap is refused before any
// parsing, however the bytes look.
func TestParseRefusesOversize(t *testing.T) {
	in := bytes.Repeat([]byte{'A'}, MaxSignatureSize+1)
	if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than the %d allowed", MaxSignatureSize)) {
		t.Errorf("oversize: %v", err)
	}
	if _, err := ParseDER(in); err == nil || !strings.Contains(err.Error(), "allowed") {
		t.Errorf("oversize DER: %v", err)
	}
}

// BenchmarkParseHostile measures the cost of refusing each hostile input
// (make bench-parse / go test -bench ParseHostile ./internal/cms).
func BenchmarkParseHostile(b *testing.B) {
	t := &testing.T{}
	for name, der := range hostileInputs(t) {
		armored := Armor(der)
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(armored)))
			for b.Loop() {
				if _, err := Parse(armored); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
