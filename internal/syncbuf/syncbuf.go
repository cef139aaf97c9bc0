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

// Writer makes a writer safe for concurrent Write: each Write reaches it
// whole. The writer it forwards to can be swapped (Swap) while others
// write.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter returns w wrapped, or w itself when it is already a *Writer.
func NewWriter(w io.Writer) *Writer {
	if sw, ok := w.(*Writer); ok {
		return sw
	}
	return &Writer{w: w}
}

func (s *Writer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Target returns the writer s forwards to.
func (s *Writer) Target() io.Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w
}

// Swap makes s forward to w from now on.
func (s *Writer) Swap(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w = w
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
