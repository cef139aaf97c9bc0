// Package gitobj rebuilds git objects around their signatures, byte for
// byte as git stores them.
package gitobj

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
)

// Type returns the object type of a signing payload, judged by its first
// header as git writes it: "commit" (tree) or "tag" (object).
func Type(payload []byte) (string, error) {
	switch {
	case bytes.HasPrefix(payload, []byte("tree ")):
		return "commit", nil
	case bytes.HasPrefix(payload, []byte("object ")):
		return "tag", nil
	}
	return "", errors.New("payload is neither a commit nor a tag")
}

// WithSignature returns the object git stores for payload signed with the
// armored signature sig: for a commit, a gpgsig header (continuation lines
// indented by one space) after the last header; for a tag, the signature
// appended to the message.
func WithSignature(payload, sig []byte) ([]byte, string, error) {
	typ, err := Type(payload)
	if err != nil {
		return nil, "", err
	}
	if typ == "tag" {
		return append(append([]byte{}, payload...), sig...), typ, nil
	}
	end := bytes.Index(payload, []byte("\n\n"))
	if end < 0 {
		return nil, "", errors.New("commit payload has no end of headers")
	}
	var hdr bytes.Buffer
	hdr.WriteString("gpgsig")
	lines := bytes.Split(bytes.TrimSuffix(sig, []byte("\n")), []byte("\n"))
	for _, l := range lines {
		hdr.WriteByte(' ')
		hdr.Write(l)
		hdr.WriteByte('\n')
	}
	obj := make([]byte, 0, len(payload)+hdr.Len())
	obj = append(obj, payload[:end+1]...)
	obj = append(obj, hdr.Bytes()...)
	obj = append(obj, payload[end+1:]...)
	return obj, typ, nil
}

// ID returns the SHA-1 object id, in hex, of an object of type typ.
func ID(typ string, obj []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", typ, len(obj))
	h.Write(obj)
	return hex.EncodeToString(h.Sum(nil))
}

// Split separates a raw commit or tag object, as git stores it, into the
// payload that was signed and the armored signature. A commit's signature
// is its gpgsig (or gpgsig-sha256) header, whose continuation lines lose
// their leading space; a tag's is the text from the last line that starts
// "-----BEGIN ". Objects with more than one signature header, or with a
// header that git allows once (tree, author, committer; object, type,
// tag, tagger) given twice, are refused: git and other readers would
// disagree about what such an object says (GHSA-7rmh-48mx-2vwc).
func Split(typ string, raw []byte) (payload, sig []byte, err error) {
	if err := CheckHeaders(typ, raw); err != nil {
		return nil, nil, err
	}
	switch typ {
	case "commit":
		return splitCommit(raw)
	case "tag":
		i := bytes.LastIndex(raw, []byte("\n-----BEGIN "))
		if i < 0 {
			return nil, nil, errors.New("tag is not signed")
		}
		return raw[:i+1], raw[i+1:], nil
	}
	return nil, nil, fmt.Errorf("cannot split a %s object", typ)
}

func splitCommit(raw []byte) ([]byte, []byte, error) {
	end := bytes.Index(raw, []byte("\n\n"))
	if end < 0 {
		end = len(raw)
	}
	var payload, sig []byte
	found := 0
	inSig := false
	for off := 0; off < end+1 && off < len(raw); {
		nl := bytes.IndexByte(raw[off:], '\n')
		line := raw[off:]
		if nl >= 0 {
			line = raw[off : off+nl+1]
		}
		off += len(line)
		switch {
		case inSig && bytes.HasPrefix(line, []byte(" ")):
			sig = append(sig, line[1:]...)
			continue
		case bytes.HasPrefix(line, []byte("gpgsig ")) || bytes.HasPrefix(line, []byte("gpgsig-sha256 ")):
			found++
			inSig = true
			sig = append(sig, line[bytes.IndexByte(line, ' ')+1:]...)
			continue
		}
		inSig = false
		payload = append(payload, line...)
	}
	if found == 0 {
		return nil, nil, errors.New("commit is not signed")
	}
	if found > 1 {
		return nil, nil, errors.New("commit has more than one signature header")
	}
	if end < len(raw) {
		payload = append(payload, raw[end+1:]...)
	}
	return payload, sig, nil
}

var singletons = map[string][]string{
	"commit": {"tree", "author", "committer"},
	"tag":    {"object", "type", "tag", "tagger"},
}

// CheckHeaders refuses an object whose header block repeats a header git
// allows only once.
func CheckHeaders(typ string, raw []byte) error {
	end := bytes.Index(raw, []byte("\n\n"))
	if end < 0 {
		end = len(raw)
	}
	seen := map[string]bool{}
	for _, line := range bytes.Split(raw[:end], []byte("\n")) {
		name, _, ok := bytes.Cut(line, []byte(" "))
		if !ok || len(line) == 0 || line[0] == ' ' {
			continue
		}
		for _, s := range singletons[typ] {
			if string(name) == s {
				if seen[s] {
					return fmt.Errorf("%s has more than one %s header", typ, s)
				}
				seen[s] = true
			}
		}
	}
	return nil
}
