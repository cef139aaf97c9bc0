package cms

import (
	"bytes"
	"fmt"
)

// Bounds on the ASN.1 a signature may hold. They are checked by checkDER,
// in one pass over the bytes and before any other parser sees them, so an
// input can cost no more than O(len) time and O(maxDepth) memory to refuse.
const (
	// MaxSignatureSize bounds a signature as git stores it (armored).
	// Real ones are 3-8 KiB; a timestamped Rekor v2 one about 10 KiB.
	MaxSignatureSize = 256 << 10
	// maxDepth bounds how deeply ASN.1 elements nest. The deepest real
	// signature (a timestamp token inside an unsigned attribute, holding
	// the TSA's certificate and its extensions) nests 14 levels.
	maxDepth = 32
	// maxElements bounds the number of ASN.1 elements in a signature.
	// A real one has about 600.
	maxElements = 20000
)

// DERError is an encoding that is not strict DER; Offset is where in the
// DER the problem starts.
type DERError struct {
	Offset int
	Reason string
}

func (e *DERError) Error() string {
	return fmt.Sprintf("not DER at byte %d: %s", e.Offset, e.Reason)
}

// universal tags with rules of their own
const (
	tagBoolean     = 1
	tagInteger     = 2
	tagBitString   = 3
	tagOctetString = 4
	tagNull        = 5
	tagOID         = 6
	tagSequence    = 16
	tagSet         = 17
)

// checkDER reports whether b is exactly one DER element and nothing after
// it: every length definite and minimal, every tag in its shortest form,
// the contents of every constructed element a run of such elements, nesting
// at most maxDepth deep and at most maxElements elements in all. Beyond the
// framing it checks the rules that the ASN.1 alone decides: SEQUENCE and
// SET are constructed and string types primitive, the elements of a
// universal SET are in ascending order, and BOOLEAN, INTEGER, NULL and OID
// contents are minimal. It never recurses and allocates O(maxDepth).
func checkDER(b []byte) error {
	type frame struct {
		end       int  // where this element's contents end
		set       bool // a universal SET: elements must ascend
		prevStart int  // the previous element in a SET, for the order check
		prevEnd   int
	}
	var stack [maxDepth + 1]frame
	depth := 0
	stack[0] = frame{end: len(b), prevStart: -1}
	pos, elements := 0, 0
	for {
		top := &stack[depth]
		if pos == top.end {
			if depth == 0 {
				if elements == 0 {
					return &DERError{0, "empty"}
				}
				return nil
			}
			depth--
			continue
		}
		if depth == 0 && elements > 0 {
			return &DERError{pos, fmt.Sprintf("%d bytes after the end of the signature", len(b)-pos)}
		}
		elements++
		if elements > maxElements {
			return &DERError{pos, fmt.Sprintf("more than %d elements", maxElements)}
		}
		h, err := readHeader(b[pos:top.end])
		if err != nil {
			return &DERError{pos, err.Error()}
		}
		start, contents, end := pos, pos+h.headerLen, pos+h.headerLen+h.length
		if top.set {
			if top.prevStart >= 0 && bytes.Compare(b[top.prevStart:top.prevEnd], b[start:end]) > 0 {
				return &DERError{start, "SET elements out of order"}
			}
			top.prevStart, top.prevEnd = start, end
		}
		if err := h.checkContents(b[contents:end]); err != nil {
			return &DERError{start, err.Error()}
		}
		if !h.constructed {
			pos = end
			continue
		}
		if depth == maxDepth {
			return &DERError{start, fmt.Sprintf("nested more than %d deep", maxDepth)}
		}
		depth++
		stack[depth] = frame{end: end, set: h.class == 0 && h.tag == tagSet, prevStart: -1}
		pos = contents
	}
}

type header struct {
	class       int // 0 universal, 1 application, 2 context-specific, 3 private
	constructed bool
	tag         int
	headerLen   int
	length      int
}

