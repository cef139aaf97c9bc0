package cache

import (
	"crypto/x509"
	"fmt"
	"io"
)

// Client speaks the agent protocol over a connection. Requests are
// answered in order; a Client is not safe for concurrent use.
type Client struct {
	rw io.ReadWriter
}

// NewClient returns a client for the agent at the other end of rw. The
// caller owns rw: set its deadlines, and close it (or call Close).
func NewClient(rw io.ReadWriter) *Client { return &Client{rw: rw} }

// Close closes the connection if it can be closed.
func (c *Client) Close() error {
	if cl, ok := c.rw.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

func (c *Client) call(req *message, want msgType) (*message, error) {
	if err := writeMessage(c.rw, req); err != nil {
		return nil, fmt.Errorf("cache: sending a request: %w", err)
	}
	reply, err := readMessage(c.rw)
	if err == errVersion {
		return nil, protoErr("the agent answered in another protocol version")
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("cache: reading the reply: %w", err)
	}
	if reply.typ == msgFailure {
		return nil, &AgentError{Code: reply.code, Message: reply.text}
	}
	if reply.typ != want {
		return nil, protoErr("reply of type %d to a request of type %d", reply.typ, req.typ)
	}
	return reply, nil
}

// Get asks for the credential stored under k. It returns an error
// matching ErrNotFound when the agent has none.
func (c *Client) Get(k Key) (*Credential, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	reply, err := c.call(&message{typ: msgGet, key: k}, msgCredential)
	if err != nil {
		return nil, err
	}
	return reply.cred.parse()
}

// Put stores cred under k, replacing what k held.
func (c *Client) Put(k Key, cred *Credential) error {
	if err := k.validate(); err != nil {
		return err
	}
	raw, err := cred.marshal()
	if err != nil {
		return err
	}
	_, err = c.call(&message{typ: msgPut, key: k, cred: raw}, msgOK)
	return err
}

// List describes what the agent holds, without private keys.
func (c *Client) List() ([]Entry, error) {
	reply, err := c.call(&message{typ: msgList}, msgEntries)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(reply.entries))
	for _, e := range reply.entries {
		leaf, err := x509.ParseCertificate(e.leaf)
		if err != nil {
			return nil, fmt.Errorf("cache: certificate of entry %s: %w", e.key, err)
		}
		out = append(out, Entry{Key: e.key, Leaf: leaf})
	}
	return out, nil
}

// Clear makes the agent forget every credential.
func (c *Client) Clear() error {
	_, err := c.call(&message{typ: msgClear}, msgOK)
	return err
}
