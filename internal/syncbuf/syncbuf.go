// Package syncbuf serialises writes from several goroutines: Writer wraps
// any io.Writer (a terminal that a login flow, a browser launcher and
// their output copiers share), and Buffer is a bytes.Buffer that one
// goroutine can write while another reads it (tests collect a process's
// output with it as it runs).
package syncbuf

import (
	"bytes"
	"io"
	"sync"
)

// Writer makes W safe for concurrent Write: each Write reaches W whole.
type Writer struct {
	mu sync.Mutex
	W  io.Writer
}

// NewWriter returns w wrapped, or w itself when it is already a *Writer.
func NewWriter(w io.Writer) *Writer {
	if sw, ok := w.(*Writer); ok {
		return sw
	}
	return &Writer{W: w}
}

func (s *Writer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.W.Write(p)
}

// Buffer is safe for concurrent Write and String.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
