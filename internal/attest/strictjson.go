package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// checkJSON refuses JSON that parsers disagree about, or that the
// protobuf JSON readers of in-toto statements (the reference's among
// them) refuse: nesting deeper than maxDepth, invalid UTF-8, an escaped
// surrogate that is not half of a pair (both of which Go's decoder turns
// into U+FFFD), a key repeated in one object (Go's decoder keeps the
// last, others the first), and a number no double holds (1e400). It
// does not check that b is one value; the caller's decoder does.
func checkJSON(b []byte) error {
	if err := checkDepth(b); err != nil {
		return err
	}
	if !utf8.Valid(b) {
		return errors.New("JSON is not valid UTF-8")
	}
	if err := checkSurrogates(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return checkValue(dec)
}

// checkValue reads one value from dec, refusing repeated keys and numbers
// out of a double's range.
func checkValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return errors.New("no JSON value")
		}
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := k.(string)
				if seen[key] {
					return fmt.Errorf("JSON object repeats the key %s", printable.Quote(key))
				}
				seen[key] = true
				if err := checkValue(dec); err != nil {
					return err
				}
			}
		case '[':
			for dec.More() {
				if err := checkValue(dec); err != nil {
					return err
				}
			}
		}
		_, err := dec.Token() // the closing delimiter
		return err
	case json.Number:
		if _, err := strconv.ParseFloat(string(t), 64); err != nil {
			return errors.New("JSON holds a number out of a double's range")
		}
	}
	return nil
}

// checkSurrogates refuses a \u escape of a UTF-16 surrogate that is not
// a high one followed by a low one.
func checkSurrogates(b []byte) error {
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(b):
			if b[i+1] != 'u' {
				i++ // an escaped character, maybe a quote
				continue
			}
			r, ok := hex4(b, i+2)
			if !ok {
				continue // the decoder reports it
			}
			i += 5
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return errors.New("JSON string holds a lone low surrogate (\\u" + strconv.FormatInt(int64(r), 16) + ")")
			case r >= 0xD800 && r <= 0xDBFF:
				low, ok := rune(0), i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u'
				if ok {
					low, ok = hex4(b, i+3)
				}
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return errors.New("JSON string holds a lone high surrogate (\\u" + strconv.FormatInt(int64(r), 16) + ")")
				}
				i += 6
			}
		}
	}
	return nil
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i:i+4]), 16, 32)
	return rune(v), err == nil
}
