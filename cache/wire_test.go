package cache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleMessages returns one message of every type.
func sampleMessages(t testing.TB) []*message {
	cred := newCredential(t, t0.Add(time.Hour))
	raw, err := cred.marshal()
	if err != nil {
		t.Fatal(err)
	}
	return []*message{
		{typ: msgGet, key: testKey},
		{typ: msgPut, key: testKey, cred: raw},
		{typ: msgList},
		{typ: msgClear},
		{typ: msgOK},
		{typ: msgCredential, cred: raw},
		{typ: msgEntries},
		{typ: msgEntries, entries: []rawEntry{{key: testKey, leaf: raw.chain[0]}, {key: Key{"a", "b", "c"}, leaf: raw.chain[1]}}},
		{typ: msgFailure, code: CodeNotFound, text: "cache: no credential"},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range sampleMessages(t) {
		var buf bytes.Buffer
		if err := writeMessage(&buf, m); err != nil {
			t.Fatalf("writeMessage(type %d): %v", m.typ, err)
		}
		frame := buf.Bytes()
		if n := binary.BigEndian.Uint32(frame); int(n) != len(frame)-4 {
			t.Errorf("type %d: length prefix %d, body %d bytes", m.typ, n, len(frame)-4)
		}
		if frame[4] != ProtocolVersion || msgType(frame[5]) != m.typ {
			t.Errorf("type %d: header % x", m.typ, frame[4:6])
		}
		got, err := readMessage(&buf)
		if err != nil {
			t.Fatalf("readMessage(type %d): %v", m.typ, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(m)) {
			t.Errorf("round trip of type %d:\n got %+v\nwant %+v", m.typ, got, m)
		}
		if buf.Len() != 0 {
			t.Errorf("type %d: %d bytes left after one message", m.typ, buf.Len())
		}
	}
}

// normalize makes empty and nil slices compare equal.
func normalize(m *message) *message {
	c := *m
	if len(c.entries) == 0 {
		c.entries = nil
	}
	if len(c.cred.chain) == 0 {
		c.cred.chain = nil
	}
	if len(c.cred.key) == 0 {
		c.cred.key = nil
	}
	return &c
}

func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func TestMalformedMessages(t *testing.T) {
	good, err := (&message{typ: msgGet, key: testKey}).encode()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"too short", frame([]byte{1}), "too short"},
		{"unknown type", frame([]byte{1, 77}), "unknown message type 77"},
		{"trailing byte", frame(append(append([]byte{}, good...), 0)), "1 bytes after the last field"},
		{"truncated field", frame(good[:len(good)-1]), "runs past the end"},
		{"field over its limit", frame(append([]byte{1, byte(msgGet)}, binary.BigEndian.AppendUint16(nil, maxField+1)...)), "longer than"},
		{"empty chain", frame([]byte{1, byte(msgCredential), 0, 1, 0x30, 0}), "0 certificates"},
		{"too many entries", frame([]byte{1, byte(msgEntries), 0, maxEntries + 1}), "more than"},
		{"oversized length", binary.BigEndian.AppendUint32(nil, MaxMessageSize+1), "larger than"},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff}, "larger than"},
	}
	for _, tt := range tests {
		_, err := readMessage(bytes.NewReader(tt.in))
		var pe *ProtocolError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v; want a *ProtocolError containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := readMessage(bytes.NewReader(frame([]byte{2, byte(msgGet)}))); err != errVersion {
		t.Errorf("version 2: err = %v; want errVersion", err)
	}
	if _, err := readMessage(bytes.NewReader(nil)); err != io.EOF {
		t.Errorf("empty stream: err = %v; want io.EOF", err)
	}
	if _, err := readMessage(bytes.NewReader(frame(good)[:7])); err != io.ErrUnexpectedEOF {
		t.Errorf("cut frame: err = %v; want io.ErrUnexpectedEOF", err)
	}
}

