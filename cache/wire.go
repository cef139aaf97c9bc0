package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The agent protocol, version 1.
//
// A message is framed as
//
//	uint32 length       big-endian, of what follows; 2 <= length <= MaxMessageSize
//	byte   version      ProtocolVersion
//	byte   type         one of the message types below
//	...    fields       as listed per type, nothing after them
//
// with these field encodings:
//
//	string, bytes   uint16 big-endian length, then that many bytes
//	key             string fulcio_url, string issuer, string client_id
//	credential      bytes pkcs8_private_key, byte n (1..8), n × bytes certificate_der (leaf first)
//
// Requests (client to agent):
//
//	1 GET    key             → CREDENTIAL, or FAILURE not-found
//	2 PUT    key credential  → OK (replaces what the key held)
//	3 LIST                   → ENTRIES
//	4 CLEAR                  → OK (forgets everything)
//
// Replies (agent to client):
//
//	129 OK
//	130 CREDENTIAL  credential
//	131 ENTRIES     uint16 n (0..maxEntries), n × (key, bytes leaf_certificate_der)
//	132 FAILURE     byte code, string message
//
// Any request may instead get FAILURE bad-request: a PUT the agent
// refuses, or a request its store could not carry out. A message whose
// version is not ProtocolVersion gets FAILURE
// unsupported-version (in version 1) and the connection is closed. A
// malformed message closes the connection. Private keys travel only in PUT
// and CREDENTIAL; LIST never carries them.

// ProtocolVersion is the version of the agent protocol this package speaks.
const ProtocolVersion = 1

// MaxMessageSize bounds every message, in both directions. A real
// credential is about 3 KiB; the limits on fields, chains and entries keep
// every message that encodes below this.
const MaxMessageSize = 1 << 20

// maxEntries bounds what a Store holds and what ENTRIES carries.
const maxEntries = 64

type msgType byte

const (
	msgGet        msgType = 1
	msgPut        msgType = 2
	msgList       msgType = 3
	msgClear      msgType = 4
	msgOK         msgType = 129
	msgCredential msgType = 130
	msgEntries    msgType = 131
	msgFailure    msgType = 132
)

// FailureCode says why the agent refused a request.
type FailureCode byte

// Failure codes carried by FAILURE.
const (
	CodeNotFound           FailureCode = 1 // nothing usable is cached for the key
	CodeBadRequest         FailureCode = 2 // the request was understood but refused
	CodeUnsupportedVersion FailureCode = 3 // the agent speaks another protocol version
)

// message is any protocol message; only the fields of its type are set.
type message struct {
	typ     msgType
	key     Key           // GET, PUT
	cred    rawCredential // PUT, CREDENTIAL
	entries []rawEntry    // ENTRIES
	code    FailureCode   // FAILURE
	text    string        // FAILURE
}

type rawEntry struct {
	key  Key
	leaf []byte
}

// ProtocolError reports a malformed or oversized message.
type ProtocolError struct {
	Reason string
}

func (e *ProtocolError) Error() string { return "cache: protocol error: " + e.Reason }

func protoErr(format string, args ...any) error {
	return &ProtocolError{Reason: fmt.Sprintf(format, args...)}
}

// AgentError is a FAILURE reply.
type AgentError struct {
	Code    FailureCode
	Message string
}

func (e *AgentError) Error() string {
	return "cache: the agent refused: " + strings.TrimPrefix(e.Message, "cache: ")
}

// Is makes errors.Is(err, ErrNotFound) true for a not-found reply.
func (e *AgentError) Is(target error) bool {
	return target == ErrNotFound && e.Code == CodeNotFound
}

// ErrNotFound means nothing usable is cached for the key.
var ErrNotFound = errors.New("cache: no credential cached for this instance")

// errVersion is returned by decodeBody for a message of another version,
// so that the server can answer it before hanging up.
var errVersion = protoErr("unsupported protocol version")

// writeMessage frames and writes m.
func writeMessage(w io.Writer, m *message) error {
	body, err := m.encode()
	if err != nil {
		return err
	}
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(body)), uint32(len(body)))
	_, err = w.Write(append(frame, body...))
	return err
}

