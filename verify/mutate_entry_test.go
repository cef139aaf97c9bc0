package verify

// Field-level mutations of the embedded log entry, its inclusion proof and
// checkpoint (see mutate_test.go).

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"strings"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// entryEdit is one changed log entry.
type entryEdit struct {
	name string
	tle  *protorekor.TransparencyLogEntry
}

// entryEdits walks every field of tle's message type, set or not, and
// every element of every repeated field, and returns a copy of tle for
// each way of changing, dropping, duplicating or adding it. Integer fields
// are also set to each of plausible, which should hold values that could
// pass for the real one (a time inside the certificate's validity, say).
func entryEdits(tle *protorekor.TransparencyLogEntry, plausible map[string]int64) []entryEdit {
	var out []entryEdit
	var walk func(path []protoreflect.FieldDescriptor, m protoreflect.Message)
	walk = func(path []protoreflect.FieldDescriptor, m protoreflect.Message) {
		fields := m.Descriptor().Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			here := append(path[:len(path):len(path)], fd)
			name := fieldPath(here)
			edit := func(what string, f func(m protoreflect.Message, fd protoreflect.FieldDescriptor)) {
				c := proto.Clone(tle).(*protorekor.TransparencyLogEntry)
				f(reach(c.ProtoReflect(), path), fd)
				out = append(out, entryEdit{name: "entry: " + name + ": " + what, tle: c})
			}
			switch {
			case fd.IsList():
				n := m.Get(fd).List().Len()
				if n > 0 {
					edit("emptied", func(m protoreflect.Message, fd protoreflect.FieldDescriptor) { m.Clear(fd) })
					edit("first element duplicated", func(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
						l := m.Mutable(fd).List()
						l.Append(l.Get(0))
					})
					edit("last element dropped", func(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
						l := m.Mutable(fd).List()
						l.Truncate(l.Len() - 1)
					})
					for j := range n {
						for _, c := range scalarChanges(fd.Kind(), m.Get(fd).List().Get(j), nil) {
							edit(fmt.Sprintf("[%d] %s", j, c.name), func(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
								m.Mutable(fd).List().Set(j, c.value)
							})
						}
					}
				} else if fd.Kind() == protoreflect.BytesKind {
					edit("an element added", func(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
						m.Mutable(fd).List().Append(protoreflect.ValueOfBytes(make([]byte, 32)))
					})
				}
			case fd.Kind() == protoreflect.MessageKind:
				if m.Has(fd) {
					edit("dropped", func(m protoreflect.Message, fd protoreflect.FieldDescriptor) { m.Clear(fd) })
					walk(here, m.Get(fd).Message())
				} else {
					edit("added empty", func(m protoreflect.Message, fd protoreflect.FieldDescriptor) { m.Mutable(fd) })
				}
			default:
				if m.Has(fd) {
					edit("dropped", func(m protoreflect.Message, fd protoreflect.FieldDescriptor) { m.Clear(fd) })
				}
				for _, c := range scalarChanges(fd.Kind(), m.Get(fd), plausible) {
					edit(c.name, func(m protoreflect.Message, fd protoreflect.FieldDescriptor) { m.Set(fd, c.value) })
				}
			}
		}
	}
	walk(nil, tle.ProtoReflect())
	return out
}

// reach returns the message at path below m (the path's last element is
// the field to edit, which is not followed).
func reach(m protoreflect.Message, path []protoreflect.FieldDescriptor) protoreflect.Message {
	for _, fd := range path {
		m = m.Mutable(fd).Message()
	}
	return m
}

func fieldPath(path []protoreflect.FieldDescriptor) string {
	var names []string
	for _, fd := range path {
		names = append(names, string(fd.Name()))
	}
	return strings.Join(names, ".")
}

type change struct {
	name  string
	value protoreflect.Value
}