// The encoder refuses what the decoder would refuse, so nothing invalid is
// ever sent.
func TestEncodeRefusesInvalid(t *testing.T) {
	long := strings.Repeat("x", maxField+1)
	for _, m := range []*message{
		{typ: msgGet, key: Key{Fulcio: long, Issuer: "i", ClientID: "c"}},
		{typ: msgCredential, cred: rawCredential{key: []byte{1}}},
		{typ: msgCredential, cred: rawCredential{key: []byte{1}, chain: make([][]byte, maxChain+1)}},
		{typ: msgEntries, entries: make([]rawEntry, maxEntries+1)},
		{typ: 99},
	} {
		if b, err := m.encode(); err == nil {
			t.Errorf("encode(%+v) = % x; want an error", m, b)
		}
	}
}

// The largest message the limits allow still fits in MaxMessageSize.
func TestLimitsFitMaxMessageSize(t *testing.T) {
	k := Key{strings.Repeat("f", maxField), strings.Repeat("i", maxField), strings.Repeat("c", maxField)}
	cert := bytes.Repeat([]byte{1}, maxCertBytes)
	entries := make([]rawEntry, maxEntries)
	for i := range entries {
		entries[i] = rawEntry{key: k, leaf: cert}
	}
	chain := make([][]byte, maxChain)
	for i := range chain {
		chain[i] = cert
	}
	for _, m := range []*message{
		{typ: msgEntries, entries: entries},
		{typ: msgPut, key: k, cred: rawCredential{key: bytes.Repeat([]byte{1}, maxKeyBytes), chain: chain}},
	} {
		if _, err := m.encode(); err != nil {
			t.Errorf("largest message of type %d: %v", m.typ, err)
		}
	}
}

// FuzzDecodeMessage checks the decoder on arbitrary frames: it never
// panics, every failure is a *ProtocolError (or a short read), and every
// message it accepts encodes back to exactly the bytes it read.
func FuzzDecodeMessage(f *testing.F) {
	seeds := 0
	for _, m := range sampleMessages(f) {
		var buf bytes.Buffer
		if err := writeMessage(&buf, m); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
		seeds++
	}
	if seeds == 0 {
		f.Fatal("no seeds")
	}
	f.Add(frame([]byte{1, byte(msgEntries), 0, 0}))
	f.Add([]byte{0, 0, 0, 2, 2, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		m, err := readMessage(r)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) && err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("error %v (%T) is neither a *ProtocolError nor a short read", err, err)
			}
			return
		}
		consumed := in[:len(in)-r.Len()]
		var out bytes.Buffer
		if err := writeMessage(&out, m); err != nil {
			t.Fatalf("decoded %+v but cannot encode it: %v", m, err)
		}
		if !bytes.Equal(out.Bytes(), consumed) {
			t.Fatalf("re-encoding changed the message:\n in % x\nout % x", consumed, out.Bytes())
		}
	})
}

// FuzzPutRoundTrip builds PUT messages from arbitrary fields: whatever the
// encoder accepts, the decoder gives back field for field.
func FuzzPutRoundTrip(f *testing.F) {
	f.Add("https://fulcio.example", "https://issuer.example", "sigstore", []byte{0x30, 1, 2}, []byte{0x30}, uint8(2))
	f.Add("", "", "", []byte{}, []byte{}, uint8(1))
	f.Fuzz(func(t *testing.T, fulcio, issuer, client string, key, cert []byte, n uint8) {
		m := &message{typ: msgPut, key: Key{fulcio, issuer, client}, cred: rawCredential{key: key}}
		for i := 0; i < int(n%10); i++ {
			m.cred.chain = append(m.cred.chain, append(cert, byte(i)))
		}
		var buf bytes.Buffer
		if err := writeMessage(&buf, m); err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("encode error %v is not a *ProtocolError", err)
			}
			return
		}
		got, err := readMessage(&buf)
		if err != nil {
			t.Fatalf("decoding what was encoded: %v", err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(m)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
		}
	})
}