// readMessage reads and decodes one framed message. The length is checked
// before anything is allocated.
func readMessage(r io.Reader) (*message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxMessageSize {
		return nil, protoErr("message of %d bytes is larger than %d", n, MaxMessageSize)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return decodeBody(body)
}

func (m *message) encode() ([]byte, error) {
	e := &encoder{b: []byte{ProtocolVersion, byte(m.typ)}}
	switch m.typ {
	case msgGet:
		e.key(m.key)
	case msgPut:
		e.key(m.key)
		e.credential(m.cred)
	case msgList, msgClear, msgOK:
	case msgCredential:
		e.credential(m.cred)
	case msgEntries:
		if len(m.entries) > maxEntries {
			return nil, protoErr("%d entries, more than %d", len(m.entries), maxEntries)
		}
		e.uint16(len(m.entries))
		for _, en := range m.entries {
			e.key(en.key)
			e.bytes(en.leaf, maxCertBytes)
		}
	case msgFailure:
		e.b = append(e.b, byte(m.code))
		e.bytes([]byte(m.text), maxField)
	default:
		return nil, protoErr("unknown message type %d", m.typ)
	}
	if e.err != nil {
		return nil, e.err
	}
	if len(e.b) > MaxMessageSize {
		return nil, protoErr("message of %d bytes is larger than %d", len(e.b), MaxMessageSize)
	}
	return e.b, nil
}

// decodeBody parses a message body. It accepts exactly the bytes encode
// produces: every length is checked and nothing may follow the last field.
func decodeBody(b []byte) (*message, error) {
	if len(b) < 2 {
		return nil, protoErr("message of %d bytes is too short", len(b))
	}
	if b[0] != ProtocolVersion {
		return nil, errVersion
	}
	d := &decoder{b: b[2:]}
	m := &message{typ: msgType(b[1])}
	switch m.typ {
	case msgGet:
		m.key = d.key()
	case msgPut:
		m.key = d.key()
		m.cred = d.credential()
	case msgList, msgClear, msgOK:
	case msgCredential:
		m.cred = d.credential()
	case msgEntries:
		n := d.uint16()
		if d.err == nil && n > maxEntries {
			d.fail("%d entries, more than %d", n, maxEntries)
		}
		for i := 0; i < n && d.err == nil; i++ {
			m.entries = append(m.entries, rawEntry{key: d.key(), leaf: d.bytes(maxCertBytes)})
		}
	case msgFailure:
		m.code = FailureCode(d.byte())
		m.text = string(d.bytes(maxField))
	default:
		return nil, protoErr("unknown message type %d", m.typ)
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, protoErr("%d bytes after the last field", len(d.b))
	}
	return m, nil
}

type encoder struct {
	b   []byte
	err error
}

func (e *encoder) uint16(n int) { e.b = binary.BigEndian.AppendUint16(e.b, uint16(n)) }

func (e *encoder) bytes(p []byte, limit int) {
	if len(p) > limit && e.err == nil {
		e.err = protoErr("field of %d bytes is longer than %d", len(p), limit)
	}
	e.uint16(len(p))
	e.b = append(e.b, p...)
}

func (e *encoder) key(k Key) {
	e.bytes([]byte(k.Fulcio), maxField)
	e.bytes([]byte(k.Issuer), maxField)
	e.bytes([]byte(k.ClientID), maxField)
}

func (e *encoder) credential(c rawCredential) {
	e.bytes(c.key, maxKeyBytes)
	if (len(c.chain) == 0 || len(c.chain) > maxChain) && e.err == nil {
		e.err = protoErr("%d certificates, want 1 to %d", len(c.chain), maxChain)
	}
	e.b = append(e.b, byte(len(c.chain)))
	for _, der := range c.chain {
		e.bytes(der, maxCertBytes)
	}
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = protoErr(format, args...)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail("message ends early")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uint16() int {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 2 {
		d.fail("message ends early")
		return 0
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	return int(v)
}

// bytes returns a copy, so that nothing aliases the read buffer.
func (d *decoder) bytes(limit int) []byte {
	n := d.uint16()
	if d.err != nil {
		return nil
	}
	if n > limit {
		d.fail("field of %d bytes is longer than %d", n, limit)
		return nil
	}
	if len(d.b) < n {
		d.fail("field of %d bytes runs past the end of the message", n)
		return nil
	}
	v := append([]byte{}, d.b[:n]...)
	d.b = d.b[n:]
	return v
}

func (d *decoder) key() Key {
	return Key{Fulcio: string(d.bytes(maxField)), Issuer: string(d.bytes(maxField)), ClientID: string(d.bytes(maxField))}
}

func (d *decoder) credential() rawCredential {
	c := rawCredential{key: d.bytes(maxKeyBytes)}
	n := int(d.byte())
	if d.err == nil && (n == 0 || n > maxChain) {
		d.fail("%d certificates, want 1 to %d", n, maxChain)
	}
	for i := 0; i < n && d.err == nil; i++ {
		c.chain = append(c.chain, d.bytes(maxCertBytes))
	}
	return c
}
