// Package gitobj rebuilds git objects around their signatures, byte for
// byte as git stores them.
package gitobj

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/gitsign-dev/gitsign/internal/printable"
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

// Object formats, as `git rev-parse --show-object-format` names them.
const (
	SHA1   = "sha1"
	SHA256 = "sha256"
)

// sigHeaders are the commit headers git reads a signature from, by the
// repository's object format.
var sigHeaders = map[string]string{SHA1: "gpgsig", SHA256: "gpgsig-sha256"}

// armors are the lines that start a tag's signature: those git 2.39
// recognises for its openpgp, x509 and ssh formats, matched as prefixes.
var armors = [][]byte{
	[]byte("-----BEGIN PGP SIGNATURE-----"),
	[]byte("-----BEGIN PGP MESSAGE-----"),
	[]byte("-----BEGIN SIGNED MESSAGE-----"),
	[]byte("-----BEGIN SSH SIGNATURE-----"),
}

// Split is [SplitFor] in a SHA-1 repository, the format of nearly every
// repository and the only one git uses unless told otherwise.
func Split(typ string, raw []byte) (payload, sig []byte, err error) {
	return SplitFor(typ, raw, SHA1)
}

// SplitFor separates a raw commit or tag object, as git stores it in a
// repository of the given object format ([SHA1] or [SHA256]), into the
// payload that was signed and the armored signature, reading it as git
// 2.39 does and never finding a signature where git finds none.
//
// A commit's signature is its header for the repository's format, gpgsig
// or gpgsig-sha256, whose continuation lines lose their leading space.
// git leaves any other header line starting "gpgsig" (the other format's
// signature, but also gpgsigx or a bare gpgsig), with its continuation
// lines, out of the payload it verifies, so such a line could be added,
// changed or removed without breaking the signature: a commit that has
// one is refused. For the same reason the signature header must be the
// last header, where git and gitsign write it: git verifies the same
// payload wherever it sits. A tag's signature is everything from the last
// line that starts with a signature armor git knows (PGP SIGNATURE, PGP
// MESSAGE, SIGNED MESSAGE, SSH SIGNATURE), so text after the signature
// block stays in the signature. Objects with more than one signature
// header, or with a header that git allows once (tree, author, committer;
// object, type, tag, tagger) given twice, are refused: git and other
// readers would disagree about what such an object says
// (GHSA-7rmh-48mx-2vwc). So are objects whose payload has no committer
// (commit) or tagger (tag) header git can read an ident from: git
// verifies none of those.
func SplitFor(typ string, raw []byte, format string) (payload, sig []byte, err error) {
	header, ok := sigHeaders[format]
	if !ok {
		return nil, nil, fmt.Errorf("unknown object format %q", format)
	}
	if err := CheckHeaders(typ, raw); err != nil {
		return nil, nil, err
	}
	switch typ {
	case "commit":
		payload, sig, err = splitCommit(raw, header)
	case "tag":
		i := tagSignature(raw)
		if i < 0 {
			return nil, nil, errors.New("tag is not signed")
		}
		payload, sig = raw[:i], raw[i:]
	default:
		return nil, nil, fmt.Errorf("cannot split a %s object", typ)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := checkSigner(typ, payload); err != nil {
		return nil, nil, err
	}
	return payload, sig, nil
}

// signers are the headers whose ident git reads before it verifies a
// signature (gpg-interface.c, parse_payload_metadata).
var signers = map[string]string{"commit": "committer", "tag": "tagger"}

// checkSigner refuses a payload whose first signer header, looked for as
// git does (in the header block, which for git ends at a NUL byte too),
// is missing, empty or has no "<...>" e-mail part: git gives such an
// object no verdict but "no signature".
func checkSigner(typ string, payload []byte) error {
	name := signers[typ]
	if i := bytes.IndexByte(payload, 0); i >= 0 {
		payload = payload[:i]
	}
	for len(payload) > 0 && payload[0] != '\n' {
		line, rest, _ := bytes.Cut(payload, []byte("\n"))
		payload = rest
		value, ok := bytes.CutPrefix(line, []byte(name+" "))
		if !ok {
			continue
		}
		lt := bytes.IndexByte(value, '<')
		if lt < 0 || bytes.IndexByte(value[lt+1:], '>') < 0 {
			break
		}
		return nil
	}
	return fmt.Errorf("%s has no %s that git can read, so git would not verify it", typ, name)
}

// tagSignature returns the offset of the last line of raw that starts
// with a known signature armor, or -1.
func tagSignature(raw []byte) int {
	match := -1
	for off := 0; off < len(raw); {
		for _, a := range armors {
			if bytes.HasPrefix(raw[off:], a) {
				match = off
				break
			}
		}
		nl := bytes.IndexByte(raw[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	return match
}

// splitCommit reads the header block line by line, up to the first empty
// line, taking header (and its continuation lines) as the signature, and
// refusing every other line starting "gpgsig", which git would leave out
// of the payload.
func splitCommit(raw []byte, header string) ([]byte, []byte, error) {
	sigPrefix := []byte(header + " ")
	var payload, sig []byte
	found := 0
	inSig := false
	other := ""    // the first other gpgsig... header: the object is refused
	moved := false // a header follows the signature
	for off := 0; off < len(raw); {
		line := raw[off:]
		if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
			line = line[:nl+1]
		}
		if line[0] == '\n' {
			// The end of the headers: the rest is message.
			payload = append(payload, raw[off:]...)
			break
		}
		off += len(line)
		switch {
		case inSig && line[0] == ' ':
			sig = append(sig, line[1:]...)
			continue
		case bytes.HasPrefix(line, sigPrefix):
			found++
			inSig = true
			sig = append(sig, line[len(sigPrefix):]...)
			continue
		case bytes.HasPrefix(line, []byte("gpgsig")):
			// git leaves such a header out of what it verifies, so
			// anyone could add, change or remove it: a new object id for
			// a signature that stays good, and room to hide data.
			if other == "" {
				name, _, _ := bytes.Cut(bytes.TrimSuffix(line, []byte("\n")), []byte(" "))
				other = string(name)
			}
			inSig = false
			continue
		case inSig:
			// A header after the signature: git would verify the same
			// payload wherever the signature sits, so only one place is
			// allowed, the one git and gitsign write it at: last.
			moved = true
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
	if other != "" {
		return nil, nil, fmt.Errorf("commit has a %s header besides its %s signature: git does not verify it, so it could be changed without breaking the signature", printable.String(other), header)
	}
	if moved {
		return nil, nil, fmt.Errorf("commit's %s signature is not its last header: git verifies the same payload wherever it sits, so it could be moved without breaking the signature", header)
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