// scalarChanges are other values for a scalar field now holding v.
func scalarChanges(kind protoreflect.Kind, v protoreflect.Value, plausible map[string]int64) []change {
	var out []change
	switch kind {
	case protoreflect.Int64Kind:
		n := v.Int()
		for _, d := range []int64{1, -1, 2, -2, 1024, -1024, 1 << 20} {
			out = append(out, change{fmt.Sprintf("%+d", d), protoreflect.ValueOfInt64(n + d)})
		}
		out = append(out, change{"set to 1", protoreflect.ValueOfInt64(1)}, change{"set to max", protoreflect.ValueOfInt64(math.MaxInt64)})
		for name, p := range plausible {
			if p != n {
				out = append(out, change{"set to " + name, protoreflect.ValueOfInt64(p)})
			}
		}
	case protoreflect.BytesKind:
		b := v.Bytes()
		if len(b) > 0 {
			flip := func(i int, bit byte) []byte { c := bytes.Clone(b); c[i] ^= bit; return c }
			out = append(out,
				change{"first bit flipped", protoreflect.ValueOfBytes(flip(0, 0x80))},
				change{"last bit flipped", protoreflect.ValueOfBytes(flip(len(b)-1, 1))},
				change{"last byte dropped", protoreflect.ValueOfBytes(bytes.Clone(b[:len(b)-1]))})
			if t, ok := twin(b); ok {
				out = append(out, change{"ECDSA twin", protoreflect.ValueOfBytes(t)})
			}
		}
		out = append(out, change{"a zero byte appended", protoreflect.ValueOfBytes(append(bytes.Clone(b), 0))})
	case protoreflect.StringKind:
		s := v.String()
		if strings.Contains(s, "\n\n") {
			return checkpointChanges(s)
		}
		out = append(out, change{"x appended", protoreflect.ValueOfString(s + "x")})
		for _, other := range []string{"0.0.1", "0.0.2", "hashedrekord", "dsse", ""} {
			if other != s {
				out = append(out, change{fmt.Sprintf("set to %q", other), protoreflect.ValueOfString(other)})
			}
		}
	}
	return out
}

// checkpointChanges are edits of a checkpoint (a signed note), each
// re-encoded as a well-formed note: its size, root hash and origin, an
// added extension line, its signature line duplicated, renamed, dropped
// or with the ECDSA twin of its signature.
func checkpointChanges(note string) []change {
	body, sigs, _ := strings.Cut(note, "\n\n")
	lines := strings.Split(body, "\n")
	sigLines := strings.Split(strings.TrimSuffix(sigs, "\n"), "\n")
	mk := func(name string, lines, sigLines []string) change {
		return change{"checkpoint " + name, protoreflect.ValueOfString(strings.Join(lines, "\n") + "\n\n" + strings.Join(sigLines, "\n") + "\n")}
	}
	with := func(i int, v string) []string { c := append([]string(nil), lines...); c[i] = v; return c }
	var out []change
	if len(lines) >= 3 {
		var size uint64
		fmt.Sscan(lines[1], &size)
		out = append(out,
			mk("size +1", with(1, fmt.Sprint(size+1)), sigLines),
			mk("size -1", with(1, fmt.Sprint(size-1)), sigLines),
			mk("size with a leading zero", with(1, "0"+lines[1]), sigLines),
			mk("origin changed", with(0, lines[0]+"x"), sigLines))
		if h, err := base64.StdEncoding.DecodeString(lines[2]); err == nil && len(h) > 0 {
			h[0] ^= 1
			out = append(out, mk("root hash changed", with(2, base64.StdEncoding.EncodeToString(h)), sigLines))
		}
	}
	out = append(out,
		mk("extension line added", append(append([]string(nil), lines...), "x"), sigLines),
		mk("signature line duplicated", lines, append(append([]string(nil), sigLines...), sigLines...)),
		mk("signature line dropped", lines, nil))
	if len(sigLines) > 0 {
		name, sig, _ := strings.Cut(strings.TrimPrefix(sigLines[0], "\u2014 "), " ")
		out = append(out, mk("signer renamed", lines, []string{"\u2014 " + name + "x " + sig}))
		if raw, err := base64.StdEncoding.DecodeString(sig); err == nil && len(raw) > 4 {
			if t, ok := twin(raw[4:]); ok {
				out = append(out, mk("signature ECDSA twin", lines, []string{"\u2014 " + name + " " + base64.StdEncoding.EncodeToString(append(raw[:4:4], t...))}))
			}
			raw[len(raw)-1] ^= 1
			out = append(out, mk("signature changed", lines, []string{"\u2014 " + name + " " + base64.StdEncoding.EncodeToString(raw)}))
		}
	}
	return out
}

// encodeEntry is the embedded form of tle, re-encoded canonically
// (deterministic protobuf) but with whatever fields it has: unlike
// rekor.EncodeEntry it keeps a body on a v0.0.1 entry, so that adding one
// is tried too.
func encodeEntry(tle *protorekor.TransparencyLogEntry) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(tle)
}