// readHeader reads an identifier and a definite length, both in their
// shortest forms, and checks that the contents fit in b.
func readHeader(b []byte) (header, error) {
	if len(b) < 2 {
		return header{}, fmt.Errorf("truncated element")
	}
	h := header{class: int(b[0] >> 6), constructed: b[0]&0x20 != 0, tag: int(b[0] & 0x1f)}
	i := 1
	if h.tag == 0x1f {
		// High tag number: base 128, no leading zero digit, at most 4 digits.
		h.tag = 0
		for n := 0; ; n++ {
			if i >= len(b) {
				return header{}, fmt.Errorf("truncated tag")
			}
			c := b[i]
			i++
			if n == 0 && c == 0x80 {
				return header{}, fmt.Errorf("tag number not minimal")
			}
			if n == 4 {
				return header{}, fmt.Errorf("tag number too large")
			}
			h.tag = h.tag<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		if h.tag < 0x1f {
			return header{}, fmt.Errorf("tag number not minimal")
		}
	}
	if i >= len(b) {
		return header{}, fmt.Errorf("truncated length")
	}
	c := b[i]
	i++
	switch {
	case c < 0x80:
		h.length = int(c)
	case c == 0x80:
		return header{}, fmt.Errorf("indefinite length")
	default:
		n := int(c & 0x7f)
		if n > 3 {
			// 3 length bytes already allow 16 MiB, far beyond any signature.
			return header{}, fmt.Errorf("length field of %d bytes", n)
		}
		if len(b)-i < n {
			return header{}, fmt.Errorf("truncated length")
		}
		if b[i] == 0 {
			return header{}, fmt.Errorf("length not minimal")
		}
		for _, d := range b[i : i+n] {
			h.length = h.length<<8 | int(d)
		}
		i += n
		if h.length < 0x80 {
			return header{}, fmt.Errorf("length not minimal")
		}
	}
	h.headerLen = i
	if h.length > len(b)-i {
		return header{}, fmt.Errorf("length %d runs past its container (%d bytes left)", h.length, len(b)-i)
	}
	return h, nil
}

// checkContents applies DER's rules for universal types.
func (h header) checkContents(c []byte) error {
	if h.class != 0 {
		return nil
	}
	switch h.tag {
	case tagSequence, tagSet:
		if !h.constructed {
			return fmt.Errorf("primitive SEQUENCE or SET")
		}
		return nil
	case 0:
		return fmt.Errorf("end-of-contents marker")
	}
	if h.constructed {
		// DER encodes every other universal type, strings included, as
		// primitive.
		return fmt.Errorf("constructed encoding of universal type %d", h.tag)
	}
	switch h.tag {
	case tagBoolean:
		if len(c) != 1 || (c[0] != 0 && c[0] != 0xff) {
			return fmt.Errorf("BOOLEAN not 00 or FF")
		}
	case tagInteger:
		if len(c) == 0 {
			return fmt.Errorf("empty INTEGER")
		}
		if len(c) > 1 && ((c[0] == 0 && c[1]&0x80 == 0) || (c[0] == 0xff && c[1]&0x80 != 0)) {
			return fmt.Errorf("INTEGER not minimal")
		}
	case tagNull:
		if len(c) != 0 {
			return fmt.Errorf("NULL with contents")
		}
	case tagOID:
		if len(c) == 0 || c[len(c)-1]&0x80 != 0 {
			return fmt.Errorf("malformed OBJECT IDENTIFIER")
		}
		for i := range c {
			if c[i] == 0x80 && (i == 0 || c[i-1]&0x80 == 0) {
				return fmt.Errorf("OBJECT IDENTIFIER not minimal")
			}
		}
	case tagBitString:
		if len(c) == 0 || c[0] > 7 || (len(c) == 1 && c[0] != 0) {
			return fmt.Errorf("malformed BIT STRING")
		}
		if unused := c[0]; unused > 0 && c[len(c)-1]&(1<<unused-1) != 0 {
			return fmt.Errorf("BIT STRING padding not zero")
		}
	}
	return nil
}
